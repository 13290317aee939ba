package io.pgtide.operator.k8s.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgtide.common.contract.MemberId;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The release of a dead leader's lock writes Patroni's failover key first (the old leader named, no candidate), so
 * a Patroni that Spilo's runit restarts defers to the other members; a lock that names another member is left alone
 * and no key is written. (Mock API server: it checks no RBAC; the real tier's FailoverK8sE2E runs the same path.)
 */
@EnableKubernetesMockClient(crud = true)
class LeaderHandOverMockTest {
  static KubernetesClient client;
  Vertx vertx;
  KubernetesInfrastructure infrastructure;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    infrastructure = new KubernetesInfrastructure(vertx, client);
    client.configMaps().inNamespace("ns").withName("pg-failover").delete();
    client.configMaps().inNamespace("ns").resource(new ConfigMapBuilder().withNewMetadata().withName("pg-leader")
        .withNamespace("ns").addToLabels("application", "spilo").addToLabels("cluster-name", "pg")
        .addToAnnotations("leader", "pg-0").endMetadata().build()).createOr(c -> c.update());
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  @Test
  void theDeadLeadersLockIsReleasedAfterPatronisFailoverKeyNamesItAsTheLeaderSteppingDown() {
    assertThat(infrastructure.releaseLeaderLock(new MemberId("ns", "pg", "pg-0"))).isTrue();

    ConfigMap failover = client.configMaps().inNamespace("ns").withName("pg-failover").get();
    assertThat(failover.getMetadata().getAnnotations()).containsEntry("leader", "pg-0").doesNotContainKey("member");
    // Patroni lists its ConfigMaps by these labels: without them it would never see the key
    assertThat(failover.getMetadata().getLabels()).containsEntry("application", "spilo")
        .containsEntry("cluster-name", "pg");
    // (the mock server keeps a merge patch's null where the API server removes the key)
    assertThat(client.configMaps().inNamespace("ns").withName("pg-leader").get().getMetadata().getAnnotations()
        .get("leader")).isNull();
  }

  @Test
  void aLockThatNamesAnotherMemberIsLeftAloneAndNoKeyIsWritten() {
    assertThat(infrastructure.releaseLeaderLock(new MemberId("ns", "pg", "pg-1"))).isFalse();

    assertThat(client.configMaps().inNamespace("ns").withName("pg-failover").get()).isNull();
    assertThat(client.configMaps().inNamespace("ns").withName("pg-leader").get().getMetadata().getAnnotations())
        .containsEntry("leader", "pg-0");
  }
}
