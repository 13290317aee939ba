package io.pgtide.operator.failover;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.MemberId;
import io.pgtide.local.process.PatroniCluster;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.OperatorCore;
import io.pgtide.cli.local.LocalInfrastructure;
import io.pgtide.sidecar.SidecarConfig;
import io.pgtide.sidecar.SidecarVerticle;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Failover case 4: the operator restarts in the middle of a switchover, a hard kill and a zombie primary, while
 * Patroni, PostgreSQL and the sidecars (their own Vert.x, reconnecting to the same hub address) carry on. The new
 * operator picks up from the stream: it repeats no switchover, fences a zombie once, and ends with the endpoint on
 * the primary Patroni elected.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorRestartIT {
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(3);
  static final String NS = "restart";
  static final CertificateAuthority CA = CertificateAuthority.create("pgtide-it-ca", Duration.ofDays(1));
  static final TlsMaterial HUB_TLS = CA.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1));
  static final int HUB_PORT = TestMachine.freePort();
  static Vertx sidecars;
  static String key;
  OperatorCore operator;
  final List<String> events = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startSidecars() {
    sidecars = Vertx.vertx();
    PatroniCluster cluster = pg.cluster();
    key = NS + "/" + cluster.scope();
    Path dir = TestDirs.create("operator-restart-it");
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    for (PatroniMember m : cluster.members()) {
      MemberId id = new MemberId(NS, cluster.scope(), m.name());
      Path tls = CA.issue(id.toString(), List.of(), Duration.ofDays(1)).write(dir.resolve("tls-" + m.name()));
      sidecars.deployVerticle(new SidecarVerticle(new SidecarConfig(id, "127.0.0.1", m.pgPort(), "postgres",
          cluster.secrets().superuserPassword(), "postgres", "http://127.0.0.1:" + m.restPort(), "127.0.0.1",
          HUB_PORT, tls, TestMachine.freePort(), 500, 250, 1000).withPatroniCredentials(cluster.restCredentials()),
          registry,
          p -> new io.pgtide.sidecar.users.UserSync(sidecars, p)::apply)).await();
    }
  }

  @AfterAll
  static void stopSidecars() {
    if (sidecars != null) {
      sidecars.close().await();
    }
  }

  @AfterEach
  void stopOperator() {
    if (operator != null) {
      operator.close();
    }
  }

  /** An operator as a restart brings it up: nothing in memory, the same hub address and CA. */
  OperatorCore startOperator() {
    OperatorCore core = new OperatorCore(HUB_TLS, "127.0.0.1", HUB_PORT,
        v -> new LocalInfrastructure(v, TestMachine.get(), NS, pg.cluster(), CA, HUB_PORT), 3_000).start("127.0.0.1", TestMachine.freePort(), TestMachine.freePort());
    core.failover().policy(key, new FailoverCoordinator.ClusterPolicy(5_000, 33_554_432, false));
    core.vertx().eventBus().<JsonObject>consumer(Addresses.CLUSTER_EVENTS, m -> events.add(m.body().getString("reason")));
    return core;
  }

  OperatorCore restart(OperatorCore old) {
    old.close();
    operator = startOperator();
    return operator;
  }

  static String primary(OperatorCore core) {
    return core.state().view(key).primary().map(p -> p.id().member()).orElse(null);
  }

  static int timeline(PatroniMember m) {
    return Integer.parseInt(Psql.query(m.pgPort(), "postgres", pg.cluster().secrets().superuserPassword(),
        "postgres", "SELECT timeline_id FROM pg_control_checkpoint()"));
  }

  static int leaderTimeline() {
    PatroniMember leader = pg.cluster().leader().orElseThrow();
    Psql.query(leader.pgPort(), "postgres", pg.cluster().secrets().superuserPassword(), "postgres", "CHECKPOINT");
    return timeline(leader);
  }

  void awaitHealthy(OperatorCore core) {
    await().atMost(Duration.ofSeconds(120)).until(() -> primary(core) != null
        && core.state().view(key).healthyReplicas().size() == 2 && !core.failover().incidentOpen(key)
        && core.failover().endpoint(key).orElse("").equals(primary(core)));
  }

  @Test
  @Order(1)
  void restartDuringASwitchoverRepeatsNothing() {
    operator = startOperator();
    awaitHealthy(operator);
    String from = primary(operator);
    String to = operator.state().view(key).healthyReplicas().get(0).id().member();
    int before = leaderTimeline();
    operator.failover().switchover(key, to);
    // restart once Patroni has taken the request (the old leader is stepping down), before the operator saw the end
    await().atMost(Duration.ofSeconds(30)).until(() -> !pg.cluster().leader().map(PatroniMember::name).orElse("")
        .equals(from));
    assertThat(operator.failover().lastFailover(key)).as("the first operator has not seen it complete").isEmpty();
    OperatorCore restarted = restart(operator);
    await().atMost(Duration.ofSeconds(60)).until(() -> to.equals(primary(restarted)));
    awaitHealthy(restarted);
    assertThat(primary(restarted)).isEqualTo(to);
    assertThat(restarted.failover().endpoint(key)).contains(to);
    // the same request again (a client retrying after the restart) is a no-op, not a second switchover
    FailoverRecord again = restarted.failover().switchover(key, to).await();
    assertThat(again.from()).isEqualTo(again.to()).isEqualTo(to);
    assertThat(leaderTimeline()).as("exactly one promotion").isEqualTo(before + 1);
    assertThat(from).isNotEqualTo(to);
  }

  @Test
  @Order(2)
  void restartDuringAHardKillFailoverEndsOnTheNewPrimary() {
    operator = startOperator();
    awaitHealthy(operator);
    String lost = primary(operator);
    int before = leaderTimeline();
    PatroniMember victim = pg.cluster().member(lost);
    victim.killHard();
    await().atMost(Duration.ofSeconds(10)).until(() -> operator.failover().incidentOpen(key));
    OperatorCore restarted = restart(operator);
    await().atMost(Duration.ofSeconds(60)).until(() -> primary(restarted) != null
        && !primary(restarted).equals(lost) && restarted.failover().endpoint(key).orElse("").equals(primary(restarted)));
    assertThat(events).doesNotContain("FencingZombie");
    victim.start(); // the "pod" comes back and rejoins as a replica
    awaitHealthy(restarted);
    assertThat(leaderTimeline()).as("exactly one promotion").isEqualTo(before + 1);
  }

  @Test
  @Order(3)
  void restartDuringAZombieFencesItOnceAndAReplicaTakesWrites() {
    operator = startOperator();
    awaitHealthy(operator);
    String zombie = primary(operator);
    int before = leaderTimeline();
    PatroniMember frozen = pg.cluster().member(zombie);
    frozen.freeze();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> operator.failover().incidentOpen(key));
      OperatorCore restarted = restart(operator);
      // it knows the zombie only from the stream (a member reporting primary, unhealthy) and fences it
      await().atMost(Duration.ofSeconds(60)).until(() -> primary(restarted) != null
          && !primary(restarted).equals(zombie));
      assertThat(events.stream().filter("FencingZombie"::equals).count()).as("fenced once").isEqualTo(1);
      String newPrimary = primary(restarted);
      Psql.query(pg.cluster().member(newPrimary).pgPort(), "postgres", pg.cluster().secrets().superuserPassword(),
          "postgres", "CREATE TABLE IF NOT EXISTS after_zombie(x int); INSERT INTO after_zombie VALUES (1)");
      awaitHealthy(restarted);
      assertThat(restarted.failover().lastFailover(key).orElseThrow().kind()).isEqualTo("zombie-fenced");
      assertThat(leaderTimeline()).as("exactly one promotion").isEqualTo(before + 1);
      assertThat(restarted.state().view(key).primaries()).hasSize(1);
    } finally {
      frozen.thaw();
    }
  }
}
