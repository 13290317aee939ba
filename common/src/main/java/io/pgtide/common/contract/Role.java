package io.pgtide.common.contract;

import java.util.Locale;

public enum Role {
  PRIMARY, REPLICA, UNKNOWN;

  /** Patroni 3 says {@code master}, Patroni 4 {@code primary}, pod labels {@code master}; all mean the same. */
  public static Role fromPatroni(String role) {
    if (role == null) {
      return UNKNOWN;
    }
    return switch (role.toLowerCase(Locale.ROOT)) {
      case "master", "primary", "leader", "standby_leader" -> PRIMARY;
      case "replica", "sync_standby", "standby" -> REPLICA;
      default -> UNKNOWN;
    };
  }
}
