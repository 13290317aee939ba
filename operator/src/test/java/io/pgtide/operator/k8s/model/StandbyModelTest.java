package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.pgtide.common.contract.Acceptance;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class StandbyModelTest {
  static PostgresCluster standby(String ns, String name, String source, String sourceNs) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).withUid("uid-" + name).build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().standby = new PostgresClusterSpec.StandbySpec();
    cr.getSpec().standby.source = source;
    cr.getSpec().standby.sourceNamespace = sourceNs;
    return cr;
  }

  static PostgresCluster plain(String ns, String name) {
    PostgresCluster cr = standby(ns, name, "x", null);
    cr.getSpec().standby = null;
    return cr;
  }

  private static Map<String, String> env(PostgresCluster cr) {
    return ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec().getContainers()
        .stream().filter(c -> c.getName().equals("postgres")).flatMap(c -> c.getEnv().stream())
        .filter(e -> e.getValue() != null).collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  @Test
  void slotNamesAreSanitisedBoundedAndDistinct() {
    assertThat(StandbyModel.slotName("dr", "orders-copy")).isEqualTo("pgtide_standby_dr_orders_copy");
    String a = StandbyModel.slotName("n".repeat(40), "c".repeat(40) + "-a");
    String b = StandbyModel.slotName("n".repeat(40), "c".repeat(40) + "-b");
    assertThat(a).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9_]+");
    assertThat(b).hasSizeLessThanOrEqualTo(63).isNotEqualTo(a);
    assertThat(StandbyModel.slotName("Dr", "x.y")).isEqualTo("pgtide_standby_dr_x_y");
  }

  @Test
  void aStandbysPodsCarrySpilosStandbyContractAndOthersNone() {
    Map<String, String> env = env(standby("dr", "orders-copy", "orders", "shop"));
    assertThat(env).containsEntry("STANDBY_HOST", "orders.shop.svc").containsEntry("STANDBY_PORT", "5432")
        .containsEntry("STANDBY_PRIMARY_SLOT_NAME", "pgtide_standby_dr_orders_copy");
    assertThat(env(standby("shop", "copy", "orders", null))).containsEntry("STANDBY_HOST", "orders.shop.svc");
    assertThat(env(plain("shop", "orders"))).doesNotContainKeys("STANDBY_HOST", "STANDBY_PORT",
        "STANDBY_PRIMARY_SLOT_NAME");
  }

  @Test
  void aStandbyFallsBackToItsSourcesArchiveThroughTheSourceAgentWithTheMountedTokenAndCa() {
    PostgresCluster cr = standby("dr", "orders-copy", "orders", "shop");
    io.vertx.core.json.JsonObject spilo = new io.vertx.core.json.JsonObject(env(cr).get("SPILO_CONFIGURATION"));
    String restore = spilo.getJsonObject("bootstrap").getJsonObject("dcs").getJsonObject("standby_cluster")
        .getString("restore_command");
    assertThat(restore).isEqualTo("curl --silent --show-error --fail --connect-timeout 5 --max-time 300"
        + " --cacert /etc/pgtide/standby-archive/ca.crt --header @/etc/pgtide/standby-archive/authorization"
        + " --output %p https://orders-backup.shop.svc:8443/wal/%f");
    var pod = ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getSecret() != null
            && "orders-copy-standby-archive".equals(v.getSecret().getSecretName()))
        .singleElement().satisfies(v -> assertThat(v.getSecret().getOptional()).as("a source without backups: "
            + "the pods start all the same").isTrue());
    assertThat(pod.getContainers()).filteredOn(c -> "postgres".equals(c.getName())).singleElement()
        .satisfies(c -> assertThat(c.getVolumeMounts()).anyMatch(m -> "/etc/pgtide/standby-archive"
            .equals(m.getMountPath()) && Boolean.TRUE.equals(m.getReadOnly())));
    PostgresCluster other = plain("shop", "orders");
    assertThat(new io.vertx.core.json.JsonObject(env(other).get("SPILO_CONFIGURATION")).getJsonObject("bootstrap")
        .getJsonObject("dcs").containsKey("standby_cluster")).isFalse();
    assertThat(ClusterModel.statefulSet(other, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec()
        .getVolumes()).noneMatch(v -> "standby-archive".equals(v.getName()));

    var secret = StandbyModel.archiveSecret(cr, "wal-token", "-----BEGIN CERTIFICATE-----\n");
    assertThat(secret.getMetadata().getName()).isEqualTo("orders-copy-standby-archive");
    assertThat(secret.getStringData()).containsEntry("authorization", "Authorization: Bearer wal-token\n")
        .containsEntry("ca.crt", "-----BEGIN CERTIFICATE-----\n");
    assertThat(secret.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-orders-copy"));
  }

  @Test
  void theSourceAgentsPolicyAdmitsEachStandbysMembersOnItsTlsPortOnly() {
    PostgresCluster source = plain("shop", "orders");
    source.getSpec().backup = new PostgresClusterSpec.BackupSpec();
    NetworkPolicy alone = BackupAgentModel.networkPolicy(source, OperatorConfig.DEFAULTS);
    NetworkPolicy with = BackupAgentModel.networkPolicy(source, OperatorConfig.DEFAULTS,
        List.of(standby("dr", "orders-copy", "orders", "shop")));
    assertThat(with.getSpec().getIngress()).hasSize(alone.getSpec().getIngress().size() + 1);
    var rule = with.getSpec().getIngress().get(with.getSpec().getIngress().size() - 1);
    assertThat(rule.getPorts()).singleElement().satisfies(p -> assertThat(p.getPort().getIntVal())
        .isEqualTo(BackupAgentModel.TLS_PORT));
    assertThat(rule.getFrom()).singleElement().satisfies(f -> {
      assertThat(f.getNamespaceSelector().getMatchLabels()).containsEntry("kubernetes.io/metadata.name", "dr");
      assertThat(f.getPodSelector().getMatchLabels()).containsEntry("cluster-name", "orders-copy");
    });
    assertThat(BackupAgentModel.deployment(source, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec()
        .getContainers().get(0).getEnv()).anyMatch(e -> "PGTIDE_WAL_TOKEN".equals(e.getName())
        && "orders-backup-wal".equals(e.getValueFrom().getSecretKeyRef().getName()));
  }

  @Test
  void promotionKeepsThePodTemplateSoNoMemberRestarts() {
    PostgresCluster cr = standby("dr", "copy", "orders", "shop");
    StatefulSet before = ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS);
    cr.setStatus(new PostgresClusterStatus());
    cr.getStatus().standby = StandbyModel.promotedRecord(StandbyModel.origin(cr), null, Instant.EPOCH);
    cr.getSpec().standby = null; // promoted by removing the field
    StatefulSet after = ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS);
    assertThat(after.getSpec().getTemplate()).isEqualTo(before.getSpec().getTemplate());
  }

  @Test
  void standbyIsSetAtCreationOnly() {
    PostgresCluster cr = standby("dr", "copy", "orders", "shop");
    assertThat(StandbyModel.addedLater(cr, null)).isNull();
    assertThat(StandbyModel.addedLater(cr, ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS))).isNull();
    StatefulSet madeWithout = ClusterModel.statefulSet(plain("dr", "copy"), OperatorConfig.DEFAULTS);
    assertThat(StandbyModel.addedLater(cr, madeWithout)).contains("set when a cluster is created");
  }

  @Test
  void theSourcesPolicyAdmitsEachStandbysMembersFromTheirNamespaceOn5432() {
    PostgresCluster source = plain("shop", "orders");
    List<PostgresCluster> all = List.of(source, standby("dr", "copy", "orders", "shop"),
        standby("shop", "near", "orders", null), standby("dr", "other", "billing", "shop"));
    List<PostgresCluster> standbys = StandbyModel.standbysOf("shop", "orders", all);
    assertThat(standbys).extracting(c -> c.getMetadata().getName()).containsExactly("copy", "near");
    assertThat(StandbyModel.slots(standbys)).containsExactly("pgtide_standby_dr_copy", "pgtide_standby_shop_near");
    NetworkPolicy np = ClusterModel.networkPolicy(source, OperatorConfig.DEFAULTS, standbys);
    var rule = np.getSpec().getIngress().get(np.getSpec().getIngress().size() - 2);
    assertThat(rule.getPorts().get(0).getPort().getIntVal()).isEqualTo(5432);
    assertThat(rule.getFrom().get(0).getNamespaceSelector().getMatchLabels())
        .containsEntry("kubernetes.io/metadata.name", "dr");
    assertThat(rule.getFrom().get(0).getPodSelector().getMatchLabels()).containsEntry("cluster-name", "copy");
    assertThat(ClusterModel.networkPolicy(source, OperatorConfig.DEFAULTS).getSpec().getIngress())
        .hasSize(np.getSpec().getIngress().size() - 2);
  }

  @Test
  void aPromotedStandbyKeepsNoSlotOnItsSource() {
    PostgresCluster promoted = standby("dr", "copy", "orders", "shop");
    promoted.setStatus(new PostgresClusterStatus());
    promoted.getStatus().standby = StandbyModel.promotedRecord(StandbyModel.origin(promoted), null, Instant.EPOCH);
    assertThat(StandbyModel.standbysOf("shop", "orders", List.of(promoted))).isEmpty();
  }

  @Test
  void lagIsTheSourcesCurrentPositionMinusWhatTheStandbyReplayed() {
    assertThat(StandbyModel.lagBytes(1000L, 400L, 900L)).isEqualTo(600L);
    assertThat(StandbyModel.lagBytes(1000L, null, 900L)).as("no replay: received").isEqualTo(100L);
    assertThat(StandbyModel.lagBytes(1000L, 1200L, null)).as("reports of different moments").isZero();
    assertThat(StandbyModel.lagBytes(null, 400L, 900L)).isNull();
    assertThat(StandbyModel.lagBytes(1000L, null, null)).isNull();
  }

  private static InstanceReport report(MemberId id, String patroniRole, Long current, Long replayed, String wal) {
    return new InstanceReport(id, ContractCodec.SCHEMA_VERSION, "s", 1, System.currentTimeMillis(), Role.PRIMARY,
        patroniRole, "running", null, false, false, 1L, current, replayed, replayed, 0L, null, wal, List.of(),
        null, null, null, true, null, Acceptance.ACCEPTING);
  }

  private static ClusterView view(String ns, String cluster, InstanceReport r) {
    long now = System.currentTimeMillis();
    MemberView m = new MemberView(r.id(), r, now, true);
    return new ClusterView(ns + "/" + cluster, Map.of(r.id().member(), m), now, 10_000);
  }

  @Test
  void statusShowsTheLagAndWhetherTheLeaderStreams() {
    ClusterView source = view("shop", "orders", report(new MemberId("shop", "orders", "orders-0"), "primary",
        5_000L, null, null));
    ClusterView standby = view("dr", "copy", report(new MemberId("dr", "copy", "copy-0"), "standby_leader", null,
        4_000L, "streaming"));
    var s = StandbyModel.status(new StandbyModel.Source("shop", "orders"), source, standby, null);
    assertThat(s.source).isEqualTo("shop/orders");
    assertThat(s.lagBytes).isEqualTo(1_000L);
    assertThat(s.streaming).isTrue();
    assertThat(s.promoted).isFalse();
    var gone = StandbyModel.status(new StandbyModel.Source("shop", "orders"),
        new ClusterView("shop/orders", Map.of(), 0, 10_000), standby, null);
    assertThat(gone.lagBytes).as("source gone: unknown, not zero").isNull();
    PostgresClusterStatus st = new PostgresClusterStatus();
    st.standby = s;
    StandbyModel.condition(st, true, "standby_leader", Instant.EPOCH);
    assertThat(st.conditions).anyMatch(c -> c.type.equals("Standby") && c.status.equals("True")
        && c.reason.equals("Following"));
  }

  @Test
  void promotionIsRecordedFirstThenCarriedOutUntilTheLeaderIsPrimary() {
    var following = new PostgresClusterStatus.Standby();
    following.source = "shop/orders";
    assertThat(StandbyModel.promotion(false, null, false, null)).isEqualTo(StandbyModel.PromotionStep.NONE);
    assertThat(StandbyModel.promotion(true, following, false, "standby_leader"))
        .isEqualTo(StandbyModel.PromotionStep.NONE);
    assertThat(StandbyModel.promotion(true, following, true, "standby_leader"))
        .as("kubectl pgtide promote").isEqualTo(StandbyModel.PromotionStep.RECORD);
    assertThat(StandbyModel.promotion(false, following, false, "standby_leader"))
        .as("spec.standby removed").isEqualTo(StandbyModel.PromotionStep.RECORD);
    assertThat(StandbyModel.promotion(false, null, false, "standby_leader"))
        .as("removed before any status recorded it").isEqualTo(StandbyModel.PromotionStep.RECORD);
    var promoted = StandbyModel.promotedRecord(new StandbyModel.Source("shop", "orders"), following, Instant.EPOCH);
    assertThat(StandbyModel.promotion(true, promoted, false, "standby_leader"))
        .isEqualTo(StandbyModel.PromotionStep.REMOVE_STANDBY_CONFIG);
    assertThat(StandbyModel.promotion(true, promoted, false, "primary")).isEqualTo(StandbyModel.PromotionStep.DONE);
    assertThat(StandbyModel.promotion(true, promoted, true, "master"))
        .as("asked again: nothing twice").isEqualTo(StandbyModel.PromotionStep.DONE);
    assertThat(StandbyModel.promotion(true, promoted, false, null)).as("no leader: wait for one")
        .isEqualTo(StandbyModel.PromotionStep.NONE);
    assertThat(StandbyModel.promotion(true, promoted, true, null)).as("asked with no leader: try, and say why not")
        .isEqualTo(StandbyModel.PromotionStep.REMOVE_STANDBY_CONFIG);
  }

  @Test
  void aPromotedClusterWithSpecStandbyLeftSaysToRemoveIt() {
    PostgresClusterStatus st = new PostgresClusterStatus();
    st.standby = StandbyModel.promotedRecord(new StandbyModel.Source("shop", "orders"), null, Instant.EPOCH);
    StandbyModel.condition(st, true, "primary", Instant.EPOCH);
    var c = st.conditions.get(0);
    assertThat(c.status).isEqualTo("False");
    assertThat(c.reason).isEqualTo("Promoted");
    assertThat(c.message).contains("remove spec.standby from the spec");
    PostgresCluster cr = standby("dr", "copy", "orders", "shop");
    cr.setStatus(st);
    assertThat(StandbyModel.following(cr)).as("spec.standby left does not make it follow again").isFalse();
  }

  @Test
  void aStandbyTakesItsSourcesPasswordsAsARestoreDoes() {
    var src = StandbyModel.credentialSource(standby("dr", "copy", "orders", "shop"));
    assertThat(src).isEqualTo(new StandbyModel.CredentialSource("shop", "orders", "StandbySourceInvalid"));
    assertThat(StandbyModel.credentialSource(plain("shop", "orders"))).isNull();
  }

  static PostgresCluster s3Standby(String ns, String name, String source, String sourceNs) {
    PostgresCluster cr = standby(ns, name, source, sourceNs);
    var s3 = new PostgresClusterSpec.S3Spec();
    s3.endpoint = "http://10.96.0.9:9000/";
    s3.bucket = "backups";
    s3.credentialsSecret = "s3-keys";
    s3.region = "eu-central-1";
    cr.getSpec().standby.s3 = s3;
    return cr;
  }

  @Test
  void aStandbyOfAnS3CopyIsToldNoHostKeepsNoSlotOnTheSourceAndStartsFromTheCopy() {
    PostgresCluster cr = s3Standby("dr", "orders-copy", "orders", "shop");
    Map<String, String> env = env(cr);
    assertThat(env).doesNotContainKeys("STANDBY_HOST", "STANDBY_PORT", "STANDBY_PRIMARY_SLOT_NAME")
        .containsEntry("PGTIDE_STANDBY_S3", "http://10.96.0.9:9000/backups/shop/orders");
    var dcs = new io.vertx.core.json.JsonObject(env.get("SPILO_CONFIGURATION")).getJsonObject("bootstrap")
        .getJsonObject("dcs");
    assertThat(dcs.getJsonObject("standby_cluster").fieldNames()).containsExactly("restore_command");
    // what its restore Job writes as Patroni's cached configuration is the same as the bootstrap's
    assertThat(ClusterModel.patroniDynamic(cr.getSpec(), StandbyModel.restoreCommand(StandbyModel.origin(cr))))
        .isEqualTo(dcs);
    // marked as made a standby: not refused as spec.standby added later
    assertThat(StandbyModel.addedLater(cr, ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS))).isNull();
    assertThat(StandbyModel.addedLater(cr, ClusterModel.statefulSet(plain("dr", "orders-copy"),
        OperatorConfig.DEFAULTS))).contains("not added to a running one");
    // the source keeps no slot for it and its policy admits nothing for it
    assertThat(StandbyModel.standbysOf("shop", "orders", List.of(cr))).isEmpty();
    // a source out of the operator's namespaces is no obstacle: its passwords can be given instead
    assertThat(ClusterValidation.standbyScopeProblem(cr, List.of("dr"))).isNull();
    assertThat(ClusterValidation.standbyScopeProblem(standby("dr", "c", "orders", "shop"), List.of("dr")))
        .isNotNull();

    // promoted by removing spec.standby: the pods' settings stay as they were (status.standby keeps the copy)
    cr.setStatus(new PostgresClusterStatus());
    cr.getStatus().standby = StandbyModel.promotedRecord(StandbyModel.origin(cr), null, Instant.EPOCH);
    Map<String, String> before = env;
    cr.getSpec().standby = null;
    assertThat(env(cr)).containsEntry("PGTIDE_STANDBY_S3", before.get("PGTIDE_STANDBY_S3"))
        .containsEntry("SPILO_CONFIGURATION", before.get("SPILO_CONFIGURATION"));
  }

  @Test
  void anS3StandbysRestoreJobLaysTheCopyDownWithPatronisStandbyConfigurationAndNoPasswordToSet() {
    PostgresCluster cr = s3Standby("dr", "orders-copy", "orders", "shop");
    var pod = BackupAgentModel.restoreJob(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).filteredOn(v -> "repository".equals(v.getName()))
        .singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
    var env = pod.getContainers().get(0).getEnv();
    assertThat(env).extracting(EnvVar::getName, EnvVar::getValue).contains(
        org.assertj.core.groups.Tuple.tuple("PGTIDE_SOURCE", "orders"),
        org.assertj.core.groups.Tuple.tuple("PGTIDE_S3_PREFIX", "shop/orders"),
        org.assertj.core.groups.Tuple.tuple("PGTIDE_S3_REGION", "eu-central-1"));
    assertThat(env).extracting(EnvVar::getName).as("a standby cannot change its source's passwords")
        .doesNotContain("PGTIDE_SUPERUSER_PASSWORD", "PGTIDE_REPLICATION_PASSWORD");
    String dynamic = env.stream().filter(e -> e.getName().equals("PGTIDE_STANDBY_DYNAMIC")).findFirst()
        .orElseThrow().getValue();
    assertThat(new io.vertx.core.json.JsonObject(dynamic).getJsonObject("standby_cluster").getString("restore_command"))
        .contains("/backups/shop/orders/wals/");
  }

  @Test
  void anS3StandbysCurlConfigurationQuotesItsKeys() {
    PostgresCluster cr = s3Standby("dr", "orders-copy", "orders", "shop");
    var secret = StandbyModel.s3ArchiveSecret(cr, StandbyModel.origin(cr).s3(), "AK\\1", "s\"e:cret");
    assertThat(secret.getMetadata().getName()).isEqualTo("orders-copy-standby-archive");
    assertThat(secret.getStringData().get("curlrc")).isEqualTo(
        "user = \"AK\\\\1:s\\\"e:cret\"\naws-sigv4 = \"aws:amz:eu-central-1:s3\"\n");
  }

  /**
   * The restore_command as /bin/sh runs it (PostgreSQL substitutes %f and %p first), with a curl that records what
   * it was asked: a segment is fetched from Barman's directory of its first 16 hex digits, a history file from wals/.
   */
  @Test
  void anS3StandbysRestoreCommandFetchesWhereBarmanFilesEachFile() throws Exception {
    java.nio.file.Path bin = java.nio.file.Files.createTempDirectory("fake-curl");
    try {
      java.nio.file.Path curl = bin.resolve("curl");
      java.nio.file.Files.writeString(curl, "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > \"$CURL_ARGS\"\n");
      curl.toFile().setExecutable(true);
      String command = StandbyModel.restoreCommand(StandbyModel.origin(s3Standby("dr", "c", "orders", "shop")));
      for (String[] c : new String[][] {
          {"000000020000000A000000FE", "http://10.96.0.9:9000/backups/shop/orders/wals/000000020000000A/000000020000000A000000FE"},
          {"00000002.history", "http://10.96.0.9:9000/backups/shop/orders/wals/00000002.history"}}) {
        java.nio.file.Path args = bin.resolve("args");
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command.replace("%f", c[0])
            .replace("%p", "pg_wal/RECOVERYXLOG")).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("CURL_ARGS", args.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        List<String> asked = java.nio.file.Files.readAllLines(args);
        assertThat(asked.get(asked.size() - 1)).isEqualTo(c[1]);
        assertThat(asked).containsSubsequence("--config", "/etc/pgtide/standby-archive/curlrc")
            .containsSubsequence("--output", "pg_wal/RECOVERYXLOG").contains("--fail");
      }
    } finally {
      io.pgtide.common.process.OsUser.deleteTree(bin);
    }
  }

  @Test
  void anS3StandbysEndpointPrefixAndRegionCarryNothingAShellWouldRead() {
    PostgresCluster cr = s3Standby("dr", "c", "orders", "shop");
    assertThat(ClusterValidation.problem(cr.getSpec())).isNull();
    cr.getSpec().standby.s3.prefix = "shop/orders-2026.x";
    assertThat(ClusterValidation.problem(cr.getSpec())).isNull();
    cr.getSpec().standby.s3.endpoint = "http://minio.storage.svc:9000/$(touch /tmp/x)";
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("standby.s3.endpoint");
    cr.getSpec().standby.s3.endpoint = "https://s3.eu-central-1.amazonaws.com";
    cr.getSpec().standby.s3.prefix = "a\"; curl evil";
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("standby.s3.prefix");
    cr.getSpec().standby.s3.prefix = null;
    cr.getSpec().standby.s3.region = "eu`id`";
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("standby.s3.region");
  }
}
