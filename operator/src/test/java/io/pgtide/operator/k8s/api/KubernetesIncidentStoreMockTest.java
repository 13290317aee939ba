package io.pgtide.operator.k8s.api;

import io.pgtide.operator.k8s.reconcile.ClusterReconcilerMockTest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.failover.FailoverRecord;
import io.pgtide.operator.failover.IncidentIntent;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The open incident in {@code status.failover}: kept and read back, closed together with {@code lastFailover}, the
 * other status fields left as they are, and nothing written by a replica that no longer leads.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesIncidentStoreMockTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  Vertx vertx = Vertx.vertx();

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  @Test
  void theIncidentIsKeptInStatusAndClosedWithItsRecord() throws Exception {
    PostgresCluster cr = ClusterReconcilerMockTest.sample("minimal.yaml");
    cr.getMetadata().setName("kept");
    cr = ClusterReconcilerMockTest.applyTo(client, cr);
    cr.setStatus(new PostgresClusterStatus());
    cr.getStatus().primary = "kept-0";
    client.resources(PostgresCluster.class).inNamespace("default").resource(cr).updateStatus();
    AtomicBoolean leading = new AtomicBoolean(true);
    var store = new KubernetesIncidentStore(vertx, client, leading::get);
    long at = Instant.parse("2026-01-02T03:04:05Z").toEpochMilli();
    var intent = new IncidentIntent("kept-0@" + at, "kept-0", "failover", "announced", at, "sidecar disconnected");

    assertThat(store.load("default/kept").await()).isNull();
    store.save("default/kept", intent, null).await();
    PostgresClusterStatus.FailoverIntent f = status().failover;
    assertThat(f.target).isEqualTo("kept-0");
    assertThat(f.step).isEqualTo("announced");
    assertThat(f.startedAt).isEqualTo("2026-01-02T03:04:05Z");
    assertThat(store.load("default/kept").await()).isEqualTo(intent);
    assertThat(status().primary).as("another writer's field").isEqualTo("kept-0");

    store.save("default/kept", null, new FailoverRecord("failover", "kept-0", "kept-1", at, at + 9_000)).await();
    assertThat(status().failover).isNull();
    assertThat(status().lastFailover.to).isEqualTo("kept-1");
    assertThat(status().lastFailover.durationMs).isEqualTo(9_000L);
    assertThat(store.load("default/kept").await()).isNull();

    leading.set(false);
    assertThatThrownBy(() -> store.save("default/kept", intent, null).await()).hasMessageContaining("no longer leads");
    assertThat(status().failover).isNull();
  }

  static PostgresClusterStatus status() {
    return client.resources(PostgresCluster.class).inNamespace("default").withName("kept").get().getStatus();
  }
}
