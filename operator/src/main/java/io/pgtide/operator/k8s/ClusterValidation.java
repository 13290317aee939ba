package io.pgtide.operator.k8s;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.List;

/**
 * The schema's rules checked again by the operator, as a second line behind the API server's validation (a CRD
 * installed without validation, or an old API server, must not get a broken cluster). Pure.
 */
public final class ClusterValidation {
  /** The most members a cluster may have (the CRD's maximum for replicas and autoscaling.maxReplicas). */
  public static final int MAX_MEMBERS = 32;

  private ClusterValidation() {
  }

  /** The first problem found, or null. */
  public static String problem(PostgresClusterSpec spec) {
    if (spec == null) {
      return "spec is missing";
    }
    if (spec.postgresVersion < 13 || spec.postgresVersion > 17) {
      return "postgresVersion must be 13..17, got " + spec.postgresVersion;
    }
    if (spec.replicas < 1 || spec.replicas > MAX_MEMBERS) {
      return "replicas must be 1.." + MAX_MEMBERS + ", got " + spec.replicas;
    }
    if (spec.autoscaling != null && spec.autoscaling.maxReplicas > MAX_MEMBERS) {
      return "autoscaling.maxReplicas must be at most " + MAX_MEMBERS + ", got " + spec.autoscaling.maxReplicas;
    }
    if (spec.autoscaling != null && spec.autoscaling.minReplicas > spec.autoscaling.maxReplicas) {
      return "autoscaling.minReplicas " + spec.autoscaling.minReplicas + " exceeds maxReplicas "
          + spec.autoscaling.maxReplicas;
    }
    if (spec.patroni != null && spec.patroni.loopWait + 2L * spec.patroni.retryTimeout > spec.patroni.ttl
        && spec.patroni.ttl > 0) {
      return "patroni.ttl " + spec.patroni.ttl + " must be at least loopWait + 2 × retryTimeout ("
          + (spec.patroni.loopWait + 2 * spec.patroni.retryTimeout) + ")";
    }
    if (spec.storage != null && !"Retain".equals(spec.storage.pvcRetention)
        && !"Delete".equals(spec.storage.pvcRetention)) {
      return "storage.pvcRetention must be Retain or Delete, got " + spec.storage.pvcRetention;
    }
    if (spec.autoscaling != null && !"Retain".equals(spec.autoscaling.removedMemberStorage)
        && !"Delete".equals(spec.autoscaling.removedMemberStorage)) {
      return "autoscaling.removedMemberStorage must be Retain or Delete, got " + spec.autoscaling.removedMemberStorage;
    }
    String backup = io.pgtide.operator.backup.BackupPolicy.problem(spec.backup);
    if (backup != null) {
      return backup;
    }
    if (spec.backup != null) {
      try {
        if (new io.fabric8.kubernetes.api.model.Quantity(spec.backup.storage).getNumericalAmount().signum() <= 0) {
          return "backup.storage must be a positive size, e.g. 20Gi";
        }
      } catch (RuntimeException e) {
        return "backup.storage " + spec.backup.storage + " is not a size (e.g. 20Gi)";
      }
    }
    if (spec.bootstrap != null && spec.bootstrap.recovery != null) {
      try {
        var target = io.pgtide.operator.backup.RecoveryTarget.from(spec.bootstrap.recovery);
        if (target.time() != null && target.time().isAfter(java.time.Instant.now())) {
          return "bootstrap.recovery.targetTime " + target.time() + " is in the future";
        }
      } catch (IllegalArgumentException e) {
        return e.getMessage();
      }
    }
    String parameter = integerParameters(spec.parameters);
    if (parameter != null) {
      return parameter;
    }
    for (PostgresClusterSpec.UserSpec u : spec.users == null ? List.<PostgresClusterSpec.UserSpec>of() : spec.users) {
      if (u.name != null && bytes(u.name) > 63) {
        return "user " + u.name + " is " + bytes(u.name) + " bytes in UTF-8; PostgreSQL names are at most 63";
      }
    }
    for (PostgresClusterSpec.DatabaseSpec d : spec.databases == null ? List.<PostgresClusterSpec.DatabaseSpec>of()
        : spec.databases) {
      if (d.name != null && bytes(d.name) > 63) {
        return "database " + d.name + " is " + bytes(d.name) + " bytes in UTF-8; PostgreSQL names are at most 63";
      }
    }
    return null;
  }

  /**
   * What the Kubernetes path cannot do yet, refused rather than ignored: a cluster that asks to be restored must not
   * come up empty. Null when none applies.
   */
  public static String kubernetesProblem(PostgresClusterSpec spec) {
    if (spec != null && spec.bootstrap != null && spec.bootstrap.recovery != null) {
      return "bootstrap.recovery (restore from backups) is available in local mode only so far; on Kubernetes "
          + "nothing is created rather than an empty cluster";
    }
    return null;
  }

  /** PostgreSQL's integer parameters without units that a spec commonly sets, with the server's own bounds. */
  static final java.util.Map<String, long[]> INTEGER_PARAMETERS = java.util.Map.of(
      "max_connections", new long[] {1, 262_143}, "max_wal_senders", new long[] {0, 262_143},
      "max_replication_slots", new long[] {0, 262_143}, "max_worker_processes", new long[] {0, 262_143},
      "max_prepared_transactions", new long[] {0, 262_143},
      "max_locks_per_transaction", new long[] {10, 2_147_483_647L});

  private static String integerParameters(java.util.Map<String, String> parameters) {
    if (parameters == null) {
      return null;
    }
    for (var e : new java.util.TreeMap<>(parameters).entrySet()) {
      long[] range = INTEGER_PARAMETERS.get(e.getKey());
      if (range == null) {
        continue;
      }
      String value = e.getValue() == null ? "" : e.getValue().strip();
      long n;
      try {
        n = Long.parseLong(value);
      } catch (NumberFormatException ex) {
        return "parameters." + e.getKey() + " must be an integer, got '" + value + "'";
      }
      if (n < range[0] || n > range[1]) {
        return "parameters." + e.getKey() + " must be " + range[0] + ".." + range[1] + ", got " + value;
      }
    }
    return null;
  }

  private static int bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }
}
