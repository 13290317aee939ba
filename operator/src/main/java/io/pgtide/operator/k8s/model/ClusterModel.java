package io.pgtide.operator.k8s.model;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Kubernetes objects a PostgresCluster owns, built from the resource alone. Pure: no I/O, unit-tested. Objects
 * follow the Spilo/Zalando conventions so Spilo runs unchanged (labels, env, Services).
 */
public final class ClusterModel {
  public static final int SIDECAR_HTTP_PORT = 9188;
  /** Where a member's data volume is mounted in the Spilo container (and in the restore Job). */
  public static final String DATA_VOLUME_PATH = "/home/postgres/pgdata";
  /** Spilo's PGROOT, on the data volume. */
  public static final String PGROOT = DATA_VOLUME_PATH + "/pgroot";
  /**
   * PostgreSQL's data directory, set explicitly as Spilo's PGDATA: without it Spilo takes the image's ENV, and an
   * image that sets none gets {@code $PGROOT/pgdata}, where a restore (which writes here) would not be found and
   * Patroni would run initdb. This is what Zalando's Spilo images set, so existing volumes keep working.
   */
  public static final String PGDATA = PGROOT + "/data";

  private ClusterModel() {
  }

  /**
   * A map with a fixed iteration order (by key): what is rendered, hashed or compared must not depend on
   * {@code Map.of}'s per-run order (it made {@code pgtide render} differ between runs).
   */
  static <V> Map<String, V> sorted(Object... keysAndValues) {
    Map<String, V> m = new TreeMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      @SuppressWarnings("unchecked")
      V v = (V) keysAndValues[i + 1];
      m.put((String) keysAndValues[i], v);
    }
    return m;
  }

  public static Map<String, String> labels(String cluster) {
    Map<String, String> labels = new TreeMap<>(MemberSelector.of(cluster).labels());
    labels.put("app.kubernetes.io/managed-by", "pgtide");
    return labels;
  }

  public static String selector(String cluster) {
    return MemberSelector.of(cluster).toString();
  }

  public static String superuserSecret(String cluster) {
    return io.pgtide.operator.users.UserSecrets.secretName("postgres", cluster);
  }

  public static String standbySecret(String cluster) {
    return io.pgtide.operator.users.UserSecrets.secretName("standby", cluster);
  }

  /** The uid and gid Spilo runs PostgreSQL and Patroni as (Zalando's spilo_runasuser / spilo_fsgroup defaults). */
  static final long SPILO_UID = 101;
  static final long SPILO_GID = 103;

  public static String sidecarTlsSecret(String cluster) {
    return cluster + "-pgtide-sidecar-tls";
  }

  /** Every object, in apply order. Secrets are built without data here: data is generated once, never rebuilt. */
  public static List<HasMetadata> all(PostgresCluster cr, OperatorConfig config) {
    List<HasMetadata> out = new ArrayList<>();
    out.add(serviceAccount(cr));
    out.add(role(cr));
    out.add(roleBinding(cr));
    out.addAll(services(cr));
    out.add(podDisruptionBudget(cr));
    out.add(networkPolicy(cr, config));
    out.add(statefulSet(cr, config));
    return out;
  }

  /**
   * Every object the reconciler writes or creates under a name of its own choosing, as it would write it (Secrets
   * without data): what the ownership check looks up before anything is applied. Member data volumes are not
   * listed: they are named by the StatefulSet ({@link Ownership#memberVolumeName}).
   */
  public static List<HasMetadata> named(PostgresCluster cr, OperatorConfig config) {
    String name = cr.getMetadata().getName();
    List<HasMetadata> out = new ArrayList<>(all(cr, config));
    out.add(new SecretBuilder().withMetadata(meta(cr, superuserSecret(name))).build());
    out.add(new SecretBuilder().withMetadata(meta(cr, standbySecret(name))).build());
    out.add(new SecretBuilder().withMetadata(meta(cr, sidecarTlsSecret(name))).build());
    if (cr.getSpec().tls == null) { // with spec.tls pgtide issues no server certificate, and needs no CA for one
      out.add(new SecretBuilder().withMetadata(meta(cr, ServerCertificates.caSecret(name))).build());
      out.add(new SecretBuilder().withMetadata(meta(cr, ServerCertificates.tlsSecret(name))).build());
    }
    out.add(caConfigMap(cr, ""));
    if (StandbyModel.origin(cr) != null) {
      out.add(new SecretBuilder().withMetadata(meta(cr, StandbyModel.archiveSecret(name))).build());
    }
    out.addAll(PoolerModel.named(cr, config));
    if (cr.getSpec().backup != null) {
      out.add(BackupAgentModel.tokenSecret(cr, ""));
      out.add(BackupAgentModel.walTokenSecret(cr, ""));
      out.add(new SecretBuilder().withMetadata(BackupAgentModel.meta(cr,
          BackupAgentModel.tlsSecret(name))).build());
      out.add(BackupAgentModel.volume(cr));
      out.add(BackupAgentModel.service(cr));
      out.add(BackupAgentModel.networkPolicy(cr, config));
      out.add(BackupAgentModel.deployment(cr, config));
    }
    if (cr.getSpec().bootstrap != null && cr.getSpec().bootstrap.recovery != null) {
      out.add(BackupAgentModel.restoreJob(cr, config));
    }
    return out;
  }

  /** The ConfigMap {@code <c>-ca} clients mount: the cluster CA's certificate, public by nature. */
  public static io.fabric8.kubernetes.api.model.ConfigMap caConfigMap(PostgresCluster cr, String caPem) {
    return new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
        .withMetadata(meta(cr, ServerCertificates.caConfigMap(cr.getMetadata().getName())))
        .addToData(ServerCertificates.CA_KEY, caPem).build();
  }

  public static ObjectMeta meta(PostgresCluster cr, String name) {
    return new ObjectMetaBuilder().withName(name).withNamespace(cr.getMetadata().getNamespace())
        .withLabels(labels(cr.getMetadata().getName())).withOwnerReferences(owner(cr)).build();
  }

  static OwnerReference owner(PostgresCluster cr) {
    return new OwnerReferenceBuilder().withApiVersion("pgtide.io/v1").withKind("PostgresCluster")
        .withName(cr.getMetadata().getName()).withUid(cr.getMetadata().getUid()).withController(true)
        .withBlockOwnerDeletion(true).build();
  }

  /**
   * The name of Patroni's ServiceAccount, Role and RoleBinding: {@code <cluster>-patroni}. A suffix no namespace's
   * own objects have, so a cluster named {@code default} never wants the namespace's {@code default}
   * ServiceAccount (it used to be the bare cluster name).
   */
  public static String patroniAccount(String cluster) {
    return cluster + "-patroni";
  }

  public static ServiceAccount serviceAccount(PostgresCluster cr) {
    return new ServiceAccountBuilder().withMetadata(meta(cr, patroniAccount(cr.getMetadata().getName()))).build();
  }

  /**
   * The ConfigMaps Patroni keeps its state in with {@code KUBERNETES_USE_CONFIGMAPS} (Patroni 4's Kubernetes DCS:
   * {@code <scope>-leader}, {@code -config}, {@code -failover}, {@code -sync}; no citus groups).
   */
  static List<String> patroniConfigMaps(String cluster) {
    return List.of(cluster + "-config", cluster + "-leader", cluster + "-failover", cluster + "-sync");
  }

  /**
   * What Patroni does with the Kubernetes DCS on ConfigMaps, and no more: it reads and patches its own four
   * ConfigMaps (by name), creates them (RBAC cannot restrict {@code create} by name: the name is not known when
   * the request is authorized), lists and watches ConfigMaps and pods by its label selector (collection requests:
   * no names to restrict them by), and patches its own pod's role label and status annotation (pod names change
   * with the member count, so not by name). No Endpoints and no Services: those are only for
   * {@code use_endpoints}, which pgtide does not use. No delete: only {@code patronictl remove} deletes, and pgtide
   * never runs it.
   */
  public static Role role(PostgresCluster cr) {
    String name = cr.getMetadata().getName();
    return new RoleBuilder().withMetadata(meta(cr, patroniAccount(name)))
        .addToRules(new PolicyRuleBuilder().withApiGroups("").withResources("configmaps")
            .withResourceNames(patroniConfigMaps(name)).withVerbs("get", "patch").build())
        .addToRules(new PolicyRuleBuilder().withApiGroups("").withResources("configmaps")
            .withVerbs("create", "list", "watch").build())
        .addToRules(new PolicyRuleBuilder().withApiGroups("").withResources("pods")
            .withVerbs("list", "watch", "patch").build())
        .build();
  }

  public static RoleBinding roleBinding(PostgresCluster cr) {
    String name = patroniAccount(cr.getMetadata().getName());
    return new RoleBindingBuilder().withMetadata(meta(cr, name))
        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(name).endRoleRef()
        .addNewSubject().withKind("ServiceAccount").withName(name).withNamespace(cr.getMetadata().getNamespace())
        .endSubject().build();
  }

  public static List<Service> services(PostgresCluster cr) {
    String name = cr.getMetadata().getName();
    Map<String, String> primary = new TreeMap<>(MemberSelector.of(name).labels());
    primary.put("spilo-role", "master");
    Map<String, String> replica = new TreeMap<>(MemberSelector.of(name).labels());
    replica.put("spilo-role", "replica");
    return List.of(
        service(cr, name, primary),
        service(cr, name + "-repl", replica),
        // Patroni's config endpoint; no selector, Patroni manages its Endpoints
        new ServiceBuilder().withMetadata(meta(cr, name + "-config")).withNewSpec().withClusterIP("None")
            .endSpec().build());
  }

  private static Service service(PostgresCluster cr, String name, Map<String, String> selector) {
    return new ServiceBuilder().withMetadata(meta(cr, name)).withNewSpec().withType("ClusterIP")
        .withSelector(selector).addNewPort().withName("postgresql").withPort(5432)
        .withTargetPort(new IntOrString(5432)).withProtocol("TCP").endPort().endSpec().build();
  }

  public static PodDisruptionBudget podDisruptionBudget(PostgresCluster cr) {
    String name = cr.getMetadata().getName();
    return new PodDisruptionBudgetBuilder().withMetadata(meta(cr, name + "-pdb")).withNewSpec()
        // one member at a time may be evicted, the primary included (Patroni hands over on its graceful stop): a
        // minAvailable of 1 on the primary alone made every node drain hang
        .withMaxUnavailable(new IntOrString(1))
        .withNewSelector().withMatchLabels(MemberSelector.of(name).labels())
        .endSelector().endSpec().build();
  }

  /**
   * Admits PostgreSQL clients, Patroni peers (REST API) from the cluster's own pods, the operator's scrapes, and
   * Prometheus (any pod of the monitoring namespace) on the sidecars' metrics port.
   */
  public static NetworkPolicy networkPolicy(PostgresCluster cr, OperatorConfig config) {
    return networkPolicy(cr, config, List.of());
  }

  /** The same, with a rule per standby cluster that follows this one ({@link StandbyModel#ingress}). */
  public static NetworkPolicy networkPolicy(PostgresCluster cr, OperatorConfig config, List<PostgresCluster> standbys) {
    String name = cr.getMetadata().getName();
    return new NetworkPolicyBuilder().withMetadata(meta(cr, name)).withNewSpec()
        .withNewPodSelector().withMatchLabels(MemberSelector.of(name).labels()).endPodSelector()
        .withPolicyTypes("Ingress")
        .addNewIngress().addNewPort().withProtocol("TCP").withPort(new IntOrString(5432)).endPort().endIngress()
        .addNewIngress()
          .addNewFrom().withNewPodSelector().withMatchLabels(MemberSelector.of(name).labels())
          .endPodSelector().endFrom()
          .addNewPort().withProtocol("TCP").withPort(new IntOrString(8008)).endPort()
        .endIngress()
        .addNewIngress()
          .addNewFrom().withNewNamespaceSelector()
          .withMatchLabels(sorted("kubernetes.io/metadata.name", config.operatorNamespace())).endNamespaceSelector()
          .withNewPodSelector().withMatchLabels(sorted("app.kubernetes.io/name", "pgtide-operator")).endPodSelector()
          .endFrom()
          .addNewPort().withProtocol("TCP").withPort(new IntOrString(SIDECAR_HTTP_PORT)).endPort()
          .addNewPort().withProtocol("TCP").withPort(new IntOrString(8008)).endPort()
        .endIngress()
        .addNewIngress()
          .addNewFrom().withNewNamespaceSelector()
          .withMatchLabels(sorted("kubernetes.io/metadata.name", config.monitoringNamespace())).endNamespaceSelector()
          .endFrom()
          .addNewPort().withProtocol("TCP").withPort(new IntOrString(SIDECAR_HTTP_PORT)).endPort()
        .endIngress()
        .addAllToIngress(StandbyModel.ingress(standbys))
        .endSpec().build();
  }

  /** The superuser and standby Secrets with freshly generated passwords (created once, never rebuilt). */
  public static List<Secret> credentialSecrets(PostgresCluster cr, java.util.function.Supplier<String> passwords) {
    String name = cr.getMetadata().getName();
    return List.of(credentials(cr, superuserSecret(name), "postgres", passwords.get()),
        credentials(cr, standbySecret(name), "standby", passwords.get()));
  }

  public static Secret credentials(PostgresCluster cr, String secretName, String user, String password) {
    return new SecretBuilder().withMetadata(meta(cr, secretName)).withType("Opaque")
        .addToStringData("username", user).addToStringData("password", password).build();
  }

  /**
   * How many members run: {@code spec.replicas}, or with autoscaling the autoscaler's {@code status.desiredReplicas}
   * clamped to the declared bounds (the operator never writes spec).
   */
  public static int members(PostgresCluster cr) {
    PostgresClusterSpec.AutoscalingSpec a = cr.getSpec().autoscaling;
    Integer desired = cr.getStatus() == null ? null : cr.getStatus().desiredReplicas;
    if (a == null || !a.enabled || desired == null) {
      return cr.getSpec().replicas;
    }
    return Math.max(a.minReplicas, Math.min(a.maxReplicas, desired));
  }

  public static StatefulSet statefulSet(PostgresCluster cr, OperatorConfig config) {
    String name = cr.getMetadata().getName();
    PostgresClusterSpec spec = cr.getSpec();
    Map<String, String> podLabels = labels(name);
    return new StatefulSetBuilder().withMetadata(meta(cr, name)).withNewSpec()
        .withReplicas(members(cr)).withServiceName(name).withPodManagementPolicy("OrderedReady")
        .withNewSelector().withMatchLabels(MemberSelector.of(name).labels()).endSelector()
        .withNewUpdateStrategy().withType("OnDelete").endUpdateStrategy()
        .withNewTemplate()
          .withNewMetadata().withLabels(podLabels).endMetadata()
          .withNewSpec()
            .withServiceAccountName(patroniAccount(name))
            .withImagePullSecrets(spec.imagePullSecrets.stream()
                .map(s -> new io.fabric8.kubernetes.api.model.LocalObjectReference(s)).toList())
            .withTerminationGracePeriodSeconds(300L)
            .withAffinity(MemberPlacement.affinity(name, spec.scheduling))
            .withTopologySpreadConstraints(MemberPlacement.spread(name, spec.scheduling))
            .withNodeSelector(spec.scheduling == null ? null : spec.scheduling.nodeSelector)
            .withTolerations(spec.scheduling == null ? null : spec.scheduling.tolerations)
            .withPriorityClassName(spec.scheduling == null ? null : spec.scheduling.priorityClassName)
            // the sidecar fences and probes Spilo's Patroni and PostgreSQL from inside the pod
            .withShareProcessNamespace(true)
            // the API server's baseline Pod Security Standard holds for the pod (Spilo starts as root, so restricted
            // cannot); the sidecar container meets restricted on its own
            .withNewSecurityContext().withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
              // Spilo's group owns the server key's mounted file (root:103, 0440): PostgreSQL, as uid 101 gid 103,
              // reads it, and accepts a root-owned key only without group write or world access. Zalando's
              // default too; Spilo makes PGDATA 0700 again at start. OnRootMismatch: no walk of a large volume.
              .withFsGroup(SPILO_GID).withFsGroupChangePolicy("OnRootMismatch")
              .endSecurityContext()
            .withContainers(spilo(cr, config), sidecar(cr, config))
            // mounted into the sidecar container only; readable by its non-root user (a 0400 file is root's alone
            // and the sidecar could not start)
            .addNewVolume().withName("pgtide-tls").withNewSecret().withSecretName(sidecarTlsSecret(name))
              .withDefaultMode(0444).endSecret().endVolume()
            // PostgreSQL's server certificate (ServerCertificates): pgtide's, or the user's (spec.tls)
            .addNewVolume().withName("server-tls").withNewSecret().withSecretName(ServerCertificates.mountedSecret(cr))
              .withDefaultMode(0440).endSecret().endVolume()
            .addNewVolume().withName("dshm").withNewEmptyDir().withMedium("Memory").endEmptyDir().endVolume()
            .addNewVolume().withName("sidecar-tmp").withNewEmptyDir().endEmptyDir().endVolume()
            .addAllToVolumes(customQueryVolumes(spec))
            .addAllToVolumes(StandbyModel.archiveVolumes(cr))
          .endSpec()
        .endTemplate()
        .withVolumeClaimTemplates(new PersistentVolumeClaimBuilder().withNewMetadata().withName("pgdata")
            .withLabels(podLabels).endMetadata().withNewSpec().withAccessModes("ReadWriteOnce")
            .withStorageClassName(spec.storage.storageClass)
            .withNewResources().addToRequests("storage", new Quantity(spec.storage.size)).endResources()
            .endSpec().build())
        // a member removed by scale-down keeps (Retain) or loses (Delete) its volume; deletion of the whole
        // cluster is the finalizer's (storage.pvcRetention)
        .withNewPersistentVolumeClaimRetentionPolicy().withWhenDeleted("Retain")
          .withWhenScaled(spec.autoscaling.removedMemberStorage).endPersistentVolumeClaimRetentionPolicy()
        .endSpec().build();
  }

  /**
   * The PostgreSQL major an existing StatefulSet's Spilo container is set up for (its PGVERSION, as this class wrote
   * it), or null when there is no StatefulSet or it names none. Pure.
   */
  public static Integer postgresVersion(StatefulSet sts) {
    if (sts == null || sts.getSpec() == null || sts.getSpec().getTemplate() == null
        || sts.getSpec().getTemplate().getSpec() == null) {
      return null;
    }
    return sts.getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> "postgres".equals(c.getName()) && c.getEnv() != null)
        .flatMap(c -> c.getEnv().stream())
        .filter(e -> "PGVERSION".equals(e.getName()) && e.getValue() != null
            && e.getValue().strip().matches("\\d{1,3}"))
        .map(e -> Integer.valueOf(e.getValue().strip())).findFirst().orElse(null);
  }

  static Container spilo(PostgresCluster cr, OperatorConfig config) {
    String name = cr.getMetadata().getName();
    PostgresClusterSpec spec = cr.getSpec();
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVarBuilder().withName("SCOPE").withValue(name).build());
    env.add(new EnvVarBuilder().withName("PGROOT").withValue(PGROOT).build());
    env.add(new EnvVarBuilder().withName("PGDATA").withValue(PGDATA).build());
    env.add(fieldRef("POD_IP", "status.podIP"));
    env.add(fieldRef("POD_NAMESPACE", "metadata.namespace"));
    env.add(new EnvVarBuilder().withName("PGUSER_SUPERUSER").withValue("postgres").build());
    env.add(secretRef("PGPASSWORD_SUPERUSER", superuserSecret(name)));
    env.add(new EnvVarBuilder().withName("PGUSER_STANDBY").withValue("standby").build());
    env.add(secretRef("PGPASSWORD_STANDBY", standbySecret(name)));
    env.add(new EnvVarBuilder().withName("PGVERSION").withValue(Integer.toString(spec.postgresVersion)).build());
    env.add(new EnvVarBuilder().withName("KUBERNETES_SCOPE_LABEL").withValue("cluster-name").build());
    env.add(new EnvVarBuilder().withName("KUBERNETES_ROLE_LABEL").withValue("spilo-role").build());
    env.add(new EnvVarBuilder().withName("KUBERNETES_LABELS")
        .withValue(new JsonObject().put("application", "spilo").encode()).build());
    env.add(new EnvVarBuilder().withName("DCS_ENABLE_KUBERNETES_API").withValue("true").build());
    env.add(new EnvVarBuilder().withName("KUBERNETES_USE_CONFIGMAPS").withValue("true").build());
    // Spilo's default (true) has Patroni read Endpoints "kubernetes" in namespace "default", which the per-cluster
    // Role does not grant: Patroni got 403 and turned it off itself. Off from the start, no refused call.
    env.add(new EnvVarBuilder().withName("KUBERNETES_BYPASS_API_SERVICE").withValue("false").build());
    StandbyModel.Source standbySource = StandbyModel.origin(cr);
    env.add(new EnvVarBuilder().withName("SPILO_CONFIGURATION").withValue(spiloConfiguration(spec,
        standbySource == null ? null : StandbyModel.restoreCommand(standbySource))).build());
    env.addAll(StandbyModel.env(cr)); // spec.standby: Spilo's STANDBY_* (bootstrap only; see there)
    // PostgreSQL's certificate from the cluster's CA (issue #32), through Spilo's own contract. Spilo points
    // ssl_cert_file/ssl_key_file/ssl_ca_file at these paths and copies nothing: without SSL_CERTIFICATE (the
    // content) and with the key file present, configure_spilo.py's write_certificates neither writes nor makes a
    // self-signed one, nor chmods (the mount is read-only). So the files the kubelet updates after a re-issue are
    // the ones PostgreSQL reads at its next reload. The sidecar reloads within 10 s when they are newer than
    // PostgreSQL's configuration (ServerCertificateReload, through SQL: the key is not mounted into it), and Spilo
    // as well, by itself: with SSL_PRIVATE_KEY_FILE set it installs the cron job test_reload_ssl.sh, which runs
    // `pg_ctl reload` within 5 minutes of a changed hash. No restart either way.
    env.add(new EnvVarBuilder().withName("SSL_CERTIFICATE_FILE").withValue(ServerCertificates.MOUNT_DIR + "/tls.crt")
        .build());
    env.add(new EnvVarBuilder().withName("SSL_PRIVATE_KEY_FILE").withValue(ServerCertificates.MOUNT_DIR + "/tls.key")
        .build());
    env.add(new EnvVarBuilder().withName("SSL_CA_FILE").withValue(ServerCertificates.MOUNT_DIR + "/ca.crt").build());
    return new ContainerBuilder().withName("postgres").withImage(spec.image != null ? spec.image : config.spiloImage())
        .withEnv(env)
        .addNewPort().withName("postgresql").withContainerPort(5432).endPort()
        .addNewPort().withName("patroni").withContainerPort(8008).endPort()
        .addNewPort().withName("bg-mon").withContainerPort(8080).endPort()
        .withResources(new ResourceRequirementsBuilder().withRequests(quantities(spec.resources.get("requests")))
            .withLimits(quantities(spec.resources.get("limits"))).build())
        .withNewReadinessProbe().withNewHttpGet().withPath("/readiness").withPort(new IntOrString(8008)).endHttpGet()
          .withInitialDelaySeconds(6).withPeriodSeconds(10).withFailureThreshold(3).endReadinessProbe()
        .addNewVolumeMount().withName("pgdata").withMountPath(DATA_VOLUME_PATH).endVolumeMount()
        .addNewVolumeMount().withName("dshm").withMountPath("/dev/shm").endVolumeMount()
        .addNewVolumeMount().withName("server-tls").withMountPath(ServerCertificates.MOUNT_DIR).withReadOnly(true)
          .endVolumeMount()
        .addAllToVolumeMounts(StandbyModel.archiveMounts(cr))
        .build();
  }

  /**
   * One volume per custom queries ConfigMap, holding only its key. A whole-volume mount, never subPath: the kubelet
   * updates a ConfigMap volume's files in place (a subPath mount never changes), and the sidecar re-reads them.
   * Optional: a missing ConfigMap must not keep the database from starting; the sidecar reports the missing file.
   */
  static List<io.fabric8.kubernetes.api.model.Volume> customQueryVolumes(PostgresClusterSpec spec) {
    List<io.fabric8.kubernetes.api.model.Volume> out = new ArrayList<>();
    List<PostgresClusterSpec.CustomQueriesSpec> queries = customQueries(spec);
    for (int i = 0; i < queries.size(); i++) {
      out.add(new io.fabric8.kubernetes.api.model.VolumeBuilder().withName("custom-queries-" + i).withNewConfigMap()
          .withName(queries.get(i).configMap).withOptional(true).withDefaultMode(0444)
          .addNewItem().withKey(queries.get(i).key).withPath(queries.get(i).key).endItem().endConfigMap().build());
    }
    return out;
  }

  private static List<PostgresClusterSpec.CustomQueriesSpec> customQueries(PostgresClusterSpec spec) {
    return spec.monitoring == null || spec.monitoring.customQueries == null ? List.of()
        : spec.monitoring.customQueries.stream().filter(q -> q.configMap != null && !q.configMap.isBlank()).toList();
  }

  static Container sidecar(PostgresCluster cr, OperatorConfig config) {
    Container c = sidecarContainer(cr, config);
    List<PostgresClusterSpec.CustomQueriesSpec> queries = customQueries(cr.getSpec());
    List<String> files = new ArrayList<>();
    for (int i = 0; i < queries.size(); i++) {
      String dir = io.pgtide.common.contract.CustomQueries.MOUNT_DIR + "/" + i;
      c.getVolumeMounts().add(new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName("custom-queries-" + i)
          .withMountPath(dir).withReadOnly(true).build());
      files.add(dir + "/" + queries.get(i).key);
    }
    if (!files.isEmpty()) {
      c.getEnv().add(new EnvVarBuilder().withName(io.pgtide.common.contract.CustomQueries.ENV)
          .withValue(io.pgtide.common.contract.CustomQueries.env(files)).build());
    }
    return c;
  }

  private static Container sidecarContainer(PostgresCluster cr, OperatorConfig config) {
    String name = cr.getMetadata().getName();
    return new ContainerBuilder().withName("pgtide-sidecar").withImage(config.sidecarImage())
        .withEnv(fieldRef("PGTIDE_NAMESPACE", "metadata.namespace"), fieldRef("PGTIDE_MEMBER", "metadata.name"),
            new EnvVarBuilder().withName("PGTIDE_CLUSTER").withValue(name).build(),
            new EnvVarBuilder().withName("PGTIDE_PG_HOST").withValue("127.0.0.1").build(),
            new EnvVarBuilder().withName("PGTIDE_PG_USER").withValue("postgres").build(),
            secretRef("PGTIDE_PG_PASSWORD", superuserSecret(name)),
            new EnvVarBuilder().withName("PGTIDE_PATRONI_URL").withValue("http://127.0.0.1:8008").build(),
            new EnvVarBuilder().withName("PGTIDE_OPERATOR_HOST").withValue(config.operatorServiceHost()).build(),
            new EnvVarBuilder().withName("PGTIDE_OPERATOR_PORT").withValue(Integer.toString(config.bridgePort()))
                .build(),
            new EnvVarBuilder().withName("PGTIDE_TLS_DIR").withValue("/etc/pgtide/tls").build(),
            new EnvVarBuilder().withName("PGTIDE_HTTP_PORT").withValue(Integer.toString(SIDECAR_HTTP_PORT)).build(),
            new EnvVarBuilder().withName("PGTIDE_POD_PROCESSES").withValue("true").build(),
            new EnvVarBuilder().withName("PGTIDE_PG_LOG_DIR").withValue(DATA_VOLUME_PATH + "/pgroot/pg_log").build(),
            // CPU and memory of PostgreSQL itself (the sidecar's cgroup is its own container's), against the Spilo
            // container's limits (the node's allocatable where it sets none, as the downward API gives them)
            new EnvVarBuilder().withName("PGTIDE_RESOURCES").withValue("process-tree").build(),
            spiloLimit("PGTIDE_PG_CPU_LIMIT_MILLICORES", "limits.cpu", "1m"),
            spiloLimit("PGTIDE_PG_MEMORY_LIMIT_BYTES", "limits.memory", "1"),
            new EnvVarBuilder().withName("JAVA_TOOL_OPTIONS").withValue("-Djava.io.tmpdir=/tmp").build())
        .addNewPort().withName("sidecar-http").withContainerPort(SIDECAR_HTTP_PORT).endPort()
        .withResources(new ResourceRequirementsBuilder()
            .withRequests(sorted("cpu", new Quantity("50m"), "memory", new Quantity("96Mi")))
            .withLimits(sorted("memory", new Quantity("128Mi"))).build())
        // a JVM starting on a busy node with a 50m request needs seconds of CPU it may not get at once: the startup
        // probe gives it 5 minutes, and only then does liveness (3 answers missed, 5 s each) restart it; with
        // liveness alone it was killed 30 s after each start and never came up (a crash loop under load)
        .withNewStartupProbe().withNewHttpGet().withPath("/healthz").withPort(new IntOrString(SIDECAR_HTTP_PORT))
          .endHttpGet().withPeriodSeconds(2).withTimeoutSeconds(5).withFailureThreshold(150).endStartupProbe()
        .withNewLivenessProbe().withNewHttpGet().withPath("/healthz").withPort(new IntOrString(SIDECAR_HTTP_PORT))
          .endHttpGet().withPeriodSeconds(10).withTimeoutSeconds(5).withFailureThreshold(3).endLivenessProbe()
        // Spilo's postgres user: the one user (no capability needed) that may signal Patroni and PostgreSQL
        .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(SPILO_UID).withRunAsGroup(SPILO_GID)
          .withReadOnlyRootFilesystem(true)
          .withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL").endCapabilities()
        .endSecurityContext()
        .addNewVolumeMount().withName("pgtide-tls").withMountPath("/etc/pgtide/tls").withReadOnly(true)
          .endVolumeMount()
        .addNewVolumeMount().withName("sidecar-tmp").withMountPath("/tmp").endVolumeMount()
        // PostgreSQL's csvlog for `pgtide logs`: Spilo writes it to $PGROOT/pg_log (configure_spilo.py), on the
        // data volume; read only, as Spilo's uid (the directory is 0700)
        .addNewVolumeMount().withName("pgdata").withMountPath(DATA_VOLUME_PATH).withReadOnly(true).endVolumeMount()
        .build();
  }

  /**
   * Spilo's SPILO_CONFIGURATION: Patroni's bootstrap DCS settings and PostgreSQL parameters, and how a new member
   * clones. Spilo's own clone script takes its base backup after a spread checkpoint, so a member added to a
   * primary with dirty buffers waits up to 0.9 x checkpoint_timeout (223 s measured) before copying a byte; an
   * autoscaler adding a member under load cannot wait that long. Patroni's own {@code basebackup} method with an
   * immediate checkpoint starts the copy at once, streaming the WAL it needs (Spilo merges this over its template;
   * a list given here replaces the template's).
   */
  public static String spiloConfiguration(PostgresClusterSpec spec) {
    return spiloConfiguration(spec, null);
  }

  /**
   * The same for a standby cluster ({@code standbyRestoreCommand} not null): Spilo's template writes {@code
   * standby_cluster}'s host, port and slot from the STANDBY_* variables, and merges this over it, adding the
   * fallback to the source's WAL archive ({@link StandbyModel#restoreCommand}). Bootstrap only, like the rest.
   */
  public static String spiloConfiguration(PostgresClusterSpec spec, String standbyRestoreCommand) {
    JsonObject clone = new JsonObject().put("create_replica_method", new JsonArray().add("basebackup"))
        .put("basebackup", new JsonObject().put("checkpoint", "fast"));
    return new JsonObject().put("bootstrap", new JsonObject().put("dcs", patroniDynamic(spec, standbyRestoreCommand)))
        .put("postgresql", clone).encode();
  }

  /**
   * Patroni's dynamic configuration as the cluster starts with it: what Spilo gets as {@code bootstrap.dcs}, and what
   * a standby of an S3 copy finds in its data directory ({@code patroni.dynamic.json}, from its restore Job), as its
   * first member adopts that directory rather than bootstrapping (Patroni then reads no {@code bootstrap.dcs}).
   */
  public static JsonObject patroniDynamic(PostgresClusterSpec spec, String standbyRestoreCommand) {
    JsonObject dcs = new JsonObject().put("ttl", spec.patroni.ttl).put("loop_wait", spec.patroni.loopWait)
        .put("retry_timeout", spec.patroni.retryTimeout)
        .put("maximum_lag_on_failover", spec.patroni.maximumLagOnFailover)
        .put("synchronous_mode", spec.patroni.synchronousMode)
        .put("postgresql", new JsonObject().put("parameters", new JsonObject(new TreeMap<>(spec.parameters))));
    if (standbyRestoreCommand != null) {
      dcs.put("standby_cluster", new JsonObject().put("restore_command", standbyRestoreCommand));
    }
    return dcs;
  }

  /**
   * What pgtide applies to grow a member's claim: its size and nothing else (the StatefulSet controller made the
   * claim and owns the rest; an apply declaring more would take those fields over).
   */
  public static PersistentVolumeClaim claimSize(String claim, Quantity size) {
    return new PersistentVolumeClaimBuilder().withNewMetadata().withName(claim).endMetadata()
        .withNewSpec().withNewResources().addToRequests("storage", size).endResources().endSpec().build();
  }

  private static Map<String, Quantity> quantities(Map<String, String> values) {
    Map<String, Quantity> out = new TreeMap<>();
    if (values != null) {
      values.forEach((k, v) -> out.put(k, new Quantity(v)));
    }
    return out;
  }

  private static EnvVar fieldRef(String name, String path) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef().withFieldPath(path).endFieldRef()
        .endValueFrom().build();
  }

  private static EnvVar spiloLimit(String name, String resource, String divisor) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewResourceFieldRef().withContainerName("postgres")
        .withResource(resource).withDivisor(new Quantity(divisor)).endResourceFieldRef().endValueFrom().build();
  }

  static EnvVar secretRef(String name, String secret) {
    return secretRef(name, secret, "password");
  }

  static EnvVar secretRef(String name, String secret, String key) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef().withName(secret)
        .withKey(key).endSecretKeyRef().endValueFrom().build();
  }
}
