package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Failover intent that survives the leader: the incident is in {@code status.failover} before the operator acts,
 * the leading operator pod is deleted in the middle of it, and the next leader resumes it: the zombie primary is
 * fenced once, the incident completes, and there is a single record of it (one {@code FailoverCompleted}, whose
 * {@code status.lastFailover} starts when the first leader detected the loss).
 */
class FailoverIntentK8sE2E {
  static final String NS = "e2e-failover-intent";
  static final String NAME = "fi";
  static final String OPERATOR_NS = "pgtide-system";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();

  @BeforeAll
  static void createCluster() {
    k8s.freshNamespace(NS);
    // a failover delay long enough for the leader to be deleted before it fences
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %2$s, namespace: %1$s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          failoverDelaySeconds: 25
          patroni: {ttl: 30, loopWait: 10, retryTimeout: 10, synchronousMode: true}
        """.formatted(NS, NAME));
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1))
        .until(() -> k8s.settledInSync(NS, NAME, 2));
  }

  @AfterAll
  static void deleteNamespace() {
    k8s.dropNamespace(NS);
  }

  static PostgresClusterStatus status() {
    PostgresCluster cr = k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME).get();
    return cr.getStatus();
  }

  static String leaseHolder() {
    var lease = k8s.client().leases().inNamespace(OPERATOR_NS).withName("pgtide-operator").get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  /** The FailoverCompleted events the operator kept for the cluster (its history ConfigMap, one JSON per line). */
  static long keptCompletions() {
    var cm = k8s.client().configMaps().inNamespace(NS).withName(NAME + "-pgtide-events").get();
    String history = cm == null || cm.getData() == null ? "" : cm.getData().values().stream().findFirst().orElse("");
    return Arrays.stream(history.split("\n")).filter(l -> l.contains("\"reason\":\"FailoverCompleted\"")).count();
  }

  /** The FailoverCompleted Kubernetes Events of the cluster, a repeat counted as what it is. */
  static long eventCompletions() {
    return k8s.client().v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "FailoverCompleted".equals(e.getReason()))
        .mapToLong(e -> e.getCount() == null ? 1 : e.getCount()).sum();
  }

  @Test
  void anIncidentOpenWhenTheLeaderIsDeletedCompletesUnderTheNextLeaderWithASingleRecord() {
    String primary = status().primary;
    assertThat(keptCompletions()).isZero();
    assertThat(eventCompletions()).isZero();

    // a zombie: the postmaster frozen, Patroni keeps the leader key; the operator fences it after 25 s
    k8s.kubectl("-n", NS, "exec", primary, "-c", "postgres", "--", "sh", "-c",
        "kill -STOP $(head -1 /home/postgres/pgdata/pgroot/data/postmaster.pid)");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
      PostgresClusterStatus.FailoverIntent f = status().failover;
      return f != null && primary.equals(f.target) && !"detected".equals(f.step);
    });
    PostgresClusterStatus.FailoverIntent kept = status().failover;
    assertThat(kept.incidentId).startsWith(primary + "@");
    assertThat(kept.step).as("not fenced yet: the delay runs").isEqualTo("announced");

    // the leader goes in the middle of the incident (SIGTERM: it gives the Lease back)
    String leader = leaseHolder();
    k8s.kubectl("-n", OPERATOR_NS, "delete", "pod", leader, "--wait=false");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
      String holder = leaseHolder();
      return holder != null && !holder.isEmpty() && !holder.equals(leader);
    });

    // the next leader resumes it: fenced once, completed once, recorded from when the first leader detected it
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(() -> {
      PostgresClusterStatus s = status();
      return s.failover == null && s.lastFailover != null && primary.equals(s.lastFailover.from);
    });
    PostgresClusterStatus.Failover record = status().lastFailover;
    assertThat(record.to).isNotEqualTo(primary);
    assertThat(record.kind).isEqualTo("zombie-fenced");
    assertThat(record.detectedAt).isEqualTo(kept.startedAt);
    await().atMost(Duration.ofSeconds(60)).until(() -> keptCompletions() >= 1 && eventCompletions() >= 1);
    // a second record would come within the next leader's first evaluations: none does
    await().during(Duration.ofSeconds(20)).atMost(Duration.ofSeconds(30))
        .until(() -> keptCompletions() == 1 && eventCompletions() == 1);
    var reasons = k8s.client().v1().events().inNamespace(NS).list().getItems().stream().map(e -> e.getReason())
        .toList();
    assertThat(reasons).contains("IncidentResumed", "FencingZombie").doesNotContain("IncidentClosed");
    assertThat(k8s.client().v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "FencingZombie".equals(e.getReason()))
        .mapToLong(e -> e.getCount() == null ? 1 : e.getCount()).sum()).as("fenced once").isEqualTo(1);

    // the cluster settles: the fenced member back as a replica, Ready again
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1))
        .until(() -> k8s.settledInSync(NS, NAME, 2));
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }
}
