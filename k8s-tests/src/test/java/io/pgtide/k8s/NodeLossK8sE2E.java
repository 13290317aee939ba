package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.testkit.SteadyWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three members on three nodes, synchronous mode, Patroni's default timing (ttl 30 s), a writer through the primary
 * Service that never stops. The primary's node is lost with nothing graceful (every process of it frozen, every
 * packet dropped): no sidecar answers there, so Patroni's ttl decides; the cluster is writable again on another
 * node with 0 acknowledged writes lost, and the old primary rejoins as a replica when its node comes back. Then the
 * primary's node is cut off from the API server and the other nodes while it runs: a writer connected straight to
 * it stops being acknowledged, the other side elects, and after the partition heals nothing acknowledged is lost.
 * {@code -Dpgtide.nodeloss.runs=N} repeats the node loss N times for the table in
 * {@code bench/results/node-loss-k8s.txt}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeLossK8sE2E {
  static final String NS = "e2e-nodes";
  static final String NAME = "spread";
  static final int TTL_S = 30;
  static final int RUNS = Integer.getInteger("pgtide.nodeloss.runs", 1);
  static final long OUTAGE_WINDOW_MS = 150_000;
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final List<long[]> LOSSES = new ArrayList<>();

  @BeforeAll
  static void createCluster() {
    k8s.freshNamespace(NS);
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %2$s, namespace: %1$s}
        spec:
          postgresVersion: 17
          replicas: 3
          storage: {size: 1Gi}
          failoverDelaySeconds: 5
          patroni: {ttl: %3$d, loopWait: 10, retryTimeout: 10, synchronousMode: true}
        """.formatted(NS, NAME, TTL_S));
    await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(2)).until(NodeLossK8sE2E::settled);
  }

  @AfterAll
  static void report() {
    if (!LOSSES.isEmpty()) {
      long[] ms = LOSSES.stream().mapToLong(r -> r[0]).sorted().toArray();
      System.out.println("K8S-NODE-LOSS runs  writable-again p50 / max (ms)  lost");
      System.out.printf("K8S-NODE-LOSS %4d  %8d / %8d  %12d%n", ms.length, ms[(ms.length - 1) / 2], ms[ms.length - 1],
          LOSSES.stream().mapToLong(r -> r[1]).sum());
    }
    for (int i = 1; i <= 3; i++) { // whatever a failed test left frozen or cut comes back before the namespace goes
      k8s.node("thaw", i);
    }
    k8s.dropNamespace(NS);
  }

  static PostgresCluster cluster() {
    return k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME).get();
  }

  static Pod pod(String name) {
    return k8s.client().pods().inNamespace(NS).withName(name).get();
  }

  /** Ready, every member ready and on a node of its own, and Patroni has a synchronous standby. */
  static boolean settled() {
    return k8s.settledInSync(NS, NAME, 3);
  }

  static String superuserPassword() {
    return k8s.superuserPassword(NS, NAME);
  }

  static String serviceIp() {
    return k8s.client().services().inNamespace(NS).withName(NAME).get().getSpec().getClusterIP();
  }

  static int nodeOf(String member) {
    return RealKubernetes.nodeNumber(pod(member).getSpec().getNodeName());
  }

  @Test
  @Order(1)
  void threeMembersLandOnThreeNodes() {
    Set<String> nodes = k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME).list().getItems().stream()
        .map(p -> p.getSpec().getNodeName()).collect(Collectors.toSet());
    assertThat(nodes).hasSize(3);
    await().atMost(Duration.ofSeconds(30)).until(() -> cluster().getStatus().conditions.stream().anyMatch(c ->
        "MembersSpread".equals(c.type) && "True".equals(c.status) && c.message.equals("3 members on 3 nodes")));
  }

  @Test
  @Order(2)
  void aRequiredRuleThatCannotBeMetLeavesAMemberPendingAndSaysWhy() {
    String name = "pinned";
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %2$s, namespace: %1$s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          scheduling:
            podAntiAffinityType: required
            nodeSelector: {kubernetes.io/hostname: pgtide-node-1}
        """.formatted(NS, name));
    try {
      await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).until(() -> {
        var cr = k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(name).get();
        return cr != null && cr.getStatus() != null && cr.getStatus().conditions.stream().anyMatch(c ->
            "MembersSpread".equals(c.type) && "False".equals(c.status) && "Unschedulable".equals(c.reason)
                && c.message.contains(name + "-1:"));
      });
      Pod second = pod(name + "-1");
      assertThat(second.getStatus().getPhase()).isEqualTo("Pending");
      assertThat(second.getSpec().getNodeName()).isNull();
      assertThat(pod(name + "-0").getSpec().getNodeName()).isEqualTo("pgtide-node-1");
    } finally {
      k8s.kubectl("-n", NS, "delete", "postgrescluster", name, "--wait=true", "--timeout=120s");
    }
  }

  @Test
  @Order(3)
  void thePrimarysNodeLostIsReplacedByPatroniWithNothingAcknowledgedLostAndRejoinsWhenBack() {
    for (int run = 0; run < RUNS; run++) {
      await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(2)).until(NodeLossK8sE2E::settled);
      String primary = cluster().getStatus().primary;
      int node = nodeOf(primary);
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
        ServiceSql.of(k8s, NS, NAME, "postgres", superuserPassword()).exec("SELECT 1");
        return true;
      });
      try (SteadyWriter w = SteadyWriter.overSsl(serviceIp(), 5432, "postgres", superuserPassword())) {
        await().atMost(Duration.ofSeconds(30)).until(() -> w.acknowledgedCount() > 50);
        long t0 = System.currentTimeMillis();
        k8s.node("freeze", node);
        try {
          await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).until(() ->
              !primary.equals(cluster().getStatus().primary)
                  && w.acknowledgedSince(w.writableAgainAfter(t0, OUTAGE_WINDOW_MS)) > 50);
        } finally {
          k8s.node("thaw", node);
        }
        long writable = w.writableAgainAfter(t0, OUTAGE_WINDOW_MS) - t0;
        String now = cluster().getStatus().primary;
        assertThat(nodeOf(now)).as("the new primary runs on another node").isNotEqualTo(node);
        // the node is back: its member rejoins as a replica of the new primary
        await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(2)).until(NodeLossK8sE2E::settled);
        assertThat(cluster().getStatus().primary).isEqualTo(now);
        assertThat(cluster().getStatus().members.stream().filter(m -> m.name.equals(primary)).findFirst()
            .orElseThrow().role).isEqualTo("replica");
        w.stop();
        long lost = w.lost();
        LOSSES.add(new long[] {writable, lost});
        PostgresClusterStatus.Failover f = cluster().getStatus().lastFailover;
        System.out.printf("K8S-NODE-LOSS-RUN node %d primary %s -> %s  writable again after %d ms  acked %d  lost %d"
            + "  %s%n", node, primary, now, writable, w.acknowledgedCount(), lost, f == null ? "-" : f.kind);
        assertThat(lost).as("acknowledged writes lost").isZero();
      }
    }
  }

  @Test
  @Order(4)
  void thePrimarysNodeCutOffStopsAcknowledgingTheOtherSideElectsAndNothingAcknowledgedIsLost() {
    await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(2)).until(NodeLossK8sE2E::settled);
    String primary = cluster().getStatus().primary;
    int node = nodeOf(primary);
    String password = superuserPassword();
    try (SteadyWriter direct = SteadyWriter.overSslIntoTable(pod(primary).getStatus().getPodIP(), 5432, "postgres",
             password, "direct_log");
         SteadyWriter service = SteadyWriter.overSsl(serviceIp(), 5432, "postgres", password)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> direct.acknowledgedCount() > 50
          && service.acknowledgedCount() > 50);
      long t0 = System.currentTimeMillis();
      k8s.node("cut", node);
      List<String> primariesSeen = new ArrayList<>();
      try {
        // the old primary's synchronous standby is out of reach and its Patroni loses the API server: nothing it
        // takes is acknowledged from within Patroni's ttl on
        await().atMost(Duration.ofSeconds(TTL_S + 30)).pollInterval(Duration.ofMillis(500)).until(() ->
            System.currentTimeMillis() - direct.lastAckAt() > 15_000);
        assertThat(direct.lastAckAt() - t0).as("the cut-off primary stopped acknowledging within the ttl")
            .isLessThan(TTL_S * 1000L);
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).until(() ->
            !primary.equals(cluster().getStatus().primary)
                && service.acknowledgedSince(service.writableAgainAfter(t0, OUTAGE_WINDOW_MS)) > 50);
      } finally {
        k8s.node("heal", node);
      }
      String now = cluster().getStatus().primary;
      assertThat(nodeOf(now)).isNotEqualTo(node);
      // healed: the old primary's reports come back; none of them is taken for the current state
      await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(1)).until(() -> {
        primariesSeen.add(cluster().getStatus().primary);
        return settled();
      });
      assertThat(primariesSeen).as("the primary the operator reports after the partition healed").containsOnly(now);
      direct.stop();
      service.stop();
      String ip = serviceIp();
      System.out.printf("K8S-PARTITION node %d primary %s -> %s  direct acked %d (last %d ms after the cut)  "
          + "service writable again after %d ms%n", node, primary, now, direct.acknowledgedCount(),
          direct.lastAckAt() - t0, service.writableAgainAfter(t0, OUTAGE_WINDOW_MS) - t0);
      assertThat(direct.lost(ip, 5432, "postgres", password)).as("acknowledged by the cut-off primary, lost")
          .isZero();
      assertThat(service.lost()).as("acknowledged through the Service, lost").isZero();
    }
  }
}
