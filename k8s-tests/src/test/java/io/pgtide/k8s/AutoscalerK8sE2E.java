package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.pgtide.common.crd.PostgresCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The autoscaler on real load: pgbench in a pod of the cluster drives the primary past the QPS target, the cluster
 * grows by a member; the load stops, it shrinks back. Windows and cooldowns are short so the test takes minutes.
 */
class AutoscalerK8sE2E {
  static final String NS = "e2e-autoscale";
  static final String NAME = "auto";
  /** pgbench of the Spilo image the load pod runs (PostgreSQL 17). */
  static final String PGBENCH = "/usr/lib/postgresql/17/bin/pgbench";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();

  @BeforeAll
  static void createNamespace() {
    k8s.freshNamespace(NS);
  }

  @AfterAll
  static void deleteNamespace() {
    k8s.dropNamespace(NS);
  }

  static PostgresCluster cluster() {
    return k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME).get();
  }

  static int statefulSetReplicas() {
    var sts = k8s.client().apps().statefulSets().inNamespace(NS).withName(NAME).get();
    return sts == null ? -1 : sts.getSpec().getReplicas();
  }

  static boolean membersReady(int n) {
    PostgresCluster cr = cluster();
    return cr.getStatus() != null && cr.getStatus().members.size() == n
        && cr.getStatus().members.stream().allMatch(m -> m.ready) && cr.getStatus().primary != null;
  }

  static String condition(String type) {
    return k8s.condition(NS, NAME, type);
  }

  static Optional<Event> event(String reason) {
    return k8s.client().v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> reason.equals(e.getReason())).findFirst();
  }

  @Test
  void pgbenchInAPodScalesTheClusterUpAndItsEndScalesItDown() {
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 1
          storage: {size: 1Gi}
          patroni: {ttl: 20, loopWait: 5, retryTimeout: 5}
          autoscaling:
            enabled: true
            minReplicas: 1
            maxReplicas: 2
            targetQpsPerReplica: 100
            window: 10s
            sampleInterval: 2s
            scaleUpCooldown: 10s
            scaleDownCooldown: 20s
        """.formatted(NAME, NS));
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).until(() -> membersReady(1)
        && "True".equals(condition("Ready")));
    assertThat(statefulSetReplicas()).as("an idle cluster stays at minReplicas").isEqualTo(1);
    assertThat(event("ScaledUp")).isEmpty();

    Pod member = k8s.client().pods().inNamespace(NS).withName(NAME + "-0").get();
    String image = member.getSpec().getContainers().stream().filter(c -> "postgres".equals(c.getName()))
        .findFirst().orElseThrow().getImage();
    String serviceIp = k8s.client().services().inNamespace(NS).withName(NAME).get().getSpec().getClusterIP();
    k8s.apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: load, namespace: %s}
        spec:
          restartPolicy: Never
          containers:
            - name: pgbench
              image: %s
              imagePullPolicy: Never
              # kube-proxy may route the Service a moment after Ready: retry the initialisation until it does
              command: ["/bin/sh", "-c", "until %s -i -s 1; do sleep 1; done; exec %s -S -n -c 2 -j 1 -T 900"]
              env:
                - {name: PGHOST, value: "%s"}
                - {name: PGUSER, value: postgres}
                - {name: PGDATABASE, value: postgres}
                - {name: PGSSLMODE, value: require}
                - name: PGPASSWORD
                  valueFrom:
                    secretKeyRef: {name: postgres.%s.credentials.postgresql.pgtide.io, key: password}
        """.formatted(NS, image, PGBENCH, PGBENCH, serviceIp, NAME));
    Instant loadFrom = Instant.now();
    // the decision comes within seconds (ScaledUp); the new member then clones with an immediate checkpoint
    // (28 s measured; Spilo's own clone script waited for a spread one: 223-244 s); the bound allows a loaded machine
    await().atMost(Duration.ofSeconds(480)).pollInterval(Duration.ofSeconds(1))
        .until(() -> statefulSetReplicas() == 2 && membersReady(2));
    System.out.println("AUTOSCALE-UP-S " + Duration.between(loadFrom, Instant.now()).toSeconds());
    assertThat(event("ScaledUp")).hasValueSatisfying(e -> assertThat(e.getMessage()).contains("qps"));
    assertThat(k8s.client().pods().inNamespace(NS).withName("load").get().getStatus().getPhase())
        .as("the load ran all along").isEqualTo("Running");

    k8s.kubectl("-n", NS, "delete", "pod", "load", "--wait=true", "--timeout=60s");
    Instant loadTo = Instant.now();
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1))
        .until(() -> statefulSetReplicas() == 1 && membersReady(1));
    System.out.println("AUTOSCALE-DOWN-S " + Duration.between(loadTo, Instant.now()).toSeconds());
    assertThat(event("ScaledDown")).isPresent();
    List<String> denials = k8s.operatorDenials(START);
    assertThat(denials).isEmpty();
  }
}
