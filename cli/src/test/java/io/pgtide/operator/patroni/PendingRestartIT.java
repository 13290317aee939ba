package io.pgtide.operator.patroni;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.PatroniCluster;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.OperatorCore;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.cli.local.LocalInfrastructure;
import io.pgtide.sidecar.SidecarConfig;
import io.pgtide.sidecar.SidecarVerticle;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.TestDirs;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A parameter that needs a restart, changed on a running 3-member cluster: Patroni flags it pending, the sidecars
 * report it, and the operator restarts the replicas, switches over, and restarts the old primary, until every member
 * runs the new value.
 */
class PendingRestartIT {
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(3);
  static final String NS = "pending";
  static Vertx sidecars;
  static OperatorCore operator;
  static String key;
  static final List<String> events = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    CertificateAuthority ca = CertificateAuthority.create("pgtide-it-ca", Duration.ofDays(1));
    TlsMaterial hubTls = ca.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1));
    int hubPort = TestMachine.freePort();
    PatroniCluster cluster = pg.cluster();
    key = NS + "/" + cluster.scope();
    operator = new OperatorCore(hubTls, "127.0.0.1", hubPort,
        v -> new LocalInfrastructure(v, TestMachine.get(), NS, cluster, ca, hubPort), 3_000).start("127.0.0.1", TestMachine.freePort(), TestMachine.freePort());
    operator.failover().policy(key, new FailoverCoordinator.ClusterPolicy(5_000, 33_554_432, false));
    operator.vertx().eventBus().<JsonObject>consumer(Addresses.CLUSTER_EVENTS,
        m -> events.add(m.body().getString("reason") + ": " + m.body().getString("message")));
    sidecars = Vertx.vertx();
    Path dir = TestDirs.create("pending-restart-it");
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    for (PatroniMember m : cluster.members()) {
      MemberId id = new MemberId(NS, cluster.scope(), m.name());
      Path tls = ca.issue(id.toString(), List.of(), Duration.ofDays(1)).write(dir.resolve("tls-" + m.name()));
      sidecars.deployVerticle(new SidecarVerticle(new SidecarConfig(id, "127.0.0.1", m.pgPort(), "postgres",
          cluster.secrets().superuserPassword(), "postgres", "http://127.0.0.1:" + m.restPort(), "127.0.0.1",
          hubPort, tls, TestMachine.freePort(), 500, 250, 1000).withPatroniCredentials(cluster.restCredentials()),
          registry,
          p -> new io.pgtide.sidecar.users.UserSync(sidecars, p)::apply)).await();
    }
    await().atMost(Duration.ofSeconds(120)).until(() -> operator.state().view(key).primary().isPresent()
        && operator.state().view(key).healthyReplicas().size() == 2);
  }

  @AfterAll
  static void stop() {
    if (sidecars != null) {
      sidecars.close().await();
    }
    if (operator != null) {
      operator.close();
    }
  }

  static String show(PatroniMember m, String parameter) {
    return Psql.query(m.pgPort(), "postgres", pg.cluster().secrets().superuserPassword(), "postgres",
        "SHOW " + parameter);
  }

  static boolean pending(String member) {
    var m = operator.state().view(key).members().get(member);
    return m != null && m.report() != null && m.report().pendingRestart();
  }

  static int indexOf(String prefix) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).startsWith(prefix)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void replicasRestartFirstThenASwitchoverThenTheOldPrimary() {
    String oldPrimary = operator.state().view(key).primary().orElseThrow().id().member();
    List<String> replicas = new ArrayList<>(operator.state().view(key).healthyReplicas().stream()
        .map(m -> m.id().member()).sorted().toList());
    int before = Integer.parseInt(show(pg.cluster().members().get(0), "max_connections"));
    String after = Integer.toString(before + 50);
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.parameters = new LinkedHashMap<>();
    spec.parameters.put("max_connections", after);
    PatroniConfigController config = new PatroniConfigController(operator.vertx(), operator.state(), operator.commands(),
        operator.events(), key, () -> spec);
    config.apply().await();
    await().atMost(Duration.ofSeconds(60)).until(() -> pg.cluster().members().stream()
        .allMatch(m -> pending(m.name())));

    PendingRestartController restarts = new PendingRestartController(operator.vertx(), operator.state(),
        operator.commands(), operator.failover(), operator.events(), key);
    restarts.start(1_000);
    try {
      // a member being restarted refuses connections for a moment (psql fails): not yet done, ask again
      await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1))
          .ignoreExceptionsInstanceOf(IllegalStateException.class).until(() ->
          pg.cluster().members().stream().allMatch(m -> !pending(m.name()) && after.equals(show(m, "max_connections")))
              && restarts.last().action() == PendingRestart.Action.NONE);
    } finally {
      restarts.stop();
    }

    String newPrimary = operator.state().view(key).primary().orElseThrow().id().member();
    assertThat(newPrimary).as("the primary was switched away from, not restarted in place").isNotEqualTo(oldPrimary);
    int switchover = indexOf("RestartSwitchover");
    assertThat(switchover).as(events.toString()).isPositive();
    for (String replica : replicas) {
      assertThat(indexOf("Restarted: " + replica)).as(events.toString()).isBetween(0, switchover);
    }
    // the old primary runs the new value too (checked above): Patroni's demotion restarts PostgreSQL, which applies
    // it, so a restart of its own follows only when the flag survived the demotion
    int oldPrimaryRestart = indexOf("Restarted: " + oldPrimary);
    assertThat(oldPrimaryRestart == -1 || oldPrimaryRestart > switchover).as(events.toString()).isTrue();
    assertThat(events).noneMatch(e -> e.startsWith("RestartFailed") || e.startsWith("PrimaryLost")
        || e.startsWith("FailoverCompleted"));
  }
}
