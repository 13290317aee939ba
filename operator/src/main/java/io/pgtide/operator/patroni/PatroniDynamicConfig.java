package io.pgtide.operator.patroni;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;

/**
 * The part of Patroni's dynamic configuration a cluster's spec declares: timing (ttl, loop_wait, retry_timeout,
 * maximum_lag_on_failover, synchronous_mode), PostgreSQL parameters, pg_rewind and slots (always on), the backups' replication slot and the slots of
 * the standby clusters that follow it. Never {@code standby_cluster}: Spilo sets it at a standby's bootstrap, and only
 * a promotion ({@link #promotion}) removes it. Pure. Parameters declared before and no
 * longer are removed (null), so a removed line in the spec does not linger in the DCS.
 */
public final class PatroniDynamicConfig {
  private PatroniDynamicConfig() {
  }

  public static JsonObject of(PostgresClusterSpec spec, Set<String> previouslyDeclared) {
    return of(spec, previouslyDeclared, java.util.List.of(), Set.of());
  }

  /**
   * The same, with a permanent physical slot for each standby cluster that follows this one ({@code standbySlots}):
   * a standby leader streams through it from whichever member leads here, so a failover or switchover of the
   * source does not leave it without its WAL. Slots of standbys gone since ({@code previousStandbySlots} not in
   * {@code standbySlots}) are removed (null), and Patroni drops them.
   */
  public static JsonObject of(PostgresClusterSpec spec, Set<String> previouslyDeclared,
                              java.util.List<String> standbySlots, Set<String> previousStandbySlots) {
    JsonObject parameters = new JsonObject();
    previouslyDeclared.forEach(parameters::putNull);
    for (Map.Entry<String, String> e : spec.parameters.entrySet()) {
      parameters.put(e.getKey(), e.getValue());
    }
    PostgresClusterSpec.PatroniSpec p = spec.patroni;
    return new JsonObject().put("ttl", p.ttl).put("loop_wait", p.loopWait).put("retry_timeout", p.retryTimeout)
        .put("maximum_lag_on_failover", p.maximumLagOnFailover).put("synchronous_mode", p.synchronousMode)
        // a former primary rejoins with pg_rewind, and members stream through slots: what pgtide's failover counts
        // on, so declared rather than left to Spilo's template. A restored cluster or an S3 standby never reads that
        // template (Patroni adopts a data directory and takes no bootstrap.dcs), and Patroni's own default is no
        // rewind: its old primary could not rejoin after the first failover
        .put("postgresql", new JsonObject().put("use_pg_rewind", true).put("use_slots", true)
            .put("parameters", parameters))
        // backups stream WAL through this slot: a Patroni permanent slot, so it exists on whichever member leads
        // after a failover (no gap in the archive) and Patroni does not drop it as unknown while Barman is away
        .put("slots", slots(spec, standbySlots, previousStandbySlots));
  }

  private static JsonObject slots(PostgresClusterSpec spec, java.util.List<String> standbySlots,
                                  Set<String> previousStandbySlots) {
    JsonObject slots = new JsonObject();
    previousStandbySlots.forEach(slots::putNull);
    standbySlots.forEach(slot -> slots.put(slot, new JsonObject().put("type", "physical")));
    return slots.put(io.pgtide.common.backup.BackupPolicy.SLOT, spec.backup == null ? null
        : new JsonObject().put("type", "physical"));
  }

  /**
   * The standby slots Patroni's configuration ({@code config}, as PATCH /config answers it) still holds that are not
   * {@code wanted}: left by a standby deleted while no operator ran (a new operator knows only what it declared
   * itself). They keep WAL on the source forever, so they are removed at the next apply. An unreadable answer: none.
   */
  public static java.util.Set<String> staleStandbySlots(String config, java.util.List<String> wanted) {
    java.util.Set<String> stale = new java.util.TreeSet<>();
    try {
      JsonObject slots = new JsonObject(config).getJsonObject("slots");
      if (slots != null) {
        slots.fieldNames().stream().filter(n -> n.startsWith(io.pgtide.operator.k8s.model.StandbyModel.SLOT_PREFIX) && !wanted.contains(n))
            .forEach(stale::add);
      }
    } catch (RuntimeException e) {
      // not JSON, or slots not an object: nothing known to be stale
    }
    return stale;
  }

  /** What promotes a standby cluster: Patroni's {@code standby_cluster} removed from its dynamic configuration. */
  public static JsonObject promotion() {
    return new JsonObject().putNull("standby_cluster");
  }
}
