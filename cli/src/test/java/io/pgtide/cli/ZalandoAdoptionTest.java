package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.pgtide.common.crd.PostgresClusterSpec.UserSpec;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.Ownership;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link ZalandoAdoption}: what is copied, annotated and deleted for a stopped Zalando cluster laid out as Zalando's
 * operator lays it out (names and labels of postgres-operator's pkg/cluster), and every refusal.
 */
class ZalandoAdoptionTest {
  static final String NS = "shop";
  static final String C = "acid-orders";
  static final Map<String, String> ZALANDO = Map.of("application", "spilo", "cluster-name", C, "team", "acid");

  static final String RESOURCE = """
      apiVersion: acid.zalan.do/v1
      kind: postgresql
      metadata: {name: acid-orders, namespace: shop, uid: 1234, resourceVersion: "77"}
      spec:
        teamId: acid
        numberOfInstances: 2
        volume: {size: 1Gi}
        postgresql: {version: "17"}
        users: {app_user: [createdb], reporting: [nologin]}
        databases: {orders: app_user}
      status: {PostgresClusterStatus: Running}
      """;

  static JsonNode resource() {
    return ZalandoConversion.parse(RESOURCE, "test").get(0);
  }

  static Secret zalandoSecret(String user, String password) {
    return secret(ZalandoAdoption.zalandoSecret(user, C), user, password, ZALANDO);
  }

  static Secret secret(String name, String user, String password, Map<String, String> labels) {
    Base64.Encoder b = Base64.getEncoder();
    return new SecretBuilder().withNewMetadata().withName(name).withNamespace(NS).withLabels(labels).endMetadata()
        .addToData("username", b.encodeToString(user.getBytes(StandardCharsets.UTF_8)))
        .addToData("password", b.encodeToString(password.getBytes(StandardCharsets.UTF_8))).build();
  }

  static PersistentVolumeClaim claim(String name, String size) {
    return new PersistentVolumeClaimBuilder().withNewMetadata().withName(name).withNamespace(NS).withLabels(ZALANDO)
        .endMetadata().withNewSpec().withStorageClassName("local").withNewResources()
        .addToRequests("storage", new Quantity(size)).endResources().endSpec().build();
  }

  static List<Secret> secrets() {
    return new ArrayList<>(List.of(zalandoSecret("postgres", "su-old"), zalandoSecret("standby", "repl-old"),
        zalandoSecret("app_user", "app-old")));
  }

  static List<PersistentVolumeClaim> claims() {
    return List.of(claim("pgdata-" + C + "-0", "1Gi"), claim("pgdata-" + C + "-1", "1Gi"),
        claim("pgdata-" + C + "-backup-0", "1Gi"), claim("pgdata-other-0", "1Gi"));
  }

  static List<HasMetadata> leftovers() {
    return List.of(
        new EndpointsBuilder().withNewMetadata().withName(C).withLabels(ZALANDO).endMetadata().build(),
        new EndpointsBuilder().withNewMetadata().withName(C + "-config").withLabels(ZALANDO).endMetadata().build(),
        new ServiceBuilder().withNewMetadata().withName(C + "-repl").withLabels(ZALANDO).endMetadata().build(),
        new PodDisruptionBudgetBuilder().withNewMetadata().withName("postgres-" + C + "-pdb").withLabels(ZALANDO)
            .endMetadata().build(),
        // another object with the label, not a name of the cluster: stays
        new ConfigMapBuilder().withNewMetadata().withName(C + "-custom").withLabels(ZALANDO).endMetadata().build(),
        // a name of the cluster owned by a PostgresCluster: stays
        new ConfigMapBuilder().withNewMetadata().withName(C + "-leader").withLabels(ZALANDO).addNewOwnerReference()
            .withKind("PostgresCluster").withName(C).withUid("u").endOwnerReference().endMetadata().build());
  }

  static ZalandoAdoption.Found found(JsonNode postgresql, Integer version, StatefulSet sts, int pods, boolean exists,
                                     List<Secret> secrets) {
    return new ZalandoAdoption.Found(NS, C, postgresql, "test", version, sts, pods, exists, secrets, claims(),
        leftovers());
  }

  static ZalandoAdoption.Plan plan() {
    return ZalandoAdoption.plan(found(resource(), null, null, 0, false, secrets()));
  }

  static UserSpec user(ZalandoAdoption.Plan p, String name) {
    return p.cluster().getSpec().users.stream().filter(u -> u.name.equals(name)).findFirst().orElseThrow();
  }

  @Test
  void refusedWhileZalandosStatefulSetExistsSayingWhatToDo() {
    StatefulSet sts = new StatefulSetBuilder().withNewMetadata().withName(C).withLabels(ZALANDO).endMetadata()
        .withNewSpec().withReplicas(2).endSpec().build();
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), null, sts, 2, false, secrets()));
    assertThat(p.refusal()).contains("Zalando's StatefulSet shop/acid-orders still exists")
        .contains("kubectl -n shop delete postgresql acid-orders")
        .contains("enable_persistent_volume_claim_deletion: \"false\"").contains("enable_secrets_deletion");
    assertThat(p.usage()).isFalse();
    assertThat(p.secrets()).isEmpty();
    assertThat(p.claims()).isEmpty();
    assertThat(p.delete()).isEmpty();
  }

  @Test
  void refusedWhileZalandosPodsAreStillThere() {
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), null, null, 1, false, secrets()));
    assertThat(p.refusal()).contains("1 pod(s) of Zalando's cluster").contains("wait until they are gone");
  }

  @Test
  void aStatefulSetOfThePostgresClusterIsNoRefusal() {
    StatefulSet sts = new StatefulSetBuilder().withNewMetadata().withName(C).addNewOwnerReference()
        .withKind("PostgresCluster").withName(C).withUid("u").endOwnerReference().endMetadata().build();
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), null, sts, 0, true, secrets()));
    assertThat(p.refusal()).isNull();
  }

  @Test
  void theSuperuserAndReplicationPasswordsGoToPgtidesNamesAnnotatedForAdoption() {
    ZalandoAdoption.Plan p = plan();
    assertThat(p.refusal()).isNull();
    assertThat(p.secrets()).contains(
        new ZalandoAdoption.SecretCopy("postgres", "postgres.acid-orders.credentials.postgresql.acid.zalan.do",
            ClusterModel.superuserSecret(C), true),
        new ZalandoAdoption.SecretCopy("standby", "standby.acid-orders.credentials.postgresql.acid.zalan.do",
            ClusterModel.standbySecret(C), true));
    assertThat(ClusterModel.superuserSecret(C)).isEqualTo("postgres.acid-orders.credentials.postgresql.pgtide.io");
  }

  @Test
  void eachUsersPasswordGoesToASecretItsPasswordSecretNames() {
    ZalandoAdoption.Plan p = plan();
    assertThat(p.secrets()).contains(new ZalandoAdoption.SecretCopy("app_user",
        "app-user.acid-orders.credentials.postgresql.acid.zalan.do", "app-user.acid-orders.from-zalando", false));
    UserSpec app = user(p, "app_user");
    assertThat(app.passwordSecret.name).isEqualTo("app-user.acid-orders.from-zalando");
    assertThat(app.passwordSecret.key).isEqualTo("password");
    assertThat(app.createdb).isTrue();
    // a NOLOGIN role has no password (Zalando makes no Secret for it)
    assertThat(user(p, "reporting").passwordSecret).isNull();
    assertThat(p.secrets()).extracting(ZalandoAdoption.SecretCopy::user).doesNotContain("reporting");
  }

  @Test
  void aUserWithoutAZalandoSecretKeepsNoPasswordSecretAndIsNoted() {
    List<Secret> s = secrets();
    s.removeIf(x -> x.getMetadata().getName().startsWith("app-user."));
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), null, null, 0, false, s));
    assertThat(p.refusal()).isNull();
    assertThat(user(p, "app_user").passwordSecret).isNull();
    assertThat(p.notes()).anyMatch(n -> n.contains("user app_user has no Zalando Secret"));
  }

  @Test
  void everyClaimOfTheClusterIsAnnotatedAndNoOther() {
    assertThat(plan().claims()).containsExactly("pgdata-acid-orders-0", "pgdata-acid-orders-1");
  }

  @Test
  void claimsAlreadyAdoptedOrPgtidesAreNotAnnotatedAgain() {
    var adopted = claim("pgdata-" + C + "-0", "1Gi");
    adopted.getMetadata().setAnnotations(Map.of(Ownership.ADOPT, "true"));
    var ours = claim("pgdata-" + C + "-1", "1Gi");
    ours.getMetadata().setLabels(ClusterModel.labels(C));
    var f = new ZalandoAdoption.Found(NS, C, resource(), "t", null, null, 0, false, secrets(), List.of(adopted, ours),
        leftovers());
    assertThat(ZalandoAdoption.plan(f).claims()).isEmpty();
  }

  @Test
  void theDeadClustersServicesPatroniObjectsAndDisruptionBudgetsAreDeletedAndNothingElse() {
    assertThat(plan().delete()).extracting(o -> o.getKind() + " " + o.getMetadata().getName())
        .containsExactlyInAnyOrder("Endpoints acid-orders", "Endpoints acid-orders-config",
            "Service acid-orders-repl", "PodDisruptionBudget postgres-acid-orders-pdb");
  }

  @Test
  void whenThePostgresClusterExistsNothingIsDeletedAndItIsNotMadeAgain() {
    var f = found(resource(), null, null, 0, true, secrets());
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(f);
    assertThat(p.refusal()).isNull();
    assertThat(p.delete()).isEmpty();
    assertThat(p.cluster()).isNull();
  }

  @Test
  void theClusterIsZalandosConvertedWithItsMembersInTheNamespace() {
    ZalandoAdoption.Plan p = plan();
    assertThat(p.cluster().getMetadata().getName()).isEqualTo(C);
    assertThat(p.cluster().getMetadata().getNamespace()).isEqualTo(NS);
    assertThat(p.cluster().getMetadata().getUid()).isNull();
    assertThat(p.cluster().getSpec().replicas).isEqualTo(2);
    assertThat(p.cluster().getSpec().postgresVersion).isEqualTo(17);
    assertThat(p.cluster().getSpec().storage.storageClass).isEqualTo("local");
    assertThat(p.unconvertible()).isEmpty();
    // what the command applies: the YAML names the copied Secret, never a password
    String yaml = ZalandoConversion.yaml(List.of(p.cluster()));
    assertThat(yaml).contains("name: app-user.acid-orders.from-zalando").doesNotContain("app-old")
        .doesNotContain("su-old");
  }

  @Test
  void aSizeBelowTheClaimsIsRaisedToTheLargestClaim() {
    var f = new ZalandoAdoption.Found(NS, C, resource(), "t", null, null, 0, false, secrets(),
        List.of(claim("pgdata-" + C + "-0", "1Gi"), claim("pgdata-" + C + "-1", "3Gi")), List.of());
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(f);
    assertThat(p.cluster().getSpec().storage.size).isEqualTo("3Gi");
    assertThat(p.notes()).anyMatch(n -> n.contains("set to 3Gi"));
  }

  @Test
  void withoutTheResourceTheVersionMustBeGiven() {
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(null, null, null, 0, false, secrets()));
    assertThat(p.usage()).isTrue();
    assertThat(p.refusal()).contains("--postgres-version");
  }

  @Test
  void fromLeftoversTheMembersAreTheClaimsAndTheUsersTheSecrets() {
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(null, 17, null, 0, false, secrets()));
    assertThat(p.refusal()).isNull();
    assertThat(p.cluster().getSpec().replicas).isEqualTo(2);
    assertThat(p.cluster().getSpec().postgresVersion).isEqualTo(17);
    assertThat(p.cluster().getMetadata().getLabels()).containsEntry("team", "acid");
    assertThat(p.cluster().getSpec().users).extracting(u -> u.name).containsExactly("app_user");
    assertThat(user(p, "app_user").passwordSecret.name).isEqualTo("app-user.acid-orders.from-zalando");
    assertThat(p.secrets()).hasSize(3);
  }

  @Test
  void aVersionThatContradictsTheResourceIsRefused() {
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), 16, null, 0, false, secrets()));
    assertThat(p.usage()).isTrue();
    assertThat(p.refusal()).contains("differs");
  }

  @Test
  void noSuperuserSecretIsRefusedNamingItWithoutAnyPassword() {
    List<Secret> s = secrets();
    s.removeIf(x -> x.getMetadata().getName().startsWith("postgres."));
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), null, null, 0, false, s));
    assertThat(p.refusal()).contains("no Secret shop/postgres.acid-orders.credentials.postgresql.acid.zalan.do")
        .contains("super_username");
    assertThat(p.cluster()).isNull();
  }

  @Test
  void aSuperuserSecretOfAnotherUserIsRefused() {
    List<Secret> s = secrets();
    s.removeIf(x -> x.getMetadata().getName().startsWith("standby."));
    s.add(secret(ZalandoAdoption.zalandoSecret("standby", C), "replicator", "repl-old", ZALANDO));
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), null, null, 0, false, s));
    assertThat(p.refusal()).contains("does not hold username standby").doesNotContain("repl-old");
  }

  @Test
  void aPgtideSecretWithAnotherPasswordIsNeverOverwritten() {
    List<Secret> s = secrets();
    s.add(secret(ClusterModel.superuserSecret(C), "postgres", "generated", Map.of()));
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), null, null, 0, false, s));
    assertThat(p.refusal()).contains("exists with another password").doesNotContain("generated")
        .doesNotContain("su-old");
  }

  @Test
  void aSecondRunFindsTheCopiesAndGoesOn() {
    List<Secret> s = secrets();
    s.add(secret(ClusterModel.superuserSecret(C), "postgres", "su-old", Map.of()));
    s.add(secret(ClusterModel.standbySecret(C), "standby", "repl-old", Map.of()));
    s.add(secret("app-user.acid-orders.from-zalando", "app_user", "app-old", Map.of()));
    // Zalando's superuser Secret deleted since: the copy is enough
    s.removeIf(x -> x.getMetadata().getName().equals(ZalandoAdoption.zalandoSecret("postgres", C)));
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(found(resource(), null, null, 0, true, s));
    assertThat(p.refusal()).isNull();
  }

  @Test
  void theCopyHoldsTheSameBytesUnderPgtidesNameWithoutZalandosLabelsOrOwner() {
    Secret from = zalandoSecret("postgres", "su-old");
    from.getMetadata().setOwnerReferences(List.of(new io.fabric8.kubernetes.api.model.OwnerReferenceBuilder()
        .withKind("postgresql").withName(C).withUid("z").build()));
    Secret copy = ZalandoAdoption.copy(new ZalandoAdoption.SecretCopy("postgres", from.getMetadata().getName(),
        ClusterModel.superuserSecret(C), true), from, NS);
    assertThat(copy.getMetadata().getName()).isEqualTo(ClusterModel.superuserSecret(C));
    assertThat(copy.getData()).isEqualTo(from.getData());
    assertThat(copy.getMetadata().getAnnotations()).containsEntry(Ownership.ADOPT, "true")
        .containsEntry(ZalandoAdoption.COPIED_FROM, from.getMetadata().getName());
    assertThat(copy.getMetadata().getLabels()).isNullOrEmpty();
    assertThat(copy.getMetadata().getOwnerReferences()).isNullOrEmpty();
    Secret user = ZalandoAdoption.copy(new ZalandoAdoption.SecretCopy("app_user", "x", "y", false),
        zalandoSecret("app_user", "app-old"), NS);
    assertThat(user.getMetadata().getAnnotations()).doesNotContainKey(Ownership.ADOPT);
  }

  @Test
  void noNoteOrRefusalEverHoldsAPassword() {
    for (ZalandoAdoption.Plan p : List.of(plan(), ZalandoAdoption.plan(found(null, 17, null, 0, false, secrets())))) {
      String text = String.join("\n", p.notes()) + p.secrets() + p.claims();
      assertThat(text).doesNotContain("su-old").doesNotContain("repl-old").doesNotContain("app-old");
    }
  }

  @Test
  void claimOrdinalsAreThoseOfThisCluster() {
    assertThat(ZalandoAdoption.ordinal("pgdata-acid-orders-0", C)).isZero();
    assertThat(ZalandoAdoption.ordinal("pgdata-acid-orders-12", C)).isEqualTo(12);
    assertThat(ZalandoAdoption.ordinal("pgdata-acid-orders-backup-0", C)).isEqualTo(-1);
    assertThat(ZalandoAdoption.ordinal("pgdata-acid-0", C)).isEqualTo(-1);
  }

  static ZalandoAdoption.Found withLeftovers(List<HasMetadata> leftovers) {
    return new ZalandoAdoption.Found(NS, C, resource(), "t", null, null, 0, false, secrets(), claims(), leftovers);
  }

  @Test
  void refusedWhenPatronisHistoryNamesAnotherMemberThanTheFirstAsLastPrimary() {
    var config = new EndpointsBuilder().withNewMetadata().withName(C + "-config").withLabels(ZALANDO)
        .addToAnnotations("history", "[[1,50331808,\"no recovery target specified\",\"2026-12-04T10:00:00+00:00\","
            + "\"acid-orders-1\"]]").endMetadata().build();
    ZalandoAdoption.Plan p = ZalandoAdoption.plan(withLeftovers(List.of(config)));
    assertThat(p.refusal()).contains("names acid-orders-1 as its last primary")
        .contains("patronictl switchover --candidate acid-orders-0").contains("numberOfInstances: 1");
    // a switchover back to the first member: the newest line names it
    config.getMetadata().getAnnotations().put("history", "[[1,1,\"a\",\"t\",\"acid-orders-1\"],"
        + "[2,2,\"b\",\"t\",\"acid-orders-0\"]]");
    assertThat(ZalandoAdoption.plan(withLeftovers(List.of(config))).refusal()).isNull();
  }

  @Test
  void aLeaderStillRecordedIsTheLastPrimary() {
    var leader = new EndpointsBuilder().withNewMetadata().withName(C).withLabels(ZALANDO)
        .addToAnnotations("leader", "acid-orders-1").endMetadata().build();
    assertThat(ZalandoAdoption.lastPrimary(List.of(leader), C)).isEqualTo("acid-orders-1");
    var cleared = new ConfigMapBuilder().withNewMetadata().withName(C + "-leader").withLabels(ZALANDO)
        .addToAnnotations("optime", "123").endMetadata().build();
    assertThat(ZalandoAdoption.lastPrimary(List.of(cleared), C)).isNull();
    // no history, no leader: nothing known, nothing refused (the README's procedure is the guard)
    assertThat(ZalandoAdoption.plan(withLeftovers(List.of(cleared))).refusal()).isNull();
  }
}
