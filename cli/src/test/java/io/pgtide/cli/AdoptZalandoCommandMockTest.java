package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.Ownership;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code adopt-zalando} end to end against fabric8's mock API server (CRUD): what it reads, writes and prints. Proves
 * the wiring of {@link AdoptZalandoCommand} only; whether Patroni starts on the data is ZalandoAdoptionK8sE2E's.
 */
@EnableKubernetesMockClient(crud = true)
class AdoptZalandoCommandMockTest {
  static KubernetesClient client;
  static final String NS = ZalandoAdoptionTest.NS;
  static final String C = ZalandoAdoptionTest.C;

  record Run(int exit, String out, String err) {
  }

  @BeforeEach
  void layOut() {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .createOr(r -> r.update());
    for (Secret s : ZalandoAdoptionTest.secrets()) {
      client.secrets().inNamespace(NS).resource(s).createOr(r -> r.update());
    }
    ZalandoAdoptionTest.claims().forEach(c -> client.persistentVolumeClaims().inNamespace(NS).resource(c)
        .createOr(r -> r.update()));
    for (HasMetadata o : ZalandoAdoptionTest.leftovers()) {
      client.resource(o).inNamespace(NS).createOr(r -> r.update());
    }
  }

  static Run run(String... args) {
    AdoptZalandoCommand cmd = new AdoptZalandoCommand();
    new picocli.CommandLine(cmd).parseArgs(args);
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = cmd.run(client);
      return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  @Test
  void refusedWhileTheStatefulSetRunsAndNothingIsWritten() {
    client.apps().statefulSets().inNamespace(NS).resource(new StatefulSetBuilder().withNewMetadata().withName(C)
        .withLabels(ZalandoAdoptionTest.ZALANDO).endMetadata().withNewSpec().withReplicas(2).endSpec().build())
        .create();
    try {
      Run r = run("-n", NS, C, "--postgres-version", "17");
      assertThat(r.exit()).isEqualTo(PgtideCli.FAILED);
      assertThat(r.err()).contains("Zalando's StatefulSet shop/acid-orders still exists");
      assertThat(client.secrets().inNamespace(NS).withName(ClusterModel.superuserSecret(C)).get()).isNull();
      assertThat(client.resources(PostgresCluster.class).inNamespace(NS).withName(C).get()).isNull();
    } finally {
      client.apps().statefulSets().inNamespace(NS).withName(C).delete();
    }
  }

  @Test
  void refusedWhileAZalandoPodIsThere() {
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName(C + "-0")
        .withLabels(ZalandoAdoptionTest.ZALANDO).endMetadata().build()).create();
    try {
      Run r = run("-n", NS, C, "--postgres-version", "17");
      assertThat(r.exit()).isEqualTo(PgtideCli.FAILED);
      assertThat(r.err()).contains("pod(s) of Zalando's cluster");
    } finally {
      client.pods().inNamespace(NS).withName(C + "-0").delete();
    }
  }

  @Test
  void dryRunPrintsAnAppliableClusterAndChangesNothing() {
    Run r = run("-n", NS, C, "--postgres-version", "17", "--dry-run");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("# would create Secret postgres.acid-orders.credentials.postgresql.pgtide.io")
        .contains("# would annotate PersistentVolumeClaim pgdata-acid-orders-1")
        .contains("# would delete Endpoints acid-orders-config").contains("kind: PostgresCluster")
        .doesNotContain("su-old").doesNotContain("app-old");
    assertThat(Serialization.unmarshal(r.out(), PostgresCluster.class).getSpec().replicas).isEqualTo(2);
    assertThat(client.secrets().inNamespace(NS).withName(ClusterModel.superuserSecret(C)).get()).isNull();
    assertThat(client.persistentVolumeClaims().inNamespace(NS).withName("pgdata-" + C + "-0").get().getMetadata()
        .getAnnotations()).isNullOrEmpty();
  }

  @Test
  void fromTheLiveResourceEverythingIsHandedOverAndASecondRunChangesNothing() {
    GenericKubernetesResource live = Serialization.unmarshal(ZalandoAdoptionTest.RESOURCE,
        GenericKubernetesResource.class);
    live.getMetadata().setUid(null);
    live.getMetadata().setResourceVersion(null);
    client.genericKubernetesResources(AdoptZalandoCommand.POSTGRESQL).inNamespace(NS).resource(live)
        .createOr(x -> x.update());
    try {
      Run r = run("-n", NS, C);
      assertThat(r.exit()).as(r.err()).isZero();
      assertThat(r.out() + r.err()).doesNotContain("su-old").doesNotContain("repl-old").doesNotContain("app-old");
      Secret su = client.secrets().inNamespace(NS).withName(ClusterModel.superuserSecret(C)).get();
      assertThat(ZalandoAdoption.decoded(su, "password")).isEqualTo("su-old");
      assertThat(su.getMetadata().getAnnotations()).containsEntry(Ownership.ADOPT, "true");
      assertThat(ZalandoAdoption.decoded(client.secrets().inNamespace(NS).withName(ClusterModel.standbySecret(C))
          .get(), "password")).isEqualTo("repl-old");
      assertThat(ZalandoAdoption.decoded(client.secrets().inNamespace(NS)
          .withName("app-user.acid-orders.from-zalando").get(), "password")).isEqualTo("app-old");
      for (String claim : List.of("pgdata-" + C + "-0", "pgdata-" + C + "-1")) {
        assertThat(client.persistentVolumeClaims().inNamespace(NS).withName(claim).get().getMetadata()
            .getAnnotations()).containsEntry(Ownership.ADOPT, "true");
      }
      assertThat(client.endpoints().inNamespace(NS).withName(C).get()).isNull();
      assertThat(client.services().inNamespace(NS).withName(C + "-repl").get()).isNull();
      assertThat(client.configMaps().inNamespace(NS).withName(C + "-custom").get()).isNotNull();
      PostgresCluster cr = client.resources(PostgresCluster.class).inNamespace(NS).withName(C).get();
      assertThat(cr.getSpec().replicas).isEqualTo(2);
      assertThat(cr.getSpec().users).filteredOn(u -> u.name.equals("app_user")).singleElement()
          .satisfies(u -> assertThat(u.passwordSecret.name).isEqualTo("app-user.acid-orders.from-zalando"));

      Run again = run("-n", NS, C);
      assertThat(again.exit()).as(again.err()).isZero();
      assertThat(again.out()).contains("exists: left as it is").contains("holds postgres's password already");
    } finally {
      client.resources(PostgresCluster.class).inNamespace(NS).withName(C).delete();
      client.genericKubernetesResources(AdoptZalandoCommand.POSTGRESQL).inNamespace(NS).withName(C).delete();
      for (String s : List.of(ClusterModel.superuserSecret(C), ClusterModel.standbySecret(C),
          "app-user.acid-orders.from-zalando")) {
        client.secrets().inNamespace(NS).withName(s).delete();
      }
    }
  }
}
