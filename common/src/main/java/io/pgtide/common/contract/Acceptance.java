package io.pgtide.common.contract;

/**
 * How the postmaster answered the sidecar's newest connection: what tells a frozen primary (a zombie, to be fenced)
 * from one that is down or restarting (Patroni's to bring back; fencing it would turn a restart into a failover).
 */
public enum Acceptance {
  /** A backend answered and logins work. */
  ACCEPTING,
  /**
   * A backend answered, but logins are refused with SQLSTATE 57P03 (cannot connect now): startup, crash recovery or
   * a shutdown is under way.
   */
  STARTING_UP,
  /** Nothing listens (connection refused, no socket) or the connection was closed unanswered: it is down. */
  REFUSED,
  /** The connection was taken but never answered within the timeout: the postmaster is alive and frozen. */
  HUNG,
  /** Not reported (a sidecar older than schema 1.1); treated as it was before: possibly frozen. */
  UNKNOWN;

  /** Could the member be a zombie: alive but not serving? Only then may fencing help. */
  public boolean mayBeFrozen() {
    return this == HUNG || this == UNKNOWN;
  }
}
