package io.pgtide.operator.patroni;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;

/**
 * The part of Patroni's dynamic configuration a cluster's spec declares: timing (ttl, loop_wait, retry_timeout,
 * maximum_lag_on_failover, synchronous_mode), PostgreSQL parameters and the backups' replication slot. Pure. Parameters declared before and no
 * longer are removed (null), so a removed line in the spec does not linger in the DCS.
 */
public final class PatroniDynamicConfig {
  private PatroniDynamicConfig() {
  }

  public static JsonObject of(PostgresClusterSpec spec, Set<String> previouslyDeclared) {
    JsonObject parameters = new JsonObject();
    previouslyDeclared.forEach(parameters::putNull);
    for (Map.Entry<String, String> e : spec.parameters.entrySet()) {
      parameters.put(e.getKey(), e.getValue());
    }
    PostgresClusterSpec.PatroniSpec p = spec.patroni;
    return new JsonObject().put("ttl", p.ttl).put("loop_wait", p.loopWait).put("retry_timeout", p.retryTimeout)
        .put("maximum_lag_on_failover", p.maximumLagOnFailover).put("synchronous_mode", p.synchronousMode)
        .put("postgresql", new JsonObject().put("parameters", parameters))
        // backups stream WAL through this slot: a Patroni permanent slot, so it exists on whichever member leads
        // after a failover (no gap in the archive) and Patroni does not drop it as unknown while Barman is away
        .put("slots", new JsonObject().put(io.pgtide.common.backup.BackupPolicy.SLOT, spec.backup == null ? null
            : new JsonObject().put("type", "physical")));
  }
}
