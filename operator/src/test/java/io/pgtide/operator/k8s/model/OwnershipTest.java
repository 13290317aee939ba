package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OwnershipTest {
  static PostgresCluster cluster(String name, String uid) {
    PostgresCluster cr = new PostgresCluster();
    cr.getMetadata().setNamespace("shop");
    cr.getMetadata().setName(name);
    cr.getMetadata().setUid(uid);
    cr.setSpec(new PostgresClusterSpec());
    return cr;
  }

  static HasMetadata service(String name, String ownerName, String ownerUid, boolean controller) {
    var b = new ServiceBuilder().withNewMetadata().withName(name).endMetadata();
    if (ownerName != null) {
      b.editMetadata().addToOwnerReferences(new OwnerReferenceBuilder().withApiVersion("pgtide.io/v1")
          .withKind("PostgresCluster").withName(ownerName).withUid(ownerUid).withController(controller).build())
          .endMetadata();
    }
    return b.build();
  }

  @Test
  void anObjectIsTheClustersOnlyWhenItsControllerReferenceNamesTheClustersUid() {
    HasMetadata desired = ClusterModel.services(cluster("orders", "uid-1")).get(0);
    assertThat(Ownership.conflict(null, desired)).isNull();
    assertThat(Ownership.conflict(service("orders", "orders", "uid-1", true), desired)).isNull();
    // a cluster of the same name deleted and made again is another owner
    assertThat(Ownership.conflict(service("orders", "orders", "uid-0", true), desired))
        .isEqualTo("Service orders exists and is not owned by this cluster");
    // an owner that does not control it does not make it ours
    assertThat(Ownership.conflict(service("orders", "orders", "uid-1", false), desired)).isNotNull();
    assertThat(Ownership.conflict(service("orders", null, null, false), desired)).isNotNull();
  }

  @Test
  void adoptionIsAnExplicitAnnotation() {
    HasMetadata desired = ClusterModel.services(cluster("orders", "uid-1")).get(0);
    HasMetadata marked = service("orders", null, null, false);
    marked.getMetadata().setAnnotations(Map.of(Ownership.ADOPT, "true"));
    assertThat(Ownership.conflict(marked, desired)).isNull();
    marked.getMetadata().setAnnotations(Map.of(Ownership.ADOPT, "yes"));
    assertThat(Ownership.conflict(marked, desired)).isNotNull();
  }

  @Test
  void memberVolumesAreKnownByTheStatefulSetsClaimNameAndPgtidesLabels() {
    assertThat(Ownership.memberVolumeName("pgdata-orders-0", "orders")).isTrue();
    assertThat(Ownership.memberVolumeName("pgdata-orders-12", "orders")).isTrue();
    assertThat(Ownership.memberVolumeName("pgdata-orders-eu-0", "orders")).isFalse();
    assertThat(Ownership.memberVolumeName("pgdata-orders-01", "orders")).isFalse();
    assertThat(Ownership.memberVolumeName("pgdata-orders-", "orders")).isFalse();
    assertThat(Ownership.memberVolumeName("orders-backup", "orders")).isFalse();
    var ours = new PersistentVolumeClaimBuilder().withNewMetadata().withName("pgdata-orders-0")
        .withLabels(ClusterModel.labels("orders")).endMetadata().build();
    var zalandos = new PersistentVolumeClaimBuilder().withNewMetadata().withName("pgdata-orders-0")
        .withLabels(Map.of("application", "spilo", "cluster-name", "orders")).endMetadata().build();
    assertThat(Ownership.memberVolume(ours, "orders")).isTrue();
    assertThat(Ownership.memberVolume(zalandos, "orders")).isFalse();
    assertThat(Ownership.memberVolume(ours, "orders-eu")).isFalse();
  }

  @Test
  void theBackupRepositoryMadeWithoutOwnerIsKnownByItsLabels() {
    PostgresCluster cr = cluster("orders", "uid-1");
    cr.getSpec().backup = new PostgresClusterSpec.BackupSpec();
    HasMetadata desired = BackupAgentModel.volume(cr);
    var ours = new PersistentVolumeClaimBuilder().withNewMetadata().withName("orders-backup")
        .withLabels(BackupAgentModel.labels("orders")).endMetadata().build();
    var someones = new PersistentVolumeClaimBuilder().withNewMetadata().withName("orders-backup")
        .withLabels(Map.of("app.kubernetes.io/instance", "orders")).endMetadata().build();
    assertThat(Ownership.conflict(ours, desired)).isNull();
    assertThat(Ownership.conflict(someones, desired)).isNotNull();
  }

  @Test
  void theServiceAccountOfAClusterNamedDefaultIsNotTheNamespacesDefault() {
    PostgresCluster cr = cluster("default", "uid-1");
    assertThat(ClusterModel.serviceAccount(cr).getMetadata().getName()).isEqualTo("default-patroni");
    assertThat(ClusterModel.role(cr).getMetadata().getName()).isEqualTo("default-patroni");
    assertThat(ClusterModel.roleBinding(cr).getSubjects()).singleElement()
        .satisfies(s -> assertThat(s.getName()).isEqualTo("default-patroni"));
  }
}
