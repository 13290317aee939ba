package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.model.BackupAgentModel;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.pgtide.operator.k8s.model.Ownership;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.common.tls.CertificateAuthority;
import io.vertx.core.Vertx;
import java.io.FileInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * pgtide takes over nothing it did not create and deletes only what its cluster owns: the reconciler against
 * fabric8's mock API server in CRUD mode, with objects of the wanted names made beforehand by somebody else.
 */
@EnableKubernetesMockClient(crud = true)
class OwnershipMockTest {
  static KubernetesClient client;
  static KubernetesMockServer server;

  Vertx vertx;
  ClusterReconciler reconciler;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    reconciler = new ClusterReconciler(vertx, client, OperatorConfig.DEFAULTS,
        CertificateAuthority.create("test", Duration.ofDays(1)));
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  @Test
  void anExistingObjectOfAWantedNameIsLeftAsItIsAndTheClusterShowsConflictNamingIt() throws Exception {
    String ns = namespace("taken");
    var foreignService = client.services().inNamespace(ns).resource(new ServiceBuilder().withNewMetadata()
        .withName("orders-repl").addToLabels("app", "billing").endMetadata().withNewSpec()
        .addToSelector("app", "billing").addNewPort().withPort(8080).endPort().endSpec().build()).create();
    var foreignSecret = client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata()
        .withName(ClusterModel.superuserSecret("orders")).endMetadata()
        .addToStringData("password", "not-pgtides").build()).create();
    PostgresCluster cr = cluster(ns, "orders");

    List<String> requests = reconcile(cr);
    assertThat(writesTo(requests, "/services/orders-repl")).isEmpty();
    assertThat(writesTo(requests, "/secrets/" + ClusterModel.superuserSecret("orders"))).isEmpty();

    PostgresClusterStatus.Condition conflict = condition(cr, "Conflict");
    assertThat(conflict.status).isEqualTo("True");
    assertThat(conflict.reason).isEqualTo("ServiceNotOwned");
    assertThat(conflict.message)
        .contains("Service orders-repl exists and is not owned by this cluster")
        .contains("Secret " + ClusterModel.superuserSecret("orders") + " exists and is not owned by this cluster")
        .contains("pgtide.io/adopt")
        .doesNotContain("not-pgtides");
    assertThat(condition(cr, "Degraded").status).isEqualTo("True");
    assertThat(fresh(cr).getStatus().phase).isEqualTo("Degraded");
    // the objects exactly as they were: same version (never written), no owner added
    assertUntouched(foreignService, client.services().inNamespace(ns).withName("orders-repl").get());
    assertUntouched(foreignSecret, client.secrets().inNamespace(ns).withName(foreignSecret.getMetadata().getName())
        .get());
    // and nothing else of the cluster was made: it waits whole, not half created
    assertThat(client.services().inNamespace(ns).withName("orders").get()).isNull();
    assertThat(client.serviceAccounts().inNamespace(ns).withName("orders-patroni").get()).isNull();
    assertThat(client.apps().statefulSets().inNamespace(ns).withName("orders").get()).isNull();

    // the Secret removed by its owner, the Service handed over explicitly: the cluster proceeds and takes it
    client.secrets().inNamespace(ns).withName(foreignSecret.getMetadata().getName()).delete();
    client.services().inNamespace(ns).withName("orders-repl").edit(s -> {
      s.getMetadata().setAnnotations(Map.of(Ownership.ADOPT, "true"));
      return s;
    });
    reconcile(fresh(cr));
    assertThat(condition(cr, "Conflict").status).isEqualTo("False");
    // applying goes on: the objects before it in the chain are made; the adopted one is then written by
    // server-side apply, which the mock server does not serve (OwnershipK8sE2E takes one over on a real API server)
    assertThat(client.serviceAccounts().inNamespace(ns).withName("orders-patroni").get()).isNotNull();
    assertThat(client.services().inNamespace(ns).withName("orders").get()).isNotNull();
    assertThat(condition(cr, "Degraded").reason).doesNotEndWith("NotOwned");
  }

  @Test
  void aClusterNamedDefaultLeavesTheNamespacesDefaultServiceAccountAlone() throws Exception {
    String ns = namespace("shop");
    // what every namespace has, made by Kubernetes' ServiceAccount controller
    var sa = client.serviceAccounts().inNamespace(ns).resource(new ServiceAccountBuilder().withNewMetadata()
        .withName("default").endMetadata().build()).create();
    PostgresCluster cr = cluster(ns, "default");

    List<String> requests = reconcile(cr);
    assertThat(writesTo(requests, "/serviceaccounts/default")).isEmpty();

    assertUntouched(sa, client.serviceAccounts().inNamespace(ns).withName("default").get());
    assertThat(condition(cr, "Conflict").status).isEqualTo("False");
    assertThat(client.serviceAccounts().inNamespace(ns).withName("default-patroni").get().getMetadata()
        .getOwnerReferences()).singleElement().satisfies(r -> assertThat(r.getName()).isEqualTo("default"));
    var pod = client.apps().statefulSets().inNamespace(ns).withName("default").get().getSpec().getTemplate()
        .getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("default-patroni");
    var binding = client.resources(io.fabric8.kubernetes.api.model.rbac.RoleBinding.class).inNamespace(ns)
        .withName("default-patroni").get();
    assertThat(binding.getSubjects()).singleElement().satisfies(s -> assertThat(s.getName())
        .isEqualTo("default-patroni"));
    assertThat(binding.getRoleRef().getName()).isEqualTo("default-patroni");
  }

  @Test
  void pvcRetentionDeleteDeletesTheClustersOwnClaimsAndNoOneElses() throws Exception {
    String ns = namespace("mixed");
    PostgresCluster cr = cluster(ns, "shop-db", c -> c.getSpec().storage.pvcRetention = "Delete");
    reconcile(cr);
    // the claims the StatefulSet's template makes carry pgtide's labels for the cluster
    assertThat(client.apps().statefulSets().inNamespace(ns).withName("shop-db").get().getSpec()
        .getVolumeClaimTemplates().get(0).getMetadata().getLabels()).containsAllEntriesOf(ClusterModel.labels("shop-db"));
    claim(ns, "pgdata-shop-db-0", ClusterModel.labels("shop-db"));
    claim(ns, "pgdata-shop-db-1", ClusterModel.labels("shop-db"));
    // a Zalando cluster's claims and anyone's claim that happens to carry the same cluster-name label
    PersistentVolumeClaim zalando = claim(ns, "pgdata-shop-db-7",
        Map.of("application", "spilo", "cluster-name", "shop-db", "team", "acid"));
    PersistentVolumeClaim scratch = claim(ns, "shop-db-scratch", Map.of("cluster-name", "shop-db"));

    PostgresCluster deleting = fresh(cr);
    deleting.getMetadata().setDeletionTimestamp("2026-11-23T00:00:00Z");
    reconcile(deleting);

    assertThat(client.persistentVolumeClaims().inNamespace(ns).withName("pgdata-shop-db-0").get()).isNull();
    assertThat(client.persistentVolumeClaims().inNamespace(ns).withName("pgdata-shop-db-1").get()).isNull();
    assertUntouched(zalando, client.persistentVolumeClaims().inNamespace(ns).withName("pgdata-shop-db-7").get());
    assertUntouched(scratch, client.persistentVolumeClaims().inNamespace(ns).withName("shop-db-scratch").get());
  }

  @Test
  void anotherOperatorsDataVolumeOfAMembersNameIsAConflictUntilAdopted() throws Exception {
    String ns = namespace("migrating");
    // left behind by a deleted Zalando cluster of the same name: the StatefulSet would mount it as member 0's data
    PersistentVolumeClaim left = claim(ns, "pgdata-inventory-0",
        Map.of("application", "spilo", "cluster-name", "inventory"));
    PostgresCluster cr = cluster(ns, "inventory");

    reconcile(cr);

    PostgresClusterStatus.Condition conflict = condition(cr, "Conflict");
    assertThat(conflict.status).isEqualTo("True");
    assertThat(conflict.reason).isEqualTo("PersistentVolumeClaimNotOwned");
    assertThat(conflict.message).contains("PersistentVolumeClaim pgdata-inventory-0 exists and is not owned by this"
        + " cluster");
    assertThat(client.apps().statefulSets().inNamespace(ns).withName("inventory").get()).isNull();
    assertUntouched(left, client.persistentVolumeClaims().inNamespace(ns).withName("pgdata-inventory-0").get());

    client.persistentVolumeClaims().inNamespace(ns).withName("pgdata-inventory-0").edit(c -> {
      c.getMetadata().setAnnotations(Map.of(Ownership.ADOPT, "true"));
      return c;
    });
    reconcile(fresh(cr));
    assertThat(condition(cr, "Conflict").status).isEqualTo("False");
    assertThat(client.apps().statefulSets().inNamespace(ns).withName("inventory").get()).isNotNull();
  }

  @Test
  void withoutBackupsTheAgentsNameIsFreedOnlyOfTheClustersOwnObjects() throws Exception {
    String ns = namespace("agents");
    var foreign = client.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder().withNewMetadata()
        .withName(BackupAgentModel.name("ledger")).endMetadata().withNewSpec().withNewSelector()
        .addToMatchLabels("app", "ledger-backup").endSelector().withNewTemplate().withNewMetadata()
        .addToLabels("app", "ledger-backup").endMetadata().withNewSpec().addNewContainer().withName("b")
        .withImage("busybox").endContainer().endSpec().endTemplate().endSpec().build()).create();
    PostgresCluster cr = cluster(ns, "ledger");

    reconcile(cr);

    assertThat(client.apps().statefulSets().inNamespace(ns).withName("ledger").get()).isNotNull();
    assertUntouched(foreign, client.apps().deployments().inNamespace(ns).withName(BackupAgentModel.name("ledger"))
        .get());
  }

  /** Same resourceVersion (never written), no owner reference, labels and annotations as they were. */
  private static void assertUntouched(HasMetadata before, HasMetadata now) {
    assertThat(now).as("%s %s", before.getKind(), before.getMetadata().getName()).isNotNull();
    assertThat(now.getMetadata().getResourceVersion()).isEqualTo(before.getMetadata().getResourceVersion());
    assertThat(now.getMetadata().getOwnerReferences()).isNullOrEmpty();
    assertThat(now.getMetadata().getLabels()).isEqualTo(before.getMetadata().getLabels());
    assertThat(now.getMetadata().getAnnotations()).isEqualTo(before.getMetadata().getAnnotations());
  }

  private static PersistentVolumeClaim claim(String ns, String name, Map<String, String> labels) {
    return client.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(name).withLabels(labels).endMetadata().withNewSpec()
        .withAccessModes("ReadWriteOnce").withNewResources().addToRequests("storage",
            new io.fabric8.kubernetes.api.model.Quantity("1Gi")).endResources().endSpec().build()).create();
  }

  /** Runs the reconciler; returns the requests it made ("METHOD /path"). */
  private List<String> reconcile(PostgresCluster cr) throws Exception {
    requests();
    // a refused reconcile fails its future; what it decided is in the cluster's status, which the tests read
    reconciler.reconcile(cr).toCompletionStage().toCompletableFuture().handle((v, e) -> null)
        .get(60, TimeUnit.SECONDS);
    return requests();
  }

  private static List<String> requests() throws InterruptedException {
    List<String> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      out.add(r.getMethod() + " " + r.getPath().split("\\?", 2)[0]);
    }
    return out;
  }

  /**
   * Requests other than reads of the object at {@code path}. The mock server serves no server-side apply, so a
   * takeover shows here as the attempt, not in the object.
   */
  private static List<String> writesTo(List<String> requests, String path) {
    return requests.stream().filter(r -> !r.startsWith("GET ") && r.endsWith(path)).toList();
  }

  private static String namespace(String name) {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }

  private static PostgresCluster cluster(String ns, String name) throws Exception {
    return cluster(ns, name, c -> { });
  }

  private static PostgresCluster cluster(String ns, String name, java.util.function.Consumer<PostgresCluster> edit)
      throws Exception {
    PostgresCluster cr;
    try (var in = new FileInputStream(Path.of("..", "manifests", "samples", "minimal.yaml").toFile())) {
      cr = Serialization.unmarshal(in, PostgresCluster.class);
    }
    cr.getMetadata().setNamespace(ns);
    cr.getMetadata().setName(name);
    edit.accept(cr);
    return client.resources(PostgresCluster.class).inNamespace(ns).resource(cr).create();
  }

  private static PostgresCluster fresh(PostgresCluster cr) {
    return client.resources(PostgresCluster.class).inNamespace(cr.getMetadata().getNamespace())
        .withName(cr.getMetadata().getName()).get();
  }

  private static PostgresClusterStatus.Condition condition(PostgresCluster cr, String type) {
    return fresh(cr).getStatus().conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElseThrow(
        () -> new AssertionError("no condition " + type + " in " + fresh(cr).getStatus().conditions));
  }
}
