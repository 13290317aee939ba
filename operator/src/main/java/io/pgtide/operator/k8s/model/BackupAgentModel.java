package io.pgtide.operator.k8s.model;

import io.pgtide.common.cluster.ClusterKey;
import static io.pgtide.operator.k8s.model.ClusterModel.sorted;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * The backup agent of a cluster that declares {@code spec.backup}: one pod (a Deployment, Recreate: two agents must
 * never stream into one repository) running Barman on its own volume, reached by the operator through its Service,
 * with its token in a Secret. It reaches PostgreSQL only through the cluster's primary Service, as a client (the
 * replication protocol for WAL and base backups): nothing is added to the Spilo pods. Pure.
 */
public final class BackupAgentModel {
  private BackupAgentModel() {
  }

  public static final int PORT = 8080;
  /** The agent's API (status, backups, verification): TLS from the operator's CA, and only there. */
  public static final int TLS_PORT = 8443;
  /** Where the agent's TLS Secret is mounted. */
  static final String TLS_DIR = "/etc/pgtide/tls";
  static final String DIR = "/var/lib/pgtide-backup";

  /** The name of the agent's Deployment, Service, NetworkPolicy, volume claim and Secret. */
  public static String name(String cluster) {
    return cluster + "-backup";
  }

  public static Map<String, String> labels(String cluster) {
    return sorted("app.kubernetes.io/name", "pgtide-backup", "app.kubernetes.io/instance", cluster,
        "app.kubernetes.io/managed-by", "pgtide");
  }

  /**
   * The agent's objects carry its own labels, never the cluster members' (application=spilo): nothing that selects
   * members (Services, the volume step, pvcRetention) may find them; owned by the cluster.
   */
  public static io.fabric8.kubernetes.api.model.ObjectMeta meta(PostgresCluster cr, String name) {
    return new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name)
        .withNamespace(cr.getMetadata().getNamespace()).withLabels(labels(cr.getMetadata().getName()))
        .withOwnerReferences(ClusterModel.owner(cr)).build();
  }

  /** The agent's TLS Secret (certificate from the operator's CA for its Service's names): {@code <c>-backup-tls}. */
  public static String tlsSecret(String cluster) {
    return name(cluster) + "-tls";
  }

  /** The name the operator dials and verifies the agent's certificate against: its Service's. */
  public static String host(String namespace, String cluster) {
    return name(cluster) + "." + namespace + ".svc";
  }

  /** Every name of the agent's Service, for its certificate. */
  public static List<String> dnsNames(String namespace, String cluster) {
    return List.of(name(cluster), name(cluster) + "." + namespace, host(namespace, cluster),
        host(namespace, cluster) + ".cluster.local");
  }

  /** The token the operator presents to the agent (generated once, like the database passwords). */
  public static Secret tokenSecret(PostgresCluster cr, String token) {
    return ClusterModel.credentials(cr, name(cr.getMetadata().getName()), "pgtide-backup", token);
  }

  /**
   * The token the standbys of this cluster fetch archived WAL with (GET /wal/&lt;file&gt; on the agent, and nothing
   * else): {@code <c>-backup-wal}, generated once. A standby's pods hold a copy of it, so it is not the operator's.
   */
  public static Secret walTokenSecret(PostgresCluster cr, String token) {
    return ClusterModel.credentials(cr, walTokenSecret(cr.getMetadata().getName()), "pgtide-wal", token);
  }

  public static String walTokenSecret(String cluster) {
    return name(cluster) + "-wal";
  }

  /**
   * The repository's volume: created once, and owned by nobody: it outlives a removed spec.backup and the cluster
   * itself (a deleted cluster is what backups are for); a person deletes it.
   */
  public static PersistentVolumeClaim volume(PostgresCluster cr) {
    var spec = cr.getSpec();
    var meta = meta(cr, name(cr.getMetadata().getName()));
    meta.setOwnerReferences(null);
    return new PersistentVolumeClaimBuilder().withMetadata(meta)
        .withNewSpec().withAccessModes("ReadWriteOnce").withStorageClassName(spec.storage.storageClass)
        .withNewResources().addToRequests("storage", new Quantity(spec.backup.storage)).endResources()
        .endSpec().build();
  }

  public static Service service(PostgresCluster cr) {
    String cluster = cr.getMetadata().getName();
    return new ServiceBuilder().withMetadata(meta(cr, name(cluster))).withNewSpec().withSelector(labels(cluster))
        .addNewPort().withName("http").withPort(PORT).withTargetPort(new IntOrString(PORT)).endPort()
        .addNewPort().withName("https").withPort(TLS_PORT).withTargetPort(new IntOrString(TLS_PORT)).endPort()
        .endSpec().build();
  }

  /** Only the operator (status, actions) and the monitoring namespace (metrics) reach the agent. */
  public static NetworkPolicy networkPolicy(PostgresCluster cr, OperatorConfig config) {
    return networkPolicy(cr, config, List.of());
  }

  /** The same, and each standby's members on the TLS port, where they fetch archived WAL. */
  public static NetworkPolicy networkPolicy(PostgresCluster cr, OperatorConfig config,
                                            List<PostgresCluster> standbys) {
    String cluster = cr.getMetadata().getName();
    return new NetworkPolicyBuilder().withMetadata(meta(cr, name(cluster))).withNewSpec()
        .withNewPodSelector().withMatchLabels(labels(cluster)).endPodSelector()
        .withPolicyTypes("Ingress")
        .addNewIngress()
          .addNewFrom().withNewNamespaceSelector()
          .withMatchLabels(sorted("kubernetes.io/metadata.name", config.operatorNamespace())).endNamespaceSelector()
          .withNewPodSelector().withMatchLabels(sorted("app.kubernetes.io/name", "pgtide-operator")).endPodSelector()
          .endFrom()
          .addNewFrom().withNewNamespaceSelector()
          .withMatchLabels(sorted("kubernetes.io/metadata.name", config.monitoringNamespace())).endNamespaceSelector()
          .endFrom()
          .addNewPort().withProtocol("TCP").withPort(new IntOrString(PORT)).endPort()
          .addNewPort().withProtocol("TCP").withPort(new IntOrString(TLS_PORT)).endPort()
        .endIngress()
        .addAllToIngress(StandbyModel.archiveIngress(standbys))
        .endSpec().build();
  }

  /** What the agent is told: its cluster, how to reach and verify the primary, its secrets, and S3 when given. */
  static List<EnvVar> agentEnv(PostgresCluster cr) {
    String cluster = cr.getMetadata().getName();
    String ns = cr.getMetadata().getNamespace();
    List<EnvVar> env = new java.util.ArrayList<>(List.of(
        value("PGTIDE_CLUSTER", ClusterKey.text(ns, cluster)),
        value("PGTIDE_PRIMARY_SERVICE", cluster),
        value("PGTIDE_BACKUP_SPEC", JsonObject.mapFrom(cr.getSpec().backup).encode()),
        value("PGTIDE_BACKUP_DIR", DIR),
        value("PGTIDE_SUPERUSER", "postgres"),
        ClusterModel.secretRef("PGTIDE_SUPERUSER_PASSWORD", ClusterModel.superuserSecret(cluster)),
        value("PGTIDE_REPLICATION_USER", "standby"),
        ClusterModel.secretRef("PGTIDE_REPLICATION_PASSWORD", ClusterModel.standbySecret(cluster)),
        ClusterModel.secretRef("PGTIDE_AGENT_TOKEN", name(cluster)),
        ClusterModel.secretRef("PGTIDE_WAL_TOKEN", walTokenSecret(cluster)),
        value("PGTIDE_AGENT_TLS_DIR", TLS_DIR),
        // Barman verifies PostgreSQL's certificate (verify-full) against the cluster's CA, for the primary Service's
        // name; it still dials the Service's IP from the kubelet's variables (libpq's hostaddr), so no DNS is needed
        value("PGTIDE_PRIMARY_TLS_NAME", ServerCertificates.commonName(ns, cluster)),
        value("PGTIDE_SERVER_CA_FILE", ServerCertificates.CA_MOUNT_DIR + "/" + ServerCertificates.CA_KEY),
        value("JAVA_TOOL_OPTIONS", "-Xmx192m -XX:+UseSerialGC -Djava.io.tmpdir=/tmp")));
    var s3 = cr.getSpec().backup.s3;
    if (s3 != null) {
      env.addAll(s3Env(s3, ns + "/" + cluster));
    }
    return env;
  }

  public static Deployment deployment(PostgresCluster cr, OperatorConfig config) {
    String cluster = cr.getMetadata().getName();
    List<EnvVar> env = agentEnv(cr);
    var scheduling = cr.getSpec().scheduling;
    return new DeploymentBuilder().withMetadata(meta(cr, name(cluster))).withNewSpec().withReplicas(1)
        .withNewSelector().withMatchLabels(labels(cluster)).endSelector()
        .withNewStrategy().withType("Recreate").endStrategy()
        .withNewTemplate()
          .withNewMetadata().withLabels(labels(cluster)).endMetadata()
          .withNewSpec()
            .withAutomountServiceAccountToken(false)
            // where the members may run, the agent may too: dedicated database nodes (a nodeSelector, taints that
            // members tolerate) hold it as well; the members' spreading rules are theirs alone
            .withNodeSelector(scheduling == null ? null : scheduling.nodeSelector)
            .withTolerations(scheduling == null ? null : scheduling.tolerations)
            .withPriorityClassName(scheduling == null ? null : scheduling.priorityClassName)
            .withImagePullSecrets(cr.getSpec().imagePullSecrets.stream()
                .map(s -> new io.fabric8.kubernetes.api.model.LocalObjectReference(s)).toList())
            // the WAL receiver stops cleanly (Barman keeps its position) before the pod goes
            .withTerminationGracePeriodSeconds(60L)
            .withNewSecurityContext().withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
              .withFsGroup(ClusterModel.SPILO_GID).endSecurityContext()
            // a volume without fsGroup support (hostPath) arrives root-owned: hand it to the agent's user first
            .addNewInitContainer().withName("volume-owner").withImage(config.backupImage())
              .withCommand("chown", ClusterModel.SPILO_UID + ":" + ClusterModel.SPILO_GID, DIR)
              .withNewSecurityContext().withRunAsUser(0L).withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").withAdd("CHOWN").endCapabilities().endSecurityContext()
              .addNewVolumeMount().withName("repository").withMountPath(DIR).endVolumeMount()
            .endInitContainer()
            .addNewContainer().withName("backup-agent").withImage(config.backupImage())
              .withArgs("backup-agent").withEnv(env)
              .addNewPort().withName("http").withContainerPort(PORT).endPort()
              .addNewPort().withName("https").withContainerPort(TLS_PORT).endPort()
              .withResources(new ResourceRequirementsBuilder()
                  .withRequests(sorted("cpu", new Quantity("50m"), "memory", new Quantity("256Mi")))
                  .withLimits(sorted("memory", new Quantity("768Mi"))).build())
              .withNewReadinessProbe().withNewHttpGet().withPath("/healthz").withPort(new IntOrString(PORT))
                .endHttpGet().withPeriodSeconds(10).endReadinessProbe()
              // the postgres user of the image (Barman and the scratch PostgreSQL of a verification run as it)
              .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(ClusterModel.SPILO_UID)
                .withRunAsGroup(ClusterModel.SPILO_GID).withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
              .addNewVolumeMount().withName("repository").withMountPath(DIR).endVolumeMount()
              // a directory mount (no subPath): the kubelet updates the files when the certificate is issued again
              .addNewVolumeMount().withName("tls").withMountPath(TLS_DIR).withReadOnly(true).endVolumeMount()
              .addNewVolumeMount().withName("server-ca").withMountPath(ServerCertificates.CA_MOUNT_DIR)
                .withReadOnly(true).endVolumeMount()
            .endContainer()
            .addNewVolume().withName("repository").withNewPersistentVolumeClaim().withClaimName(name(cluster))
              .endPersistentVolumeClaim().endVolume()
            .addNewVolume().withName("tls").withNewSecret().withSecretName(tlsSecret(cluster)).withDefaultMode(0440)
              .endSecret().endVolume()
            .addNewVolume().withName("server-ca").withNewConfigMap()
              .withName(ServerCertificates.caConfigMap(cluster)).withDefaultMode(0444).endConfigMap().endVolume()
          .endSpec()
        .endTemplate()
        .endSpec().build();
  }

  /** The restore Job of a cluster that declares bootstrap.recovery. */
  public static String restoreJobName(String cluster) {
    return cluster + "-restore";
  }

  /**
   * The new cluster's first data volume, made before its StatefulSet (which adopts it by name: the claim template's
   * {@code pgdata-<cluster>-0}), so the restore can fill it.
   */
  public static PersistentVolumeClaim firstDataVolume(PostgresCluster cr) {
    String cluster = cr.getMetadata().getName();
    var template = ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getVolumeClaimTemplates().get(0);
    // a member's volume like the StatefulSet's own: its labels (the volume and retention steps find it), no owner
    return new PersistentVolumeClaimBuilder(template).withMetadata(new io.fabric8.kubernetes.api.model
            .ObjectMetaBuilder().withName("pgdata-" + cluster + "-0").withNamespace(cr.getMetadata().getNamespace())
            .withLabels(template.getMetadata().getLabels()).build()).build();
  }

  /**
   * Restores {@code bootstrap.recovery.source}'s backups (its agent's volume, which outlives the cluster) into the
   * new cluster's first data volume, where Spilo keeps PGDATA, and gives the restored superuser and replication
   * roles the new cluster's passwords; run once (no retry: a failed restore is reported, never half adopted).
   */
  public static io.fabric8.kubernetes.api.model.batch.v1.Job restoreJob(PostgresCluster cr, OperatorConfig config) {
    return restoreJob(cr, config, null);
  }

  /**
   * The same, waiting for {@code closedSegment} (the source's segment the operator had closed just before; null:
   * none) to be in the repository before it restores: the backups' receiver completes it a moment later.
   */
  public static io.fabric8.kubernetes.api.model.batch.v1.Job restoreJob(PostgresCluster cr, OperatorConfig config,
                                                                        String closedSegment) {
    var recovery = cr.getSpec().bootstrap == null ? null : cr.getSpec().bootstrap.recovery;
    if (recovery != null) {
      var job = restoreJob(cr, config, recovery, null);
      if (closedSegment != null) {
        job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()
            .add(value("PGTIDE_SOURCE_SEGMENT", closedSegment));
      }
      return job;
    }
    // a standby of an S3 copy: the copy's newest base backup laid down, not replayed, with what makes its first
    // member's Patroni start it as the standby leader (it adopts the directory, so no bootstrap.dcs is read)
    StandbyModel.Source source = StandbyModel.origin(cr);
    if (source == null || !source.fromS3()) {
      throw new IllegalArgumentException("neither bootstrap.recovery nor standby.s3: nothing to restore");
    }
    var spec = new io.pgtide.common.crd.PostgresClusterSpec.RecoverySpec();
    spec.source = source.name();
    spec.s3 = source.s3();
    return restoreJob(cr, config, spec,
        ClusterModel.patroniDynamic(cr.getSpec(), StandbyModel.restoreCommand(source)).encode());
  }

  /** {@code standbyDynamic}: Patroni's dynamic configuration for a standby's first member; null for a restore. */
  private static io.fabric8.kubernetes.api.model.batch.v1.Job restoreJob(PostgresCluster cr, OperatorConfig config,
      io.pgtide.common.crd.PostgresClusterSpec.RecoverySpec recovery, String standbyDynamic) {
    String cluster = cr.getMetadata().getName();
    String pgdata = ClusterModel.DATA_VOLUME_PATH;
    var job = new io.fabric8.kubernetes.api.model.batch.v1.JobBuilder()
        .withMetadata(meta(cr, restoreJobName(cluster))).withNewSpec().withBackoffLimit(0)
        .withNewTemplate()
          .withNewMetadata().withLabels(sorted("app.kubernetes.io/name", "pgtide-restore",
              "app.kubernetes.io/instance", cluster, "app.kubernetes.io/managed-by", "pgtide")).endMetadata()
          .withNewSpec().withRestartPolicy("Never").withAutomountServiceAccountToken(false)
            .withNewSecurityContext().withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
              .endSecurityContext()
            .addNewInitContainer().withName("volume-owner").withImage(config.backupImage())
              .withCommand("chown", ClusterModel.SPILO_UID + ":" + ClusterModel.SPILO_GID, pgdata, DIR)
              .withNewSecurityContext().withRunAsUser(0L).withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").withAdd("CHOWN").endCapabilities().endSecurityContext()
              .addNewVolumeMount().withName("pgdata").withMountPath(pgdata).endVolumeMount()
              .addNewVolumeMount().withName("repository").withMountPath(DIR).endVolumeMount()
            .endInitContainer()
            .addNewContainer().withName("restore").withImage(config.backupImage()).withArgs("backup-restore")
              .withEnv(value("PGTIDE_SOURCE", recovery.source), value("PGTIDE_REPOSITORY", DIR),
                  value("PGTIDE_TARGET_TIME", recovery.targetTime == null ? "" : recovery.targetTime),
                  value("PGTIDE_TARGET_LSN", recovery.targetLSN == null ? "" : recovery.targetLSN),
                  value("PGTIDE_DATA_DIR", ClusterModel.PGDATA),
                  // the new cluster's passwords, set on the restored roles before Patroni logs in with them (the
                  // source's already, unless the source is gone: then they are new)
                  ClusterModel.secretRef("PGTIDE_SUPERUSER_PASSWORD", ClusterModel.superuserSecret(cluster)),
                  ClusterModel.secretRef("PGTIDE_REPLICATION_PASSWORD", ClusterModel.standbySecret(cluster)),
                  value("JAVA_TOOL_OPTIONS", "-Xmx128m -XX:+UseSerialGC -Djava.io.tmpdir=/tmp"))
              // its last words (why the target cannot be reached) become the Job's failure message
              .withTerminationMessagePolicy("FallbackToLogsOnError")
              .withResources(new ResourceRequirementsBuilder()
                  .withRequests(sorted("cpu", new Quantity("50m"), "memory", new Quantity("256Mi")))
                  .withLimits(sorted("memory", new Quantity("768Mi"))).build())
              .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(ClusterModel.SPILO_UID)
                .withRunAsGroup(ClusterModel.SPILO_GID).withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
              .addNewVolumeMount().withName("pgdata").withMountPath(pgdata).endVolumeMount()
              .addNewVolumeMount().withName("repository").withMountPath(DIR).endVolumeMount()
            .endContainer()
            .addNewVolume().withName("pgdata").withNewPersistentVolumeClaim().withClaimName("pgdata-" + cluster + "-0")
              .endPersistentVolumeClaim().endVolume()
            .addNewVolume().withName("repository").withNewPersistentVolumeClaim()
              .withClaimName(name(recovery.source)).endPersistentVolumeClaim().endVolume()
          .endSpec()
        .endTemplate()
        .endSpec().build();
    var env = job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    if (standbyDynamic != null) {
      // a standby's roles are the source's, passwords included, and it cannot change them: read-only until promoted
      env.removeIf(e -> e.getName().endsWith("_PASSWORD"));
      env.add(value("PGTIDE_STANDBY_DYNAMIC", standbyDynamic));
    }
    if (recovery.s3 != null) {
      // the copy is fetched into a scratch directory of the Job's own: no volume of the source is needed
      var pod = job.getSpec().getTemplate().getSpec();
      pod.getVolumes().set(1, new io.fabric8.kubernetes.api.model.VolumeBuilder().withName("repository")
          .withNewEmptyDir().endEmptyDir().build());
      pod.getContainers().get(0).getEnv().addAll(s3Env(recovery.s3, cr.getMetadata().getNamespace() + "/"
          + recovery.source));
    }
    return job;
  }

  /** Where a repository's copy in S3 is, for the agent (which writes it) and a restore Job (which reads it). */
  private static List<EnvVar> s3Env(io.pgtide.common.crd.PostgresClusterSpec.S3Spec s3, String defaultPrefix) {
    return List.of(value("PGTIDE_S3_ENDPOINT", s3.endpoint), value("PGTIDE_S3_BUCKET", s3.bucket),
        value("PGTIDE_S3_PREFIX", s3.prefix != null && !s3.prefix.isBlank() ? s3.prefix : defaultPrefix),
        value("PGTIDE_S3_REGION", s3.region),
        ClusterModel.secretRef("PGTIDE_S3_ACCESS_KEY_ID", s3.credentialsSecret, "accessKeyId"),
        ClusterModel.secretRef("PGTIDE_S3_SECRET_ACCESS_KEY", s3.credentialsSecret, "secretAccessKey"));
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }
}
