package io.pgtide.sidecar;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The figures a DBA pages on, read more slowly than the 1 s sample (a database's size stats every file of it):
 * size per database, WAL each replication slot holds back, the oldest unfrozen transaction ID (wraparound comes at
 * about 2^31), the longest running client transaction, and checkpoints (timed and requested). Exported on the
 * sidecar's /metrics only; the operator does not act on them.
 *
 * <p>Each {@link Part} is its own statement: one that fails (a view a major renamed, a privilege) leaves the other
 * parts' values, and its own keep their last values. A part that has never been read is absent, never 0.
 */
final class DatabaseHealth {
  private static final Logger LOG = LoggerFactory.getLogger(DatabaseHealth.class);

  /** A database the sidecar's role may not size (no CONNECT, no pg_read_all_stats) is left out, not an error. */
  static final String DATABASE_SIZES = """
      SELECT datname::text AS name,
             CASE WHEN has_database_privilege(oid, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'USAGE')
                  THEN pg_database_size(oid)::float8 END AS value
        FROM pg_database WHERE datallowconn
      """;
  static final String SLOTS = """
      SELECT slot_name::text AS name, pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
          ELSE pg_current_wal_lsn() END, restart_lsn)::float8 AS value
        FROM pg_replication_slots WHERE restart_lsn IS NOT NULL
      """;
  static final String XID_AGE = "SELECT max(age(datfrozenxid))::float8 AS value FROM pg_database";
  static final String LONGEST_TRANSACTION = """
      SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8 AS value
        FROM pg_stat_activity WHERE xact_start IS NOT NULL AND backend_type = 'client backend'
      """;
  /** PostgreSQL 13 to 16: the checkpointer's counters are in pg_stat_bgwriter (a standby's restartpoints too). */
  static final String CHECKPOINTS_BGWRITER = """
      SELECT checkpoints_timed::float8 AS timed, checkpoints_req::float8 AS requested FROM pg_stat_bgwriter
      """;
  /**
   * PostgreSQL 17 on: pg_stat_bgwriter lost them to pg_stat_checkpointer, which counts a standby's restartpoints
   * apart; they are added back so the two series mean the same on every major.
   */
  static final String CHECKPOINTS_CHECKPOINTER = """
      SELECT (num_timed + restartpoints_timed)::float8 AS timed,
             (num_requested + restartpoints_req)::float8 AS requested
        FROM pg_stat_checkpointer
      """;
  /** The first server_version_num with pg_stat_checkpointer. */
  static final int CHECKPOINTER_SINCE = 170000;

  /** The independent parts of one read, each with its statement for a server version. */
  enum Part {
    DATABASE_SIZES("database sizes"),
    SLOTS("replication slots"),
    XID_AGE("xid age"),
    LONGEST_TRANSACTION("longest transaction"),
    CHECKPOINTS("checkpoints");

    final String label;

    Part(String label) {
      this.label = label;
    }

    /** The statement for a server of {@code serverVersionNum} (PostgreSQL's server_version_num, e.g. 170012). */
    String sql(int serverVersionNum) {
      return switch (this) {
        case DATABASE_SIZES -> DatabaseHealth.DATABASE_SIZES;
        case SLOTS -> DatabaseHealth.SLOTS;
        case XID_AGE -> DatabaseHealth.XID_AGE;
        case LONGEST_TRANSACTION -> DatabaseHealth.LONGEST_TRANSACTION;
        case CHECKPOINTS -> serverVersionNum >= CHECKPOINTER_SINCE ? CHECKPOINTS_CHECKPOINTER : CHECKPOINTS_BGWRITER;
      };
    }
  }

  private final MeterRegistry registry;
  private final Tags tags;
  private final MultiGauge databaseSize;
  private final MultiGauge slotRetained;
  private final MultiGauge xidAge;
  private final MultiGauge longestTransaction;
  private final Map<String, Double> checkpoints = new ConcurrentHashMap<>();
  /** The reason each failing part failed, so a part that keeps failing is logged once, not every read. */
  private final Map<Part, String> failing = new ConcurrentHashMap<>();

  DatabaseHealth(MeterRegistry registry, Tags tags) {
    this.registry = registry;
    this.tags = tags;
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
  }

  /**
   * One read, every part on the sample connection at once; the statements are chosen by the server's version.
   * Fails when any part failed (naming them), after the parts that succeeded have published their values.
   */
  Future<Void> read(PgCollector pg) {
    return pg.serverVersion().compose(version -> read(pg, version));
  }

  /** The same with the statements of {@code serverVersionNum}. */
  Future<Void> read(PgCollector pg, int serverVersionNum) {
    List<Future<RowSet<Row>>> parts = new ArrayList<>();
    for (Part part : Part.values()) {
      parts.add(pg.query(part.sql(serverVersionNum)).andThen(ar -> publish(part, ar)));
    }
    return Future.join(parts).<Void>mapEmpty().recover(e -> {
      List<String> failed = new ArrayList<>();
      for (int i = 0; i < parts.size(); i++) {
        if (parts.get(i).failed()) {
          failed.add(Part.values()[i].label + ": " + parts.get(i).cause().getMessage());
        }
      }
      return Future.failedFuture(new IllegalStateException("health read failed for " + String.join("; ", failed)));
    });
  }

  private void publish(Part part, AsyncResult<RowSet<Row>> ar) {
    if (ar.failed()) {
      String reason = String.valueOf(ar.cause().getMessage());
      if (!reason.equals(failing.put(part, reason))) {
        LOG.warn("health read: {} failed (its figures keep their last values until it reads again): {}",
            part.label, reason);
      }
      return;
    }
    if (failing.remove(part) != null) {
      LOG.info("health read: {} reads again", part.label);
    }
    RowSet<Row> rows = ar.result();
    switch (part) {
      case DATABASE_SIZES -> databaseSize.register(named(rows, "datname"), true);
      case SLOTS -> slotRetained.register(named(rows, "slot"), true);
      case XID_AGE -> xidAge.register(one(rows.iterator().next().getDouble("value")), true);
      case LONGEST_TRANSACTION -> longestTransaction.register(one(rows.iterator().next().getDouble("value")), true);
      case CHECKPOINTS -> {
        Row r = rows.iterator().next();
        counter("pgtide_checkpoints_timed", "checkpoints (restartpoints on a standby) started by checkpoint_timeout",
            "timed", r.getDouble("timed"));
        counter("pgtide_checkpoints_requested",
            "checkpoints (restartpoints on a standby) requested (max_wal_size reached, CHECKPOINT, shutdown)",
            "requested", r.getDouble("requested"));
      }
    }
  }

  /** One row per name; a row without a value (a slot a replica has not replayed up to, a database gone) is left out. */
  private static List<MultiGauge.Row<?>> named(RowSet<Row> rows, String tag) {
    List<MultiGauge.Row<?>> out = new ArrayList<>();
    for (Row r : rows) {
      Double value = r.getDouble("value");
      if (value != null) {
        out.add(MultiGauge.Row.of(Tags.of(tag, r.getString("name")), value));
      }
    }
    return out;
  }

  /** A counter exists from its first known value on (absent before, never a made-up 0). */
  private void counter(String name, String help, String key, Double value) {
    if (value == null) {
      return;
    }
    if (checkpoints.put(key, value) == null) {
      FunctionCounter.builder(name, checkpoints, m -> m.get(key)).description(help).tags(tags).register(registry);
    }
  }

  private static List<MultiGauge.Row<?>> one(Double value) {
    return value == null ? List.of() : List.of(MultiGauge.Row.of(Tags.empty(), value));
  }
}
