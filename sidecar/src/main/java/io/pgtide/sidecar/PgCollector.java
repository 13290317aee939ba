package io.pgtide.sidecar;

import io.pgtide.common.contract.StandbyRow;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads PostgreSQL on one long-lived connection with prepared statements: one core query every sample, one
 * {@code pg_stat_replication} query on a primary, one {@code pg_stat_statements} query when that view exists.
 * A new connection per sample ({@link #probe()}, no login) is the health check: a frozen postmaster keeps open
 * sessions working while every new connection hangs. Each new connection first reads the server's
 * {@code server_version_num} ({@link #serverVersion()}), by which version-dependent statements are chosen.
 */
public final class PgCollector {
  static final String CORE = """
      SELECT pg_is_in_recovery() AS in_recovery,
        CASE WHEN pg_is_in_recovery() THEN NULL ELSE (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint END AS current_lsn,
        (pg_last_wal_receive_lsn() - '0/0'::pg_lsn)::bigint AS received_lsn,
        (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replayed_lsn,
        CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS replay_delay,
        CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())::bigint
             ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int::bigint
        END AS checkpoint_tli,
        (SELECT received_tli FROM pg_stat_wal_receiver)::bigint AS receiver_tli,
        (SELECT status FROM pg_stat_wal_receiver) AS receiver_status,
        d.commits, d.rollbacks, d.deadlocks, d.temp_bytes, d.blks_hit, d.blks_read,
        a.active, a.idle, a.idle_in_tx, a.total,
        current_setting('max_connections')::int AS max_connections,
        to_regclass('pg_stat_statements') IS NOT NULL AS has_statements
      FROM (SELECT sum(xact_commit)::bigint AS commits, sum(xact_rollback)::bigint AS rollbacks,
                   sum(deadlocks)::bigint AS deadlocks,
                   sum(temp_bytes)::bigint AS temp_bytes, sum(blks_hit)::bigint AS blks_hit,
                   sum(blks_read)::bigint AS blks_read FROM pg_stat_database) d,
           (SELECT count(*) FILTER (WHERE state = 'active')::int AS active,
                   count(*) FILTER (WHERE state = 'idle')::int AS idle,
                   count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS idle_in_tx,
                   count(*) FILTER (WHERE backend_type = 'client backend')::int AS total
              FROM pg_stat_activity) a
      """;
  static final String REPLICATION = """
      SELECT application_name, state, sync_state,
        extract(epoch FROM write_lag)::float8 * 1000 AS write_ms,
        extract(epoch FROM flush_lag)::float8 * 1000 AS flush_ms,
        extract(epoch FROM replay_lag)::float8 * 1000 AS replay_ms,
        COALESCE((pg_current_wal_lsn() - replay_lsn)::bigint, 0) AS distance
      FROM pg_stat_replication ORDER BY application_name
      """;
  static final String STATEMENTS = "SELECT sum(calls)::bigint AS calls, sum(total_exec_time)::float8 AS time_ms FROM pg_stat_statements";
  public static final String IN_RECOVERY = "SELECT pg_is_in_recovery()";
  static final String SERVER_VERSION = "SELECT current_setting('server_version_num')::int";

  /** Server-side bounds on every statement of every sidecar connection (startup parameters). */
  public static final long STATEMENT_TIMEOUT_MS = 30_000;
  public static final long LOCK_TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final PgConnectOptions options;
  private final long connectTimeoutMs;
  private final PostmasterProbe probe;
  private Runnable onConnectionLost = () -> { };
  private PgConnection connection;
  /** The server_version_num of {@code connection}'s server. */
  private int serverVersionNum;
  /** The connection being opened, so callers meanwhile share it instead of opening one each. */
  private Future<PgConnection> connecting;
  /** Statements this sidecar ran since the last sample; subtracted from the load it reports. */
  private int ownStatements;

  public PgCollector(Vertx vertx, SidecarConfig config) {
    this.vertx = vertx;
    this.options = new PgConnectOptions().setHost(config.pgHost()).setPort(config.pgPort())
        .setUser(config.pgUser()).setPassword(config.pgPassword()).setDatabase(config.pgDatabase())
        .setCachePreparedStatements(true).addProperty("application_name", "pgtide-sidecar")
        // every sidecar statement is bounded: a lock held by someone else (a migration locking pg_authid) or a
        // runaway query fails it with a clear error instead of leaving a sample or a user sync pending forever
        .addProperty("statement_timeout", String.valueOf(STATEMENT_TIMEOUT_MS))
        .addProperty("lock_timeout", String.valueOf(LOCK_TIMEOUT_MS));
    this.connectTimeoutMs = config.connectTimeoutMs();
    this.probe = new PostmasterProbe(vertx, config.pgHost(), config.pgPort(), connectTimeoutMs);
  }

  /**
   * One sample: reconnects on demand; a failure carries the reason PostgreSQL or the network gave. A sample not done
   * by {@code deadlineMs} fails and its connection is dropped: a frozen backend (or a network that stopped answering)
   * gets no statement_timeout, and the next sample starts on a new connection.
   */
  public Future<PgSample> sample(long deadlineMs) {
    return Deadline.within(vertx, sample(), deadlineMs, () -> new IllegalStateException(
        "the sample did not finish within " + deadlineMs + " ms; reconnecting"), this::dropConnection);
  }

  private Future<PgSample> sample() {
    long started = System.nanoTime();
    return connection()
        .compose(conn -> conn.preparedQuery(CORE).execute().compose(core -> {
          Row row = core.iterator().next();
          boolean inRecovery = row.getBoolean("in_recovery");
          Future<List<StandbyRow>> standbys = inRecovery ? Future.succeededFuture(List.of())
              : conn.preparedQuery(REPLICATION).execute().map(PgCollector::standbys);
          Future<Row> statements = Boolean.TRUE.equals(row.getBoolean("has_statements"))
              ? conn.preparedQuery(STATEMENTS).execute().map(rs -> rs.iterator().next())
              : Future.succeededFuture(null);
          return Future.all(standbys, statements).map(v -> {
            ownStatements += 1 + (inRecovery ? 0 : 1) + (statements.result() == null ? 0 : 1);
            int own = ownStatements;
            ownStatements = 0;
            return toSample(started, row, standbys.result(), statements.result(), own);
          });
        }))
        .onFailure(e -> dropConnection());
  }

  /** Called when PostgreSQL closes the sample connection (a restart, a demotion, a crash), not when we drop it. */
  public void onConnectionLost(Runnable handler) {
    onConnectionLost = handler;
  }

  /** The PID of the backend serving the sample connection, null while there is none. */
  public Integer backendPid() {
    PgConnection c = connection;
    return c == null ? null : c.processId();
  }

  /** The sample connection is open. */
  public boolean connected() {
    return connection != null;
  }

  /** Cheap role check for the fast role watch, on the same connection. */
  public Future<Boolean> inRecovery() {
    ownStatements++;
    return connection().compose(conn -> conn.preparedQuery(IN_RECOVERY).execute())
        .map(rs -> rs.iterator().next().getBoolean(0))
        .onFailure(e -> dropConnection());
  }

  /** The server_version_num (e.g. 170012) of the server the sample connection is on; read once per connection. */
  public Future<Integer> serverVersion() {
    return connection().map(conn -> serverVersionNum);
  }

  /** One more statement on the sample connection (e.g. {@link DatabaseHealth}'s slower reading). */
  public Future<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> query(String sql) {
    ownStatements++;
    return connection().compose(conn -> conn.query(sql).execute());
  }

  /** A statement with parameters on the sample connection. */
  public Future<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> query(String sql, io.vertx.sqlclient.Tuple args) {
    ownStatements++;
    return connection().compose(conn -> conn.preparedQuery(sql).execute(args));
  }

  /** Statements the sidecar ran elsewhere (the custom queries), left out of the load it reports like its own. */
  public void ownStatements(int count) {
    ownStatements += count;
  }

  public Future<Void> execute(String sql) {
    ownStatements++;
    return connection().compose(conn -> conn.query(sql).execute()).mapEmpty();
  }

  /** A new connection answered within the connect timeout ({@link PostmasterProbe}); fails on a frozen postmaster. */
  public Future<Void> probe() {
    return probe.check();
  }

  /**
   * Connects, failing after the connect timeout: a frozen postmaster accepts the TCP connection and then never
   * answers. A connection that completes after we gave up is closed.
   */
  public Future<PgConnection> connectWithin() {
    return connectWithin(options);
  }

  /** The same, to another database of this instance. */
  public Future<PgConnection> connectWithin(String database) {
    return connectWithin(new PgConnectOptions(options).setDatabase(database));
  }

  /** The same with other options (a connection of its own, e.g. the custom queries' with their statement_timeout). */
  public Future<PgConnection> connectWithin(PgConnectOptions options) {
    io.vertx.core.Promise<PgConnection> promise = io.vertx.core.Promise.promise();
    long timer = vertx.setTimer(connectTimeoutMs, t -> promise.tryFail(
        "no new connection within " + connectTimeoutMs + " ms (PostgreSQL is not accepting connections)"));
    PgConnection.connect(vertx, options).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded() && !promise.tryComplete(ar.result())) {
        ar.result().close();
      } else if (ar.failed()) {
        promise.tryFail(ar.cause());
      }
    });
    return promise.future();
  }

  public PgConnectOptions options() {
    return options;
  }

  private Future<PgConnection> connection() {
    if (connection != null) {
      return Future.succeededFuture(connection);
    }
    if (connecting != null) {
      return connecting;
    }
    io.vertx.core.Promise<PgConnection> promise = io.vertx.core.Promise.promise();
    Future<PgConnection> mine = promise.future();
    connecting = mine;
    connectWithin().compose(conn -> readVersion(conn)
            .onFailure(e -> conn.close())
            .map(version -> {
              if (connecting != mine) { // dropped meanwhile (a sample's deadline): the next caller opens anew
                conn.close();
                throw new IllegalStateException("the connection was given up while it was being opened");
              }
              serverVersionNum = version;
              connection = conn;
              conn.closeHandler(v -> {
                if (connection == conn) {
                  connection = null;
                  onConnectionLost.run();
                }
              });
              return conn;
            }))
        .onComplete(ar -> {
          if (connecting == mine) {
            connecting = null;
          }
          promise.handle(ar);
        });
    return mine;
  }

  /** Bounded like the connect: a backend that froze right after the login would otherwise hold it forever. */
  private Future<Integer> readVersion(PgConnection conn) {
    ownStatements++;
    return Deadline.within(vertx, conn.query(SERVER_VERSION).execute().map(rs -> rs.iterator().next().getInteger(0)),
        connectTimeoutMs, () -> new IllegalStateException("no answer to the first statement within "
            + connectTimeoutMs + " ms"), conn::close);
  }

  private void dropConnection() {
    PgConnection conn = connection;
    connection = null;
    connecting = null;
    if (conn != null) {
      conn.close();
    }
  }

  public Future<Void> close() {
    PgConnection conn = connection;
    connection = null;
    connecting = null;
    return Future.join(conn == null ? Future.succeededFuture() : conn.close(), probe.close()).mapEmpty();
  }

  private static List<StandbyRow> standbys(RowSet<Row> rows) {
    List<StandbyRow> out = new ArrayList<>();
    for (Row r : rows) {
      out.add(new StandbyRow(r.getString("application_name"), r.getString("state"), r.getString("sync_state"),
          r.getDouble("write_ms"), r.getDouble("flush_ms"), r.getDouble("replay_ms"), r.getLong("distance")));
    }
    return out;
  }

  private static PgSample toSample(long started, Row r, List<StandbyRow> standbys, Row statements, int queries) {
    boolean inRecovery = r.getBoolean("in_recovery");
    Long receiverTli = r.getLong("receiver_tli");
    Long timeline = inRecovery && receiverTli != null ? receiverTli : r.getLong("checkpoint_tli");
    return new PgSample(started, inRecovery, timeline, r.getLong("current_lsn"), r.getLong("received_lsn"),
        r.getLong("replayed_lsn"), r.getDouble("replay_delay"), r.getString("receiver_status"),
        orZero(r.getLong("commits")), orZero(r.getLong("rollbacks")), orZero(r.getLong("deadlocks")), orZero(r.getLong("temp_bytes")),
        orZero(r.getLong("blks_hit")), orZero(r.getLong("blks_read")), r.getInteger("active"), r.getInteger("idle"),
        r.getInteger("idle_in_tx"), r.getInteger("total"), r.getInteger("max_connections"), standbys,
        statements == null ? null : statements.getLong("calls"),
        statements == null ? null : statements.getDouble("time_ms"), queries);
  }

  private static long orZero(Long value) {
    return value == null ? 0 : value;
  }
}
