package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.local.process.Signal;
import io.pgtide.local.process.Signals;
import io.pgtide.operator.HubFixture;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.users.UserSyncController;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every piece of database work a sidecar does is bounded: a lock someone else holds fails a user sync after the
 * lock timeout (and the next sync runs), a frozen backend costs one sample, not the sidecar's reporting.
 */
class SidecarBoundsIT {
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(1);
  static HubFixture hub;
  static PatroniMember primary;
  static MemberId id;
  static final PostgresClusterSpec spec = new PostgresClusterSpec();
  static UserSyncController users;
  static final List<InstanceReport> reports = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    hub = new HubFixture(TestDirs.create("sidecar-bounds-it"));
    primary = pg.cluster().members().get(0);
    id = new MemberId("it", pg.cluster().scope(), primary.name());
    hub.state.onChange((key, member) -> {
      if (member.report() != null) {
        reports.add(member.report());
      }
    });
    hub.deploy(hub.config(id, primary.pgPort(), pg.cluster().secrets().superuserPassword(),
        "http://127.0.0.1:" + primary.restPort()).withPatroniCredentials(pg.cluster().restCredentials()));
    await().atMost(Duration.ofSeconds(30)).until(() -> hub.state.view(id.clusterKey()).primary().isPresent());
    users = new UserSyncController(hub.vertx, hub.state, hub.commands, new ClusterEvents(hub.vertx),
        id.clusterKey(), () -> spec, u -> "bounded-password-1",
        new io.pgtide.operator.users.ScramVerifier(),
        new io.pgtide.operator.metrics.OperatorMetrics(hub.registry));
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  static String sql(String sql) {
    return Psql.query(primary.pgPort(), "postgres", pg.cluster().secrets().superuserPassword(), "postgres", sql);
  }

  static long lastSeq() {
    return hub.state.view(id.clusterKey()).members().get(id.member()).report().seq();
  }

  @Test
  void aLockOnPgAuthidFailsTheSyncAfterTheLockTimeoutAndTheNextSyncRuns() {
    PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
    u.name = "locked_out";
    spec.users = new ArrayList<>(List.of(u));
    PgConnection holder = PgConnection.connect(hub.vertx, new PgConnectOptions().setHost("127.0.0.1")
        .setPort(primary.pgPort()).setUser("postgres").setDatabase("postgres")
        .setPassword(pg.cluster().secrets().superuserPassword())).await();
    try {
      // SHARE blocks CREATE/ALTER ROLE (ROW EXCLUSIVE) and nothing that only reads pg_authid
      holder.query("BEGIN; LOCK TABLE pg_authid IN SHARE MODE").execute().await();
      long seqBefore = lastSeq();
      long t0 = System.nanoTime();
      JsonObject result = users.sync(false).await();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("LOCKED-SYNC-MS " + ms + " " + result.encode());
      assertThat(result.getJsonArray("failed").encode()).contains("lock timeout");
      // what the PgtideUsersNotSynced alert watches
      assertThat(hub.registry.find("pgtide_controller_errors").tag("step", "users").counter().count()).isEqualTo(1);
      assertThat(ms).isLessThan(25_000);
      // reading pg_authid (pg_stat_activity does) was never blocked: the member kept reporting, healthy
      assertThat(lastSeq()).isGreaterThan(seqBefore);
      assertThat(hub.state.view(id.clusterKey()).primary()).isPresent();
      assertThat(sql("SELECT count(*) FROM pg_roles WHERE rolname = 'locked_out'")).isEqualTo("0");
    } finally {
      holder.query("ROLLBACK").execute().await();
      holder.close().await();
    }
    JsonObject again = users.sync(false).await();
    assertThat(again.getJsonArray("failed")).isEmpty();
    assertThat(sql("SELECT count(*) FROM pg_roles WHERE rolname = 'locked_out'")).isEqualTo("1");
  }

  @Test
  void aFrozenSampleBackendCostsOneSampleNotTheReporting() {
    // the sample connection: the last statement of a primary's sample reads pg_stat_replication or
    // pg_stat_statements (they run pipelined)
    String pid = sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'pgtide-sidecar'"
        + " AND (query LIKE '%FROM pg_stat_replication%' OR query LIKE '%FROM pg_stat_statements%') LIMIT 1");
    assertThat(pid).as("the sidecar's sample backend").isNotBlank();
    long frozen = Long.parseLong(pid);
    int before = reports.size();
    assertThat(Signals.send(frozen, Signal.STOP)).isTrue();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> reports.subList(before, reports.size()).stream()
          .anyMatch(r -> !r.healthy() && r.reason() != null && r.reason().contains("did not finish within")));
      // the next samples run on a new connection: healthy again while the old backend is still frozen
      int abandoned = reports.size();
      await().atMost(Duration.ofSeconds(30)).until(() -> reports.subList(abandoned, reports.size()).stream()
          .filter(InstanceReport::healthy).count() >= 3);
      assertThat(Signals.alive(frozen)).as("the frozen backend was not what recovered").isTrue();
    } finally {
      Signals.send(frozen, Signal.CONT);
      sql("SELECT pg_terminate_backend(" + frozen + ")");
    }
  }
}
