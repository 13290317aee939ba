package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.DesiredDatabase;
import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.process.Psql;
import io.pgtide.sidecar.users.UserSync;
import io.pgtide.testkit.Postgres17;
import io.pgtide.testkit.PostgresInstance;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every statement the sidecar sends ({@link SidecarSql}), its sample, health read and user sync, against a real
 * PostgreSQL 15 (Debian 12's) and a real PostgreSQL 17 (Debian 13's, {@link Postgres17}): any SQL error fails.
 */
class SidecarSqlIT {
  /** Plausible parameters for each statement that takes some, by its name in {@link SidecarSql}. */
  static final Map<String, Tuple> ARGS = Map.of(
      "command: role verifiers", Tuple.of((Object) new String[] {"postgres", "nobody"}),
      "user sync: default roles check", Tuple.of("postgres", "postgres", "postgres"));

  record Server(int port, String password, AutoCloseable instance) {
    String sql(String sql) {
      return Psql.query(port, "postgres", password, "postgres", sql);
    }
  }

  static final Map<Integer, Server> SERVERS = new TreeMap<>();
  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    PostgresInstance pg15 = PostgresInstance.start(TestDirs.create("sidecar-sql-15"));
    SERVERS.put(15, new Server(pg15.port(), pg15.password(), pg15));
    Postgres17 pg17 = Postgres17.start(TestDirs.create("sidecar-sql-17"));
    SERVERS.put(17, new Server(pg17.port(), pg17.password(), pg17));
    SERVERS.values().forEach(s -> s.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await();
    }
    for (Server s : SERVERS.values()) {
      s.instance().close();
    }
  }

  static PgCollector collector(int major) {
    Server s = SERVERS.get(major);
    return new PgCollector(vertx, new SidecarConfig(new MemberId("it", "sql", "pg" + major), "127.0.0.1", s.port(),
        "postgres", s.password(), "postgres", null, "127.0.0.1", 1, Path.of("unused"), 0, 1000, 250, 5000));
  }

  static String error(Throwable e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  @ParameterizedTest(name = "PostgreSQL {0}")
  @ValueSource(ints = {15, 17})
  void everyStatementRunsWithoutAnError(int major) throws Exception {
    PgCollector pg = collector(major);
    try {
      int version = pg.serverVersion().await();
      assertThat(version / 10000).as("server_version_num %d", version).isEqualTo(major);
      List<String> errors = new ArrayList<>();
      for (SidecarSql.Statement st : SidecarSql.all(version)) {
        // parameterless statements both ways the sidecar sends them: simple (health, commands) and prepared (sample)
        List<Future<?>> runs = new ArrayList<>();
        if (st.parameters() == 0) {
          runs.add(pg.query(st.sql()));
          runs.add(pg.query(st.sql(), Tuple.tuple()));
        } else {
          assertThat(ARGS).as("sample parameters for '%s'", st.name()).containsKey(st.name());
          assertThat(ARGS.get(st.name()).size()).as(st.name()).isEqualTo(st.parameters());
          runs.add(pg.query(st.sql(), ARGS.get(st.name())));
        }
        for (Future<?> run : runs) {
          try {
            run.await();
          } catch (Throwable e) {
            errors.add(st.name() + ": " + error(e));
          }
        }
      }
      assertThat(errors).as("statements failing on PostgreSQL %d", major).isEmpty();
      // and the sample as the sidecar takes it
      PgSample sample = pg.sample(10_000).await();
      assertThat(sample.inRecovery()).isFalse();
      assertThat(sample.currentLsn()).isPositive();
      assertThat(sample.timeline()).isEqualTo(1L);
      assertThat(sample.statementCalls()).as("pg_stat_statements read").isNotNull();
    } finally {
      pg.close().await();
    }
  }

  static double gauge(MeterRegistry r, String name, String tag, String value) {
    Gauge g = tag == null ? r.find(name).gauge() : r.find(name).tag(tag, value).gauge();
    assertThat(g).as("%s %s", name, value == null ? "" : value).isNotNull();
    return g.value();
  }

  static Double counter(MeterRegistry r, String name) {
    FunctionCounter c = r.find(name).functionCounter();
    return c == null ? null : c.count();
  }

  @ParameterizedTest(name = "PostgreSQL {0}")
  @ValueSource(ints = {15, 17})
  void theHealthReadGivesEveryFigure(int major) throws Exception {
    Server s = SERVERS.get(major);
    // the server's own counter of requested checkpoints (17: restartpoints are apart, and there are none here)
    String requested = major >= 17 ? "SELECT num_requested FROM pg_stat_checkpointer"
        : "SELECT checkpoints_req FROM pg_stat_bgwriter";
    s.sql("SELECT pg_create_physical_replication_slot('it_health', true)");
    PgCollector pg = collector(major);
    try {
      s.sql("SELECT txid_current()"); // one xid at least since the freeze
      s.sql("CHECKPOINT");
      MeterRegistry registry = new SimpleMeterRegistry();
      DatabaseHealth health = new DatabaseHealth(registry, Tags.of("member", "it"));
      assertThat(counter(registry, "pgtide_checkpoints_requested")).as("absent before the first read").isNull();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        health.read(pg).await();
        assertThat(gauge(registry, "pgtide_database_size_bytes", "datname", "postgres")).isGreaterThan(1_000_000);
        assertThat(gauge(registry, "pgtide_replication_slot_retained_bytes", "slot", "it_health"))
            .isGreaterThanOrEqualTo(0);
        assertThat(gauge(registry, "pgtide_xid_age", null, null)).isPositive();
        assertThat(gauge(registry, "pgtide_longest_transaction_seconds", null, null)).isGreaterThanOrEqualTo(0);
        assertThat(counter(registry, "pgtide_checkpoints_timed")).isNotNull();
        assertThat(counter(registry, "pgtide_checkpoints_requested")).as("the CHECKPOINT above")
            .isGreaterThanOrEqualTo(1).isEqualTo(Double.parseDouble(s.sql(requested)));
      });
    } finally {
      pg.close().await();
      s.sql("SELECT pg_drop_replication_slot('it_health')");
    }
  }

  @ParameterizedTest(name = "PostgreSQL {0}")
  @ValueSource(ints = {15, 17})
  void aFailingPartLeavesTheOthersTheirValues(int major) throws Exception {
    PgCollector pg = collector(major);
    try {
      // the other major's checkpoint statement fails here (17 has no checkpoints_timed, 15 no pg_stat_checkpointer)
      int wrongVersion = major >= 17 ? 160000 : 170000;
      MeterRegistry registry = new SimpleMeterRegistry();
      DatabaseHealth health = new DatabaseHealth(registry, Tags.of("member", "it"));
      Throwable failed = null;
      try {
        health.read(pg, wrongVersion).await();
      } catch (Throwable e) {
        failed = e;
      }
      assertThat(failed).as("the read reports its failing part").isNotNull();
      assertThat(error(failed)).contains("checkpoints").doesNotContain("database sizes").doesNotContain("xid age");
      assertThat(gauge(registry, "pgtide_database_size_bytes", "datname", "postgres")).isPositive();
      assertThat(gauge(registry, "pgtide_xid_age", null, null)).isPositive();
      assertThat(gauge(registry, "pgtide_longest_transaction_seconds", null, null)).isGreaterThanOrEqualTo(0);
      assertThat(counter(registry, "pgtide_checkpoints_timed")).as("absent, never a made-up 0").isNull();
      assertThat(counter(registry, "pgtide_checkpoints_requested")).isNull();
      // the right statements on the same instance: the counters appear, the rest stays
      health.read(pg).await();
      assertThat(counter(registry, "pgtide_checkpoints_timed")).isNotNull();
    } finally {
      pg.close().await();
    }
  }

  /** A SCRAM verifier as PostgreSQL makes one (the operator sends nothing else). */
  static String verifier(Server s, String password) {
    s.sql("CREATE ROLE it_verifier PASSWORD '" + password + "'");
    try {
      return s.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'it_verifier'");
    } finally {
      s.sql("DROP ROLE it_verifier");
    }
  }

  static DesiredRole role(String name, boolean login, boolean createdb, String validUntil, List<String> memberOf,
                          String verifier, boolean disablePassword) {
    return new DesiredRole(name, true, login, false, createdb, false, false, false, true, login ? 5 : -1, validUntil,
        memberOf, verifier, disablePassword, null);
  }

  static JsonObject sync(UserSync users, List<DesiredRole> roles, List<DesiredDatabase> dbs) {
    JsonObject result = users.apply(new CommandPayload.SyncUsers(roles, dbs, false), 60_000).await();
    assertThat(result.getJsonArray("failed")).as("failed in %s", result).isEmpty();
    return result;
  }

  /**
   * The user sync's DDL, all of it generated: create, flags, memberships, passwords, validity, drop with reassign,
   * databases (create, owner, grant, revoke) and default roles; a repeat of the last state then changes nothing, so
   * what the sync reads back agrees with what it wrote on each major (16 changed how memberships are stored).
   */
  @ParameterizedTest(name = "PostgreSQL {0}")
  @ValueSource(ints = {15, 17})
  void aUserSyncAppliesEveryKindOfChange(int major) throws Exception {
    Server s = SERVERS.get(major);
    PgCollector pg = collector(major);
    UserSync users = new UserSync(vertx, pg);
    String v1 = verifier(s, "first-secret");
    String v2 = verifier(s, "second-secret");
    try {
      JsonObject first = sync(users, List.of(
              DesiredRole.group("it_group"), DesiredRole.group("it_app_reader"), DesiredRole.group("it_app_writer"),
              role("it_alice", true, false, "2099-01-01", List.of("it_group"), v1, false),
              role("it_bob", true, false, null, List.of("it_group"), v2, false),
              role("it_carol", true, false, null, List.of(), null, false)),
          List.of(new DesiredDatabase("it_app", "it_alice", Map.of("it_bob", List.of("CONNECT", "TEMP")), true),
              new DesiredDatabase("it_other", null, Map.of("it_carol", List.of("CONNECT", "CREATE")), false)));
      assertThat(first.getInteger("writeStatements")).isPositive();
      assertThat(s.sql("SELECT count(*) FROM pg_authid WHERE rolname LIKE 'it\\_%' AND rolpassword IS NOT NULL"))
          .isEqualTo("2");
      Psql.query(s.port(), "postgres", s.password(), "it_app", "CREATE TABLE it_owned (id int)");

      List<DesiredRole> second = List.of(
          DesiredRole.group("it_group"), DesiredRole.group("it_app_reader"), DesiredRole.group("it_app_writer"),
          role("it_alice", true, true, "2099-01-01", List.of(), null, true),
          DesiredRole.absent("it_bob", "it_alice"),
          role("it_carol", true, false, null, List.of("it_group"), v2, false));
      List<DesiredDatabase> secondDbs = List.of(
          new DesiredDatabase("it_app", "it_carol", Map.of(), true),
          new DesiredDatabase("it_other", null, Map.of("it_carol", List.of("CONNECT")), false));
      sync(users, second, secondDbs);
      assertThat(s.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'it_bob'")).isEqualTo("0");
      assertThat(s.sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'it_app'"))
          .isEqualTo("it_carol");

      JsonObject third = sync(users, second, secondDbs);
      assertThat(third.getInteger("writeStatements")).as("converged: %s", third).isZero();
      assertThat(third.getJsonArray("changed")).isEmpty();
    } finally {
      pg.close().await();
    }
  }
}
