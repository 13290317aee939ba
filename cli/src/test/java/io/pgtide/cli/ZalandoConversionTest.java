package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterSpec.UserSpec;
import io.pgtide.common.crd.PostgresUser;
import io.pgtide.operator.ClusterFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One test per mapping rule of {@link ZalandoConversion}, on small inline manifests and the convert/ fixtures. */
class ZalandoConversionTest {
  static final Path DIR = Path.of("src/test/resources/convert");

  private static ZalandoConversion.Result convert(String specYaml) {
    return convert(specYaml, false);
  }

  /** A cluster acid-x of team acid with this spec body (indented by the caller as under spec:). */
  private static ZalandoConversion.Result convert(String specYaml, boolean separateUsers) {
    String doc = "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: acid-x, namespace: ns}\n"
        + "spec:\n  teamId: acid\n" + specYaml;
    return ZalandoConversion.convert(ZalandoConversion.parse(doc, "test"), separateUsers);
  }

  private static PostgresClusterSpec spec(ZalandoConversion.Result r) {
    return ((PostgresCluster) r.objects().get(0)).getSpec();
  }

  private static List<String> paths(ZalandoConversion.Result r) {
    return r.unconvertible().stream().map(ZalandoConversion.Unconvertible::path).toList();
  }

  private static UserSpec user(PostgresClusterSpec s, String name) {
    return s.users.stream().filter(u -> u.name.equals(name)).findFirst().orElseThrow();
  }

  @Test
  void nameAndNamespaceAreKeptAndTheTeamBecomesALabel() {
    ZalandoConversion.Result r = convert("  numberOfInstances: 1\n");
    PostgresCluster c = (PostgresCluster) r.objects().get(0);
    assertThat(c.getMetadata().getName()).isEqualTo("acid-x");
    assertThat(c.getMetadata().getNamespace()).isEqualTo("ns");
    assertThat(c.getMetadata().getLabels()).containsEntry("team", "acid");
    assertThat(r.unconvertible()).isEmpty();
  }

  @Test
  void annotationsAreKeptExceptZalandosInstructionsWhichAreListedAndKubectlsCopy() {
    String doc = "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata:\n  name: acid-x\n  annotations:\n"
        + "    example.com/owner: shop\n    acid.zalan.do/controller: second\n    delete-date: '2030-01-01'\n"
        + "    kubectl.kubernetes.io/last-applied-configuration: '{}'\nspec: {teamId: acid}\n";
    ZalandoConversion.Result r = ZalandoConversion.convert(ZalandoConversion.parse(doc, "t"), false);
    assertThat(r.objects().get(0).getMetadata().getAnnotations()).containsOnlyKeys("example.com/owner");
    assertThat(paths(r)).containsExactly("metadata.annotations.acid.zalan.do/controller",
        "metadata.annotations.delete-date");
  }

  @Test
  void aNameWithoutTheTeamPrefixIsKeptAsItIs() {
    // Zalando asks for the prefix only with enable_team_id_clustername_prefix, off by default
    String doc = "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: orders}\nspec: {teamId: shop}\n";
    ZalandoConversion.Result r = ZalandoConversion.convert(ZalandoConversion.parse(doc, "t"), false);
    assertThat(r.objects().get(0).getMetadata().getName()).isEqualTo("orders");
    assertThat(r.objects().get(0).getMetadata().getLabels()).containsEntry("team", "shop");
    assertThat(r.unconvertible()).isEmpty();
  }

  @Test
  void instancesBecomeReplicasWithinPgtidesBounds() {
    assertThat(spec(convert("  numberOfInstances: 3\n")).replicas).isEqualTo(3);
    ZalandoConversion.Result stopped = convert("  numberOfInstances: 0\n");
    assertThat(paths(stopped)).containsExactly("spec.numberOfInstances");
    assertThat(stopped.unconvertible().get(0).why()).contains("1 to 32", "stopped");
  }

  @Test
  void volumeSizeAndStorageClassMapOtherVolumeFieldsAreListed() {
    ZalandoConversion.Result r = convert("  volume: {size: 7Gi, storageClass: gp3, iops: 3000, throughput: 250}\n");
    assertThat(spec(r).storage.size).isEqualTo("7Gi");
    assertThat(spec(r).storage.storageClass).isEqualTo("gp3");
    assertThat(paths(r)).containsExactly("spec.volume.iops", "spec.volume.throughput");
  }

  @Test
  void userFlagsMapCaseInsensitivelyWithZalandosLoginDefault() {
    PostgresClusterSpec s = spec(convert("  users:\n    plain: []\n    owner: [SUPERUSER, createdb, CreateRole]\n"
        + "    group: [nologin, NOINHERIT]\n    repl: [replication, bypassrls, login]\n"));
    UserSpec plain = user(s, "plain");
    assertThat(plain.login).as("Zalando adds LOGIN unless NOLOGIN").isTrue();
    assertThat(plain.inherit).isTrue();
    assertThat(plain.superuser || plain.createdb || plain.createrole || plain.replication || plain.bypassrls).isFalse();
    UserSpec owner = user(s, "owner");
    assertThat(owner.superuser && owner.createdb && owner.createrole).isTrue();
    UserSpec group = user(s, "group");
    assertThat(group.login).isFalse();
    assertThat(group.inherit).isFalse();
    UserSpec repl = user(s, "repl");
    assertThat(repl.replication && repl.bypassrls && repl.login).isTrue();
  }

  @Test
  void unknownAndConflictingFlagsAreListedAndTheUserLeftOut() {
    ZalandoConversion.Result r = convert("  users:\n    a: [superpower]\n    b: [login, nologin]\n    c: []\n");
    assertThat(paths(r)).containsExactly("spec.users.a", "spec.users.b");
    assertThat(r.unconvertible().get(0).why()).contains("unknown flag 'superpower'");
    assertThat(r.unconvertible().get(1).why()).contains("conflicting flags LOGIN and NOLOGIN");
    assertThat(spec(r).users).extracting(u -> u.name).containsExactly("c");
  }

  @Test
  void aFieldOfTheWrongShapeIsListedNotReadAsNothing() {
    ZalandoConversion.Result r = convert("  users: [alice]\n  volume: 5Gi\n");
    assertThat(paths(r)).containsExactly("spec.users", "spec.volume");
    assertThat(r.unconvertible().get(0).why()).isEqualTo("expected a mapping, got '[\"alice\"]'");
    ZalandoConversion.Result scheduling = convert("  tolerations: {key: x}\n"
        + "  topologySpreadConstraints: [{maxSkew: many}]\n"
        + "  nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: 3}\n");
    assertThat(paths(scheduling)).containsExactly("spec.tolerations", "spec.topologySpreadConstraints",
        "spec.nodeAffinity");
    assertThat(spec(scheduling).scheduling).isNull();
    ZalandoConversion.Result flags = convert("  users: {bob: superuser}\n");
    assertThat(paths(flags)).containsExactly("spec.users.bob");
    assertThat(spec(flags).users).isEmpty();
  }

  @Test
  void separateUsersBecomePostgresUsersOfTheCluster() {
    ZalandoConversion.Result r = convert("  users:\n    foo_user: [createdb]\n", true);
    assertThat(spec(r).users).isEmpty();
    PostgresUser u = (PostgresUser) r.objects().get(1);
    assertThat(u.getMetadata().getName()).isEqualTo("acid-x-foo-user");
    assertThat(u.getMetadata().getNamespace()).isEqualTo("ns");
    assertThat(u.getSpec().cluster).isEqualTo("acid-x");
    assertThat(u.getSpec().name).isEqualTo("foo_user");
    assertThat(u.getSpec().createdb).isTrue();
    assertThat(u.getSpec().login).isTrue();
  }

  @Test
  void aUserNoPostgresUserCanBeNamedAfterStaysInlineAndIsListed() {
    ZalandoConversion.Result r = convert("  users:\n    \"Mixed Case\": []\n    ok: []\n", true);
    assertThat(spec(r).users).extracting(u -> u.name).containsExactly("Mixed Case");
    assertThat(r.objects()).extracting(o -> o.getMetadata().getName()).containsExactly("acid-x", "acid-x-ok");
    assertThat(paths(r)).containsExactly("spec.users.Mixed Case");
  }

  @Test
  void databasesKeepTheirOwner() {
    PostgresClusterSpec s = spec(convert("  users: {app: []}\n  databases: {shop: app, misc: app}\n"));
    assertThat(s.databases).extracting(d -> d.name + "/" + d.owner).containsExactly("shop/app", "misc/app");
  }

  @Test
  void aPreparedDatabaseGetsItsOwnerRoleDefaultRolesAndDefaultUsersButNotItsSchemas() {
    ZalandoConversion.Result r = convert("  preparedDatabases:\n    bar:\n      defaultUsers: true\n"
        + "      extensions: {pgcrypto: public}\n      schemas: {history: {}}\n");
    PostgresClusterSpec s = spec(r);
    assertThat(s.databases).singleElement().satisfies(d -> {
      assertThat(d.name).isEqualTo("bar");
      assertThat(d.owner).isEqualTo("bar_owner");
      assertThat(d.defaultRoles).as("pgtide's bar_reader and bar_writer are Zalando's names").isTrue();
    });
    assertThat(user(s, "bar_owner").login).isFalse();
    assertThat(user(s, "bar_owner_user").memberOf).containsExactly("bar_owner");
    assertThat(user(s, "bar_reader_user").memberOf).containsExactly("bar_reader");
    assertThat(user(s, "bar_writer_user").memberOf).containsExactly("bar_writer");
    assertThat(user(s, "bar_writer_user").login).isTrue();
    assertThat(paths(r)).containsExactly("spec.preparedDatabases.bar.schemas.history",
        "spec.preparedDatabases.bar.extensions");
  }

  @Test
  void aPreparedDatabaseWithoutSchemasListsZalandosDefaultSchema() {
    ZalandoConversion.Result r = convert("  preparedDatabases:\n    bar: {}\n");
    assertThat(spec(r).users).extracting(u -> u.name).containsExactly("bar_owner");
    assertThat(r.unconvertible()).singleElement().satisfies(u -> {
      assertThat(u.path()).isEqualTo("spec.preparedDatabases.bar.schemas");
      assertThat(u.why()).contains("schema data", "bar_data_owner");
    });
  }

  @Test
  void anEmptyPreparedDatabasesIsOneNamedAfterTheCluster() {
    ZalandoConversion.Result r = convert("  preparedDatabases: {}\n");
    assertThat(spec(r).databases).extracting(d -> d.name).containsExactly("acid_x");
  }

  @Test
  void versionAndParametersMapAndAVersionPgtideDoesNotRunIsListed() {
    PostgresClusterSpec s = spec(convert("  postgresql:\n    version: \"14\"\n    parameters: {work_mem: 4MB,"
        + " max_connections: \"50\"}\n"));
    assertThat(s.postgresVersion).isEqualTo(14);
    assertThat(s.parameters).containsEntry("work_mem", "4MB").containsEntry("max_connections", "50");
    ZalandoConversion.Result r = convert("  postgresql: {version: \"18\"}\n");
    assertThat(paths(r)).containsExactly("spec.postgresql.version");
    assertThat(r.unconvertible().get(0).why()).contains("13 to 17");
  }

  @Test
  void patroniTimingAndSynchronousModeMapDefaultsAreSilentAndTheRestListed() {
    ZalandoConversion.Result r = convert("  patroni:\n    ttl: 45\n    loop_wait: 9\n    retry_timeout: 11\n"
        + "    synchronous_mode: true\n    maximum_lag_on_failover: 1024\n    failsafe_mode: false\n"
        + "    synchronous_mode_strict: false\n    synchronous_node_count: 1\n    pg_hba: [host all all all md5]\n"
        + "    initdb: {encoding: UTF8}\n");
    PostgresClusterSpec.PatroniSpec p = spec(r).patroni;
    assertThat(List.of(p.ttl, p.loopWait, p.retryTimeout)).containsExactly(45, 9, 11);
    assertThat(p.synchronousMode).isTrue();
    assertThat(p.maximumLagOnFailover).isEqualTo(1024);
    assertThat(paths(r)).containsExactly("spec.patroni.pg_hba", "spec.patroni.initdb");
    assertThat(paths(convert("  patroni: {ttl: 3, synchronous_mode_strict: true, synchronous_node_count: 2}\n")))
        .containsExactly("spec.patroni.ttl", "spec.patroni.synchronous_mode_strict",
            "spec.patroni.synchronous_node_count");
  }

  @Test
  void patroniTimingPgtideRefusesIsListedWithItsRule() {
    ZalandoConversion.Result r = convert("  patroni: {ttl: 30, loop_wait: 10, retry_timeout: 15}\n");
    assertThat(r.unconvertible()).singleElement().satisfies(u -> {
      assertThat(u.path()).isEqualTo("spec");
      assertThat(u.why()).contains("patroni.ttl 30 must be at least loopWait + 2 × retryTimeout (40)");
    });
  }

  @Test
  void resourcesMapRequestsAndLimits() {
    PostgresClusterSpec s = spec(convert("  resources:\n    requests: {cpu: 10m, memory: 100Mi}\n"
        + "    limits: {cpu: 500m, memory: 500Mi}\n"));
    assertThat(s.resources.get("requests")).containsEntry("cpu", "10m").containsEntry("memory", "100Mi");
    assertThat(s.resources.get("limits")).containsEntry("cpu", "500m").containsEntry("memory", "500Mi");
  }

  @Test
  void tolerationsNodeAffinityTopologySpreadAndPriorityGoToScheduling() {
    PostgresClusterSpec s = spec(convert("  tolerations: [{key: postgres, operator: Exists, effect: NoSchedule}]\n"
        + "  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n"
        + "        - matchExpressions: [{key: pg, operator: In, values: [yes-please]}]\n"
        + "  topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone,"
        + " whenUnsatisfiable: DoNotSchedule}]\n  podPriorityClassName: high\n"));
    assertThat(s.scheduling.tolerations).singleElement().satisfies(t -> {
      assertThat(t.getKey()).isEqualTo("postgres");
      assertThat(t.getOperator()).isEqualTo("Exists");
    });
    assertThat(s.scheduling.affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
        .getNodeSelectorTerms().get(0).getMatchExpressions().get(0).getValues()).containsExactly("yes-please");
    assertThat(s.scheduling.topologySpreadConstraints.get(0).getTopologyKey()).isEqualTo("topology.kubernetes.io/zone");
    assertThat(s.scheduling.priorityClassName).isEqualTo("high");
  }

  @Test
  void podAnnotationsAndOtherFieldsWithoutCounterpartAreListedWithWhy() {
    ZalandoConversion.Result r = convert("  podAnnotations: {a: b}\n  dockerImage: x/spilo\n"
        + "  enableMasterLoadBalancer: true\n  enableReplicaLoadBalancer: false\n  somethingNew: 1\n"
        + "  tls: {secretName: my-tls}\n  enableShmVolume: false\n");
    assertThat(r.unconvertible()).extracting(ZalandoConversion.Unconvertible::line).containsExactly(
        "ns/acid-x: spec.podAnnotations: PostgresCluster has no pod annotations: the operator owns the pod template",
        "ns/acid-x: spec.dockerImage: pgtide runs its own Spilo image with the sidecar (spec.image takes only an"
            + " allowed one); Zalando's image is not used",
        "ns/acid-x: spec.enableMasterLoadBalancer: pgtide makes no load balancers",
        "ns/acid-x: spec.somethingNew: PostgresCluster has no field for it",
        "ns/acid-x: spec.tls: pgtide issues server certificates from a per-cluster CA; a Secret of your own is not"
            + " used",
        "ns/acid-x: spec.enableShmVolume: pgtide always mounts a memory-backed /dev/shm");
  }

  @Test
  void aNameTooLongForPgtideIsListed() {
    String name = "acid-" + "x".repeat(50);
    String doc = "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: " + name + "}\n"
        + "spec: {teamId: acid}\n";
    ZalandoConversion.Result r = ZalandoConversion.convert(ZalandoConversion.parse(doc, "t"), false);
    assertThat(paths(r)).containsExactly("metadata.name");
  }

  @Test
  void badInputIsRefusedWithTheReason() {
    assertThatThrownBy(() -> ZalandoConversion.parse("a: [unclosed", "f.yaml"))
        .isInstanceOf(ZalandoConversion.BadInput.class).hasMessageStartingWith("f.yaml is not YAML");
    assertThatThrownBy(() -> ZalandoConversion.parse("", "f.yaml")).hasMessage("f.yaml holds no document");
    assertThatThrownBy(() -> ZalandoConversion.convert(ZalandoConversion.parse(
        "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {}\nspec: {teamId: a}\n", "f"), false))
        .hasMessage("document 1: metadata.name is required");
    assertThatThrownBy(() -> ZalandoConversion.convert(ZalandoConversion.parse(
        "apiVersion: acid.zalan.do/v1\nkind: postgresql\nmetadata: {name: a-x}\nspec: {}\n", "f"), false))
        .hasMessageContaining("spec.teamId is required");
    assertThatThrownBy(() -> ZalandoConversion.convert(ZalandoConversion.parse(
        Files.readString(DIR.resolve("not-zalando.yaml")), "f"), false))
        .hasMessage("document 1: kind must be postgresql and apiVersion acid.zalan.do/v1, got kind 'PostgresCluster'"
            + " and apiVersion 'pgtide.io/v1'");
  }

  @Test
  void theSmallFixtureConvertsWhollyAndItsYamlIsAValidPostgresCluster() throws Exception {
    ZalandoConversion.Result r = ZalandoConversion.convert(
        ZalandoConversion.parse(Files.readString(DIR.resolve("small.yaml")), "small.yaml"), false);
    assertThat(r.unconvertible()).isEmpty();
    String yaml = ZalandoConversion.yaml(r.objects());
    // the YAML pgtide validate/render/the operator read, checked with the rules they apply
    PostgresCluster back = ClusterFile.parse(yaml, "converted");
    assertThat(ClusterFile.problem(back, false)).isNull();
    assertThat(back.getMetadata().getLabels()).containsEntry("environment", "staging").containsEntry("team", "shop");
    assertThat(back.getSpec().replicas).isEqualTo(3);
    assertThat(back.getSpec().postgresVersion).isEqualTo(16);
    assertThat(back.getSpec().storage.storageClass).isEqualTo("fast-ssd");
    assertThat(back.getSpec().users).hasSize(5);
    assertThat(yaml).as("defaults are left to the CRD").doesNotContain("autoscaling", "monitoring", "ensure");
    assertThat(yaml).as("strings that look like numbers stay strings").contains("max_connections: \"200\"")
        .contains("apiVersion: pgtide.io/v1");
  }

  @Test
  void theFixtureWithoutCounterpartsListsEachField() throws Exception {
    ZalandoConversion.Result r = ZalandoConversion.convert(
        ZalandoConversion.parse(Files.readString(DIR.resolve("everything.yaml")), "everything.yaml"), true);
    assertThat(paths(r)).containsExactlyInAnyOrder("spec.dockerImage", "spec.volume.iops", "spec.postgresql.version",
        "spec.patroni.pg_hba", "spec.patroni.slots", "spec.podAnnotations", "spec.enableMasterLoadBalancer",
        "spec.allowedSourceRanges", "spec.standby", "spec.sidecars", "spec.preparedDatabases.facts.schemas.staging",
        "spec.preparedDatabases.facts.extensions");
    List<HasMetadata> objects = r.objects();
    assertThat(objects).hasSize(6).first().isInstanceOf(PostgresCluster.class);
    assertThat(objects.subList(1, 6)).allMatch(o -> o instanceof PostgresUser)
        .extracting(o -> o.getMetadata().getName()).containsExactly("data-warehouse-etl",
            "data-warehouse-facts-owner", "data-warehouse-facts-owner-user", "data-warehouse-facts-reader-user",
            "data-warehouse-facts-writer-user");
  }

  @Test
  void everyDocumentAndListItemIsConverted() throws Exception {
    ZalandoConversion.Result r = ZalandoConversion.convert(ZalandoConversion.parse(
        Files.readString(DIR.resolve("two-and-a-list.yaml")), "two"), false);
    assertThat(r.objects()).extracting(o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName())
        .containsExactly("web/web-one", "web/web-two");
    assertThat(ConvertCommandTest.documents(ZalandoConversion.yaml(r.objects()), PostgresCluster.class))
        .extracting(c -> c.getSpec().postgresVersion).containsExactly(15, 17);
  }
}
