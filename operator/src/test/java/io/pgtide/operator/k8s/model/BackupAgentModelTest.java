package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterStatus;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The backup agent's and the restore Job's objects, and which restores the operator refuses. */
class BackupAgentModelTest {

  static PostgresCluster cluster(String name) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("shop").withUid("u-" + name).build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().backup = new PostgresClusterSpec.BackupSpec();
    return cr;
  }

  @Test
  void theAgentIsNoMemberRunsUnprivilegedAndGetsItsSecretsByReference() {
    PostgresCluster cr = cluster("orders");
    cr.getSpec().backup.s3 = new PostgresClusterSpec.S3Spec();
    cr.getSpec().backup.s3.endpoint = "http://minio.storage.svc:9000";
    cr.getSpec().backup.s3.bucket = "backups";
    cr.getSpec().backup.s3.credentialsSecret = "s3";
    var d = BackupAgentModel.deployment(cr, OperatorConfig.DEFAULTS);
    // nothing that selects members (Services, PDB, volume and retention steps) may find it
    assertThat(d.getMetadata().getLabels()).doesNotContainKey("application");
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).doesNotContainKey("application")
        .containsEntry("app.kubernetes.io/name", "pgtide-backup");
    assertThat(d.getSpec().getStrategy().getType()).as("never two receivers on one repository").isEqualTo("Recreate");
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    var agent = pod.getContainers().get(0);
    assertThat(agent.getSecurityContext().getRunAsUser()).isEqualTo(101L);
    assertThat(agent.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    Map<String, EnvVar> env = agent.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
    for (String secret : new String[] {"PGTIDE_SUPERUSER_PASSWORD", "PGTIDE_REPLICATION_PASSWORD", "PGTIDE_AGENT_TOKEN",
        "PGTIDE_S3_ACCESS_KEY_ID", "PGTIDE_S3_SECRET_ACCESS_KEY"}) {
      assertThat(env.get(secret).getValue()).as(secret + " is never written into the object").isNull();
      assertThat(env.get(secret).getValueFrom().getSecretKeyRef()).as(secret).isNotNull();
    }
    assertThat(env.get("PGTIDE_S3_PREFIX").getValue()).isEqualTo("shop/orders");
    assertThat(env.get("PGTIDE_S3_SECRET_ACCESS_KEY").getValueFrom().getSecretKeyRef().getKey())
        .isEqualTo("secretAccessKey");
    // the repository outlives the cluster: nobody owns its volume
    assertThat(BackupAgentModel.volume(cr).getMetadata().getOwnerReferences()).isNullOrEmpty();
    assertThat(BackupAgentModel.volume(cr).getSpec().getResources().getRequests().get("storage").toString())
        .isEqualTo("10Gi");
  }

  @Test
  void theAgentGoesWhereTheMembersMayGoButIsNotSpreadWithThem() {
    PostgresCluster cr = cluster("orders");
    assertThat(BackupAgentModel.deployment(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec()
        .getNodeSelector()).isNullOrEmpty();
    cr.getSpec().scheduling = new PostgresClusterSpec.SchedulingSpec();
    cr.getSpec().scheduling.nodeSelector = Map.of("pool", "databases");
    cr.getSpec().scheduling.tolerations = java.util.List.of(new io.fabric8.kubernetes.api.model.TolerationBuilder()
        .withKey("dedicated").withValue("databases").withEffect("NoSchedule").build());
    cr.getSpec().scheduling.priorityClassName = "databases";
    cr.getSpec().scheduling.podAntiAffinityType = "required";
    var pod = BackupAgentModel.deployment(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
    assertThat(pod.getNodeSelector()).containsExactlyEntriesOf(Map.of("pool", "databases"));
    assertThat(pod.getTolerations()).singleElement().satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));
    assertThat(pod.getPriorityClassName()).isEqualTo("databases");
    assertThat(pod.getAffinity()).as("the members' anti-affinity is theirs alone").isNull();
  }

  @Test
  void theRestoreJobRunsOnceFromTheSourcesVolumeIntoTheFirstMembersVolume() {
    PostgresCluster copy = cluster("orders-copy");
    copy.getSpec().backup = null;
    copy.getSpec().bootstrap = new PostgresClusterSpec.BootstrapSpec();
    copy.getSpec().bootstrap.recovery = new PostgresClusterSpec.RecoverySpec();
    copy.getSpec().bootstrap.recovery.source = "orders";
    copy.getSpec().bootstrap.recovery.targetTime = "2026-11-30T08:00:00Z";
    var job = BackupAgentModel.restoreJob(copy, OperatorConfig.DEFAULTS);
    assertThat(job.getSpec().getBackoffLimit()).as("a failed restore is reported, never retried half-done").isZero();
    var pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).extracting(v -> v.getPersistentVolumeClaim().getClaimName())
        .containsExactly("pgdata-orders-copy-0", "orders-backup");
    assertThat(pod.getContainers().get(0).getEnv()).extracting(EnvVar::getName, EnvVar::getValue)
        .contains(org.assertj.core.groups.Tuple.tuple("PGTIDE_SOURCE", "orders"),
            org.assertj.core.groups.Tuple.tuple("PGTIDE_TARGET_TIME", "2026-11-30T08:00:00Z"),
            org.assertj.core.groups.Tuple.tuple("PGTIDE_DATA_DIR", "/home/postgres/pgdata/pgroot/data"));
    // the new cluster's own passwords, set on the restored roles before Patroni logs in with them
    assertThat(pod.getContainers().get(0).getEnv()).filteredOn(e -> e.getValueFrom() != null)
        .extracting(EnvVar::getName, e -> e.getValueFrom().getSecretKeyRef().getName(),
            e -> e.getValueFrom().getSecretKeyRef().getKey())
        .containsExactly(org.assertj.core.groups.Tuple.tuple("PGTIDE_SUPERUSER_PASSWORD",
                "postgres.orders-copy.credentials.postgresql.pgtide.io", "password"),
            org.assertj.core.groups.Tuple.tuple("PGTIDE_REPLICATION_PASSWORD",
                "standby.orders-copy.credentials.postgresql.pgtide.io", "password"));
    assertThat(pod.getContainers().get(0).getEnv()).extracting(EnvVar::getName)
        .as("no segment closed for it: nothing to wait for").doesNotContain("PGTIDE_SOURCE_SEGMENT");
    // the source's segment the operator had closed just before: the Job waits until the repository has it
    assertThat(BackupAgentModel.restoreJob(copy, OperatorConfig.DEFAULTS, "000000020000000000000017").getSpec()
        .getTemplate().getSpec().getContainers().get(0).getEnv()).extracting(EnvVar::getName, EnvVar::getValue)
        .contains(org.assertj.core.groups.Tuple.tuple("PGTIDE_SOURCE_SEGMENT", "000000020000000000000017"));
    var volume = BackupAgentModel.firstDataVolume(copy);
    // named and labelled as the StatefulSet's claim template makes it, so the StatefulSet adopts it
    assertThat(volume.getMetadata().getName()).isEqualTo("pgdata-orders-copy-0");
    assertThat(volume.getMetadata().getLabels()).containsEntry("application", "spilo")
        .containsEntry("cluster-name", "orders-copy");
  }

  @Test
  void aRestoreFromS3FetchesTheCopyIntoAScratchDirectoryWithNoVolumeOrSecretOfTheSource() {
    PostgresCluster copy = cluster("orders");
    copy.getMetadata().setNamespace("dr");
    copy.getSpec().backup = null;
    copy.getSpec().bootstrap = new PostgresClusterSpec.BootstrapSpec();
    copy.getSpec().bootstrap.recovery = new PostgresClusterSpec.RecoverySpec();
    copy.getSpec().bootstrap.recovery.source = "orders";
    var s3 = new PostgresClusterSpec.S3Spec();
    s3.endpoint = "http://10.96.0.9:9000";
    s3.bucket = "backups";
    s3.credentialsSecret = "s3-keys";
    copy.getSpec().bootstrap.recovery.s3 = s3;
    var pod = BackupAgentModel.restoreJob(copy, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).filteredOn(v -> "repository".equals(v.getName()))
        .singleElement().satisfies(v -> {
          assertThat(v.getEmptyDir()).isNotNull();
          assertThat(v.getPersistentVolumeClaim()).as("no volume of the source").isNull();
        });
    var env = pod.getContainers().get(0).getEnv();
    assertThat(env).extracting(EnvVar::getName, EnvVar::getValue).contains(
        org.assertj.core.groups.Tuple.tuple("PGTIDE_S3_ENDPOINT", "http://10.96.0.9:9000"),
        org.assertj.core.groups.Tuple.tuple("PGTIDE_S3_BUCKET", "backups"),
        org.assertj.core.groups.Tuple.tuple("PGTIDE_S3_PREFIX", "dr/orders"));
    assertThat(env).filteredOn(e -> e.getName().startsWith("PGTIDE_S3_") && e.getValueFrom() != null)
        .extracting(e -> e.getValueFrom().getSecretKeyRef().getName()).containsOnly("s3-keys");
    assertThat(StandbyModel.credentialSource(copy)).as("new passwords: no source Secret to copy").isNull();
    copy.getSpec().bootstrap.recovery.repository = "/srv/orders";
    assertThat(ClusterValidation.problem(copy.getSpec())).contains("repository").contains("exclude each other");
  }

  @Test
  void aRestoreNeedsAnExistingSourceWithBackupsAndATargetInsideItsRecoverableRange() {
    var recovery = new PostgresClusterSpec.RecoverySpec();
    recovery.source = "orders";
    recovery.targetTime = "2026-11-30T08:00:00Z";
    Instant now = Instant.parse("2026-11-30T09:00:00Z");
    assertThat(ClusterValidation.recoverySourceProblem(recovery, null, false, now))
        .contains("no such PostgresCluster").contains("no backup volume orders-backup");
    assertThat(ClusterValidation.recoverySourceProblem(recovery, null, true, now))
        .as("a deleted source's volume: its target is checked by the restore Job, against the catalogue").isNull();
    PostgresCluster noBackups = cluster("orders");
    noBackups.getSpec().backup = null;
    assertThat(ClusterValidation.recoverySourceProblem(recovery, noBackups, false, now))
        .contains("declares no spec.backup");
    PostgresCluster source = cluster("orders");
    assertThat(ClusterValidation.recoverySourceProblem(recovery, source, true, now))
        .contains("no completed base backup");
    source.setStatus(new PostgresClusterStatus());
    source.getStatus().backup = Map.of("firstRecoverablePoint", "2026-11-30T08:30:00Z");
    assertThat(ClusterValidation.recoverySourceProblem(recovery, source, true, now))
        .contains("before the first recoverable point");
    recovery.targetTime = "2026-11-30T08:45:00Z";
    assertThat(ClusterValidation.recoverySourceProblem(recovery, source, true, now)).isNull();
    recovery.targetTime = null; // the latest point
    assertThat(ClusterValidation.recoverySourceProblem(recovery, source, true, now)).isNull();
  }

  /** The agent's API over TLS: its certificate's Secret mounted as a directory (updated in place), port 8443. */
  @Test
  void theAgentServesItsApiOverTlsFromAMountedCertificate() {
    PostgresCluster cr = cluster("orders");
    var pod = BackupAgentModel.deployment(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
    var container = pod.getContainers().get(0);
    assertThat(container.getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("PGTIDE_AGENT_TLS_DIR");
      assertThat(e.getValue()).isEqualTo("/etc/pgtide/tls");
    });
    assertThat(container.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getMountPath()).isEqualTo("/etc/pgtide/tls");
      assertThat(m.getSubPath()).as("a subPath mount is never updated").isNull();
    });
    assertThat(pod.getVolumes()).filteredOn(v -> v.getSecret() != null)
        .extracting(v -> v.getSecret().getSecretName()).containsExactly("orders-backup-tls");
    assertThat(BackupAgentModel.service(cr).getSpec().getPorts()).extracting(p -> p.getPort())
        .contains(BackupAgentModel.TLS_PORT);
    assertThat(BackupAgentModel.dnsNames("shop", "orders")).contains(BackupAgentModel.host("shop", "orders"))
        .contains("orders-backup.shop.svc");
  }
}
