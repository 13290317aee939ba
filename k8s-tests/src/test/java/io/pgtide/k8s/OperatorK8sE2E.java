package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The operator deployed with {@code kubectl apply} runs as its ServiceAccount, stays up, leads and hands over. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorK8sE2E {
  static final String NS = "pgtide-system";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();

  static List<Pod> operatorPods() {
    return k8s.client().pods().inNamespace(NS).withLabel("app.kubernetes.io/name", "pgtide-operator").list()
        .getItems().stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
  }

  static boolean ready(Pod p) {
    return p.getStatus().getConditions() != null && p.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static boolean leaderLabelled(Pod p) {
    return "true".equals(p.getMetadata().getLabels().get("pgtide.io/leader"));
  }

  static Lease lease() {
    return k8s.client().leases().inNamespace(NS).withName("pgtide-operator").get();
  }

  @Test
  @Order(1)
  void twoReplicasRunOneLeadsAndKeepsItsLeaseWithoutAnyRbacDenial() {
    // both Ready (so rollouts proceed); the leader alone labelled, so the Service sends sidecars to it
    await().atMost(Duration.ofSeconds(180)).until(() -> operatorPods().size() == 2
        && operatorPods().stream().allMatch(OperatorK8sE2E::ready)
        && operatorPods().stream().filter(OperatorK8sE2E::leaderLabelled).count() == 1);
    String leader = lease().getSpec().getHolderIdentity();
    Pod labelled = operatorPods().stream().filter(OperatorK8sE2E::leaderLabelled).findFirst().orElseThrow();
    assertThat(leader).isEqualTo(labelled.getMetadata().getName());
    assertThat(k8s.client().endpoints().inNamespace(NS).withName("pgtide-operator").get().getSubsets())
        .flatExtracting(s -> s.getAddresses()).extracting(a -> a.getTargetRef().getName()).containsExactly(leader);
    // renewed (PATCH) over several lease durations by the same holder, with neither replica restarting
    Set<String> renewals = new HashSet<>();
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
      Lease l = lease();
      assertThat(l.getSpec().getHolderIdentity()).isEqualTo(leader);
      renewals.add(String.valueOf(l.getSpec().getRenewTime()));
      return renewals.size() >= 10;
    });
    assertThat(operatorPods()).allSatisfy(p -> assertThat(p.getStatus().getContainerStatuses().get(0)
        .getRestartCount()).as(p.getMetadata().getName() + " restarts").isZero());
    assertThat(k8s.operatorDenials(START)).isEmpty();
    // a leader label lost (a label call that failed while the API server was slow) comes back by the leader's sweep
    k8s.kubectl("-n", NS, "label", "pod", leader, "pgtide.io/leader-");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> operatorPods().stream()
        .filter(OperatorK8sE2E::leaderLabelled).map(p -> p.getMetadata().getName()).toList().equals(List.of(leader)));
  }

  @Test
  @Order(2)
  void aDeletedLeaderReleasesTheLeaseAndTheOtherReplicaLeadsWithinTheLeaseDuration() {
    String leader = lease().getSpec().getHolderIdentity();
    long t0 = System.nanoTime();
    k8s.kubectl("-n", NS, "delete", "pod", leader, "--wait=false");
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
      String holder = lease().getSpec().getHolderIdentity();
      return holder != null && !holder.isEmpty() && !holder.equals(leader);
    });
    long takeoverMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("OPERATOR-TAKEOVER-MS " + takeoverMs + " (graceful delete of the leader pod until the other"
        + " replica holds the Lease)");
    String next = lease().getSpec().getHolderIdentity();
    await().atMost(Duration.ofSeconds(30)).until(() -> operatorPods().stream()
        .anyMatch(p -> p.getMetadata().getName().equals(next) && leaderLabelled(p)));
    // the Deployment replaces the deleted pod; it stands by, unlabelled
    await().atMost(Duration.ofSeconds(180)).until(() -> operatorPods().size() == 2
        && operatorPods().stream().allMatch(OperatorK8sE2E::ready)
        && operatorPods().stream().filter(OperatorK8sE2E::leaderLabelled).count() == 1);
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }

  @Test
  @Order(3)
  void aKilledLeaderIsReplacedWithinTheLeaseDuration() {
    await().atMost(Duration.ofSeconds(180)).until(() -> operatorPods().size() == 2
        && operatorPods().stream().allMatch(OperatorK8sE2E::ready)
        && operatorPods().stream().filter(OperatorK8sE2E::leaderLabelled).count() == 1);
    String leader = lease().getSpec().getHolderIdentity();
    long t0 = System.nanoTime();
    // no grace: the process gets no chance to release the Lease, the other replica waits for it to expire (15 s)
    k8s.kubectl("-n", NS, "delete", "pod", leader, "--grace-period=0", "--force", "--wait=false");
    await().atMost(Duration.ofSeconds(25)).pollInterval(Duration.ofMillis(100)).until(() -> {
      String holder = lease().getSpec().getHolderIdentity();
      return holder != null && !holder.isEmpty() && !holder.equals(leader);
    });
    long takeoverMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("OPERATOR-TAKEOVER-AFTER-KILL-MS " + takeoverMs + " (forced delete, Lease 15 s, retry 2 s)");
    assertThat(takeoverMs).isLessThan(15_000 + 2_000 + 2_000);
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }
}
