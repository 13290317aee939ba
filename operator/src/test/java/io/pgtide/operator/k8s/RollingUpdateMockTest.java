package io.pgtide.operator.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.Ports;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.operator.OperatorCore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An image change against fabric8's mock API server: the StatefulSet's template follows the spec, and the rolling
 * update deletes outdated replicas one at a time, highest ordinal first, and never the primary unless a switchover
 * to an updated replica succeeded. (The mock server runs no StatefulSet controller: the test plays it, recreating
 * deleted pods at the new revision.)
 */
@EnableKubernetesMockClient(crud = true)
class RollingUpdateMockTest {
  static KubernetesClient client;
  OperatorCore core;

  @BeforeEach
  void start() {
    CertificateAuthority ca = CertificateAuthority.create("t", Duration.ofDays(1));
    core = new OperatorCore(ca.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1)), "127.0.0.1",
        Ports.free(), v -> new KubernetesInfrastructure(v, client), 3_000).start("127.0.0.1", Ports.free());
  }

  @AfterEach
  void stop() {
    core.close();
  }

  static Pod pod(String name, String revision, boolean primary) {
    return client.pods().inNamespace("roll").resource(new PodBuilder().withMetadata(new ObjectMetaBuilder()
            .withName(name).withNamespace("roll").withLabels(Map.of("application", "spilo", "cluster-name", "shop",
                "controller-revision-hash", revision, "spilo-role", primary ? "master" : "replica")).build())
        .withNewStatus().addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build())
        .createOr(r -> r.update());
  }

  static boolean exists(String pod) {
    return client.pods().inNamespace("roll").withName(pod).get() != null;
  }

  @Test
  void anImageChangeRollsReplicasFirstAndKeepsThePrimaryUntilASwitchoverSucceeds() {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("shop").withNamespace("roll").build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().replicas = 3;
    cr.getSpec().image = "ghcr.io/zalando/spilo-17:4.0-p1";
    client.resources(PostgresCluster.class).inNamespace("roll").resource(cr).create();
    ClusterReconciler reconciler = new ClusterReconciler(core.vertx, client, OperatorConfig.DEFAULTS,
        CertificateAuthority.create("t", Duration.ofDays(1)));
    var fresh = client.resources(PostgresCluster.class).inNamespace("roll").withName("shop");
    reconciler.reconcile(fresh.get()).await();
    PostgresCluster changed = fresh.get();
    changed.getSpec().image = "ghcr.io/zalando/spilo-17:4.0-p2";
    client.resources(PostgresCluster.class).inNamespace("roll").resource(changed).update();
    reconciler.reconcile(fresh.get()).await();
    var sts = client.apps().statefulSets().inNamespace("roll").withName("shop");
    assertThat(sts.get().getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("ghcr.io/zalando/spilo-17:4.0-p2");
    assertThat(sts.get().getSpec().getUpdateStrategy().getType()).as("the operator orders the restarts")
        .isEqualTo("OnDelete");

    // what the StatefulSet controller would report: a new revision, all pods on the old one
    sts.editStatus(s -> {
      s.setStatus(new io.fabric8.kubernetes.api.model.apps.StatefulSetStatusBuilder().withReplicas(3)
          .withUpdateRevision("shop-rev2").withCurrentRevision("shop-rev1").build());
      return s;
    });
    pod("shop-0", "shop-rev1", true);
    pod("shop-1", "shop-rev1", false);
    pod("shop-2", "shop-rev1", false);
    RollingUpdater rolling = new RollingUpdater(core.vertx, client, core.failover, core.events);

    assertThat(rolling.step(fresh.get()).await().target()).isEqualTo("shop-2");
    assertThat(exists("shop-2")).isFalse();
    assertThat(exists("shop-1")).as("one at a time").isTrue();
    pod("shop-2", "shop-rev2", false);
    assertThat(rolling.step(fresh.get()).await().target()).isEqualTo("shop-1");
    assertThat(exists("shop-1")).isFalse();
    pod("shop-1", "shop-rev2", false);
    // only the primary is outdated: a switchover comes first; with no sidecar stream it cannot happen here
    assertThatThrownBy(() -> rolling.step(fresh.get()).await()).hasMessageContaining("no live primary");
    assertThat(exists("shop-0")).as("the primary is not deleted without a switchover").isTrue();
  }
}
