package io.pgtide.common.contract;

import java.util.List;

/** The typed body of a command from the operator to one sidecar. */
public sealed interface CommandPayload {

  String type();

  /** Apply this desired state of roles and databases on the primary; {@code dryRun} only computes the diff. */
  record SyncUsers(List<DesiredRole> roles, List<DesiredDatabase> databases, boolean dryRun) implements CommandPayload {
    public SyncUsers {
      roles = roles == null ? List.of() : List.copyOf(roles);
      databases = databases == null ? List.of() : List.copyOf(databases);
    }

    public String type() {
      return "sync-users";
    }
  }

  /**
   * Read only: the SCRAM verifiers PostgreSQL stores for these roles (detail {@code verifiers}: role → verifier; a role
   * that does not exist or has no SCRAM verifier is left out). The operator checks the desired passwords against them,
   * so an unchanged password keeps its verifier and salt. Never logged.
   */
  record RoleVerifiers(List<String> roles) implements CommandPayload {
    public RoleVerifiers {
      roles = roles == null ? List.of() : List.copyOf(roles);
    }

    public String type() {
      return "role-verifiers";
    }
  }

  /** Planned switchover through the local Patroni REST API; {@code candidate} null lets Patroni choose. */
  record Switchover(String leader, String candidate) implements CommandPayload {
    public String type() {
      return "switchover";
    }
  }

  /** Failover to {@code candidate} through the local Patroni REST API (works without a healthy leader). */
  record Failover(String candidate) implements CommandPayload {
    public String type() {
      return "failover";
    }
  }

  record Checkpoint() implements CommandPayload {
    public String type() {
      return "checkpoint";
    }
  }

  /**
   * Closes the primary's current WAL segment ({@code pg_switch_wal()}), so the backups' receiver completes it and a
   * restore to the latest point has what was written up to now. Detail {@code lsn}: where the closed segment's last
   * record ends; {@code segment}: that segment's file name.
   * Refused on a member in recovery (PostgreSQL's own error).
   */
  record SwitchWal() implements CommandPayload {
    public String type() {
      return "switch-wal";
    }
  }

  /**
   * Patroni's dynamic configuration to merge ({@code PATCH /config} on the member's Patroni): timing and
   * PostgreSQL parameters; a null value removes a key. Patroni reloads what it can and flags what needs a restart.
   */
  record PatroniConfig(io.vertx.core.json.JsonObject changes) implements CommandPayload {
    public PatroniConfig {
      changes = changes == null ? new io.vertx.core.json.JsonObject() : changes.copy();
    }

    public String type() {
      return "patroni-config";
    }
  }

  /**
   * Restart PostgreSQL through the local Patroni ({@code POST /restart} with {@code restart_pending}): applies
   * parameters that need a restart, and does nothing when none is pending.
   */
  record Restart() implements CommandPayload {
    public String type() {
      return "restart";
    }
  }

  record Reload() implements CommandPayload {
    public String type() {
      return "reload";
    }
  }

  /**
   * Fence this member from inside its pod (Kubernetes: the pod shares one process namespace): SIGKILL Spilo's
   * Patroni, then every PostgreSQL process, and confirm each is gone by PID and start time. The result's detail has
   * {@code confirmed} (true only when nothing of either is left) and the processes it found. Refused
   * ({@code unsupported}) where the sidecar does not share the pod's process namespace (local mode fences itself).
   */
  record Fence() implements CommandPayload {
    public String type() {
      return "fence";
    }
  }

  /**
   * Look only: do Spilo's Patroni and PostgreSQL still run in this pod? The detail has {@code dead} (true when
   * neither runs) and the processes found. Refused ({@code unsupported}) like {@link Fence}.
   */
  record ProbeProcesses() implements CommandPayload {
    public String type() {
      return "probe-processes";
    }
  }

  /**
   * Read only: this member's recent log lines from its sidecar's bounded buffer. {@code source} {@code postgres},
   * {@code patroni} or null (both); {@code sinceMs} epoch milliseconds (0: all it holds); {@code minSeverity} null
   * for every line; at most {@code limit} lines, the newest. The detail has {@code lines} ({@link LogLine}s, oldest
   * first), {@code sources} (source → {@code ok} or why it cannot be read) and {@code dropped} (lines the buffer let
   * go to stay bounded).
   */
  record Logs(String source, long sinceMs, String minSeverity, int limit) implements CommandPayload {
    public Logs {
      if (source != null && !source.equals(LogLine.POSTGRES) && !source.equals(LogLine.PATRONI)) {
        throw new IllegalArgumentException("source must be postgres or patroni, got " + source);
      }
      if (minSeverity != null && LogLine.rank(minSeverity) < 0) {
        throw new IllegalArgumentException("unknown severity " + minSeverity);
      }
      limit = limit <= 0 ? 1000 : limit;
    }

    public String type() {
      return "logs";
    }
  }
}
