package io.pgtide.sidecar;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The figures a DBA pages on, read more slowly than the 1 s sample (a database's size stats every file of it):
 * size per database, WAL each replication slot holds back, the oldest unfrozen transaction ID (wraparound comes at
 * about 2^31), the longest running client transaction, and checkpoints (timed and requested). Exported on the
 * sidecar's /metrics only; the operator does not act on them.
 */
final class DatabaseHealth {
  static final String SQL = """
      SELECT 'database' AS kind, datname::text AS name, pg_database_size(datname)::float8 AS value
        FROM pg_database WHERE datallowconn
      UNION ALL
      SELECT 'slot', slot_name::text, pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
          ELSE pg_current_wal_lsn() END, restart_lsn)::float8
        FROM pg_replication_slots WHERE restart_lsn IS NOT NULL
      UNION ALL
      SELECT 'xid_age', '', max(age(datfrozenxid))::float8 FROM pg_database
      UNION ALL
      SELECT 'longest_transaction', '', coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8
        FROM pg_stat_activity WHERE xact_start IS NOT NULL AND backend_type = 'client backend'
      UNION ALL
      SELECT 'checkpoints_timed', '', checkpoints_timed::float8 FROM pg_stat_bgwriter
      UNION ALL
      SELECT 'checkpoints_requested', '', checkpoints_req::float8 FROM pg_stat_bgwriter
      """;

  private final MultiGauge databaseSize;
  private final MultiGauge slotRetained;
  private final MultiGauge xidAge;
  private final MultiGauge longestTransaction;
  private final Map<String, Double> single = new ConcurrentHashMap<>();

  DatabaseHealth(MeterRegistry registry, Tags tags) {
    databaseSize = MultiGauge.builder("pgtide_database_size_bytes").description("size of each database")
        .tags(tags).register(registry);
    slotRetained = MultiGauge.builder("pgtide_replication_slot_retained_bytes")
        .description("WAL each replication slot keeps from being removed").tags(tags).register(registry);
    // absent until the first read (never NaN)
    xidAge = MultiGauge.builder("pgtide_xid_age")
        .description("age of the oldest unfrozen transaction ID of any database (wraparound at about 2.1e9)")
        .tags(tags).register(registry);
    longestTransaction = MultiGauge.builder("pgtide_longest_transaction_seconds")
        .description("how long the oldest open client transaction has run (0 when none)").tags(tags)
        .register(registry);
    FunctionCounter.builder("pgtide_checkpoints_timed", single, m -> m.getOrDefault("checkpoints_timed", 0.0))
        .description("checkpoints started by checkpoint_timeout").tags(tags).register(registry);
    FunctionCounter.builder("pgtide_checkpoints_requested", single, m -> m.getOrDefault("checkpoints_requested", 0.0))
        .description("checkpoints requested (max_wal_size reached, CHECKPOINT, shutdown)").tags(tags).register(registry);
  }

  /** One read; a failed one leaves the last values (the 1 s sample reports PostgreSQL's health). */
  Future<Void> read(PgCollector pg) {
    return pg.query(SQL).map(rows -> {
      List<MultiGauge.Row<?>> databases = new ArrayList<>();
      List<MultiGauge.Row<?>> slots = new ArrayList<>();
      for (Row r : rows) {
        Double value = r.getDouble("value");
        if (value == null) {
          continue; // a slot a replica has not replayed up to yet
        }
        switch (r.getString("kind")) {
          case "database" -> databases.add(MultiGauge.Row.of(Tags.of("datname", r.getString("name")), value));
          case "slot" -> slots.add(MultiGauge.Row.of(Tags.of("slot", r.getString("name")), value));
          default -> single.put(r.getString("kind"), value);
        }
      }
      databaseSize.register(databases, true);
      slotRetained.register(slots, true);
      xidAge.register(one(single.get("xid_age")), true);
      longestTransaction.register(one(single.get("longest_transaction")), true);
      return null;
    });
  }

  private static List<MultiGauge.Row<?>> one(Double value) {
    return value == null ? List.of() : List.of(MultiGauge.Row.of(Tags.empty(), value));
  }
}
