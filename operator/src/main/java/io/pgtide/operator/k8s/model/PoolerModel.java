package io.pgtide.operator.k8s.model;

import static io.pgtide.operator.k8s.model.ClusterModel.sorted;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.pooler.PgBouncerConfig;
import io.pgtide.operator.pooler.PoolerSql;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * PgBouncer on Kubernetes for {@code spec.pooler} (issue #32): a Deployment {@code <c>-pooler} in front of the
 * primary Service {@code <c>}, with {@code replicas: true} a second one {@code <c>-pooler-repl} in front of
 * {@code <c>-repl}, each with its Service and PodDisruptionBudget; one ConfigMap (their {@code pgbouncer.ini}s), one
 * NetworkPolicy, the Secret {@code <c>-pooler} ({@value PoolerSql#ROLE}'s password and PgBouncer's userlist) and the
 * pooler's own serverAuth certificate {@code <c>-pooler-tls} from the cluster CA (the pooler pods never hold
 * PostgreSQL's key). Pure.
 *
 * <p>PgBouncer dials the Service by name, and the Service follows the primary across failovers, so its ini never
 * changes with the primary and PgBouncer is never reloaded for one: its next server connection reaches the new
 * primary. It runs from the Spilo image (Debian's {@code /usr/sbin/pgbouncer}) as Spilo's uid, not root, on a
 * read-only root filesystem.
 *
 * <p>Its pods carry labels of their own ({@code app.kubernetes.io/name: pgtide-pooler}), never the members'
 * ({@code application=spilo,cluster-name=<c>}): the member Services, PodDisruptionBudget, NetworkPolicy, Patroni and
 * the operator's member lists must not find them.
 */
public final class PoolerModel {
  public static final int PORT = 5432;
  /** Where PgBouncer finds its files in the pod. */
  static final String CONFIG_DIR = "/etc/pgbouncer/config";
  static final String AUTH_DIR = "/etc/pgbouncer/auth";
  static final String TLS_DIR = "/etc/pgbouncer/tls";
  /** Its Unix socket, on an emptyDir: {@code kubectl exec … psql -h /var/run/pgbouncer -p 5432 pgbouncer}. */
  static final String RUN_DIR = "/var/run/pgbouncer";
  public static final String INI_KEY = "pgbouncer.ini";
  public static final String USERLIST_KEY = "userlist.txt";
  /** The pod template's annotation that changes with what PgBouncer reads only at its start (ini, certificate). */
  public static final String CONFIG_HASH = "pgtide.io/pooler-config";
  static final String PGBOUNCER = "/usr/sbin/pgbouncer";

  /** One pooler: in front of the primary, or of the replicas. */
  public enum Kind {
    PRIMARY("primary", ""), REPLICAS("replicas", "-repl");

    final String component;
    final String suffix;

    Kind(String component, String suffix) {
      this.component = component;
      this.suffix = suffix;
    }

    /** The label value and the {@code pooler} label of its metrics. */
    public String component() {
      return component;
    }
  }

  private PoolerModel() {
  }

  /** The pooler's Deployment, Service and PodDisruptionBudget: {@code <c>-pooler} or {@code <c>-pooler-repl}. */
  public static String name(String cluster, Kind kind) {
    return cluster + "-pooler" + kind.suffix;
  }

  /** The ConfigMap, NetworkPolicy and credentials Secret, shared by both poolers: {@code <c>-pooler}. */
  public static String sharedName(String cluster) {
    return cluster + "-pooler";
  }

  /** The pooler's own certificate: {@code <c>-pooler-tls}. */
  public static String tlsSecret(String cluster) {
    return sharedName(cluster) + "-tls";
  }

  /** The poolers {@code spec.pooler} asks for: the primary's, and the replicas' with {@code replicas: true}. */
  public static List<Kind> kinds(PostgresCluster cr) {
    var pooler = cr.getSpec().pooler;
    if (pooler == null) {
      return List.of();
    }
    return pooler.replicas ? List.of(Kind.PRIMARY, Kind.REPLICAS) : List.of(Kind.PRIMARY);
  }

  /** Labels of all of a cluster's pooler objects and pods (what the NetworkPolicy selects). */
  public static Map<String, String> labels(String cluster) {
    return sorted("app.kubernetes.io/name", "pgtide-pooler", "app.kubernetes.io/instance", cluster,
        "app.kubernetes.io/managed-by", "pgtide");
  }

  /** One pooler's pod labels and selector: the shared labels and its component. */
  public static Map<String, String> labels(String cluster, Kind kind) {
    Map<String, String> out = new TreeMap<>(labels(cluster));
    out.put("app.kubernetes.io/component", kind.component);
    return out;
  }

  /** An object of the pooler's with the shared labels, owned by the cluster. */
  public static ObjectMeta meta(PostgresCluster cr, String name) {
    return meta(cr, name, labels(cr.getMetadata().getName()));
  }

  static ObjectMeta meta(PostgresCluster cr, String name, Map<String, String> labels) {
    return new ObjectMetaBuilder().withName(name).withNamespace(cr.getMetadata().getNamespace())
        .withLabels(labels).withOwnerReferences(ClusterModel.owner(cr)).build();
  }

  /**
   * The host PgBouncer dials: the primary Service {@code <c>.<ns>.svc} or the replicas' {@code <c>-repl.<ns>.svc},
   * names the server certificate carries ({@link ServerCertificates#dnsNames}), so verify-full holds.
   */
  public static String targetHost(String namespace, String cluster, Kind kind) {
    return ServerCertificates.commonName(namespace, cluster + kind.suffix);
  }

  /** The name clients and the operator dial and verify: {@code <c>-pooler[-repl].<ns>.svc}. */
  public static String host(String namespace, String cluster, Kind kind) {
    return name(cluster, kind) + "." + namespace + ".svc";
  }

  /** Every name of the pooler Services the spec asks for, each in all four DNS forms: the certificate's names. */
  public static List<String> dnsNames(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String cluster = cr.getMetadata().getName();
    List<String> out = new ArrayList<>();
    for (Kind kind : kinds(cr)) {
      String service = name(cluster, kind);
      out.addAll(List.of(service, service + "." + ns, host(ns, cluster, kind), host(ns, cluster, kind)
          + ".cluster.local"));
    }
    return out;
  }

  /**
   * Whether the pooler gets a certificate of its own: only from pgtide's cluster CA. With {@code spec.tls} (the
   * user's certificate) pgtide has no CA to issue from, and PgBouncer offers clients no TLS.
   */
  public static boolean clientTls(PostgresCluster cr) {
    return cr.getSpec().tls == null;
  }

  /**
   * One pooler's {@code pgbouncer.ini}: verify-full to the Service's name with the CA of {@code <c>-ca}, TLS to
   * clients with its own certificate when it has one, the admin console also on a Unix socket.
   */
  public static String ini(PostgresCluster cr, Kind kind) {
    String ns = cr.getMetadata().getNamespace();
    String cluster = cr.getMetadata().getName();
    Path serverCa = Path.of(ServerCertificates.CA_MOUNT_DIR, ServerCertificates.CA_KEY);
    PgBouncerConfig.Tls tls = clientTls(cr)
        ? new PgBouncerConfig.Tls(serverCa, Path.of(TLS_DIR, "tls.crt"), Path.of(TLS_DIR, "tls.key"))
        : new PgBouncerConfig.Tls(serverCa, null, null);
    return PgBouncerConfig.ini(cr.getSpec().pooler, new PgBouncerConfig.Listen("0.0.0.0", PORT),
        new PgBouncerConfig.Target(targetHost(ns, cluster, kind), 5432), tls, Path.of(AUTH_DIR, USERLIST_KEY),
        Path.of(RUN_DIR));
  }

  /** The ini of each pooler the spec asks for, under {@code pgbouncer.ini} and {@code pgbouncer-repl.ini}. */
  public static ConfigMap configMap(PostgresCluster cr) {
    String cluster = cr.getMetadata().getName();
    ConfigMapBuilder b = new ConfigMapBuilder().withMetadata(meta(cr, sharedName(cluster), labels(cluster)));
    for (Kind kind : kinds(cr)) {
      b.addToData(iniKey(kind), ini(cr, kind));
    }
    return b.build();
  }

  static String iniKey(Kind kind) {
    return "pgbouncer" + kind.suffix + ".ini";
  }

  /**
   * {@value PoolerSql#ROLE}'s credentials: its password (the operator logs in with it for the statistics and
   * derives the role's SCRAM verifier from it) and PgBouncer's userlist built from it. Created once, never rebuilt.
   */
  public static Secret credentials(PostgresCluster cr, String password) {
    String cluster = cr.getMetadata().getName();
    return new SecretBuilder().withMetadata(meta(cr, sharedName(cluster), labels(cluster))).withType("Opaque")
        .addToStringData("username", PoolerSql.ROLE).addToStringData("password", password)
        .addToStringData(USERLIST_KEY, PgBouncerConfig.authFileLine(password)).build();
  }

  public static Service service(PostgresCluster cr, Kind kind) {
    String cluster = cr.getMetadata().getName();
    return new ServiceBuilder().withMetadata(meta(cr, name(cluster, kind), labels(cluster, kind)))
        .withNewSpec().withType("ClusterIP").withSelector(labels(cluster, kind))
        .addNewPort().withName("pgbouncer").withPort(PORT).withTargetPort(new IntOrString(PORT)).withProtocol("TCP")
        .endPort().endSpec().build();
  }

  /**
   * One pod at a time may be evicted: with one instance a drain still proceeds (a minAvailable of 1 would block it
   * for good), with more the others keep serving.
   */
  public static PodDisruptionBudget podDisruptionBudget(PostgresCluster cr, Kind kind) {
    String cluster = cr.getMetadata().getName();
    return new PodDisruptionBudgetBuilder().withMetadata(meta(cr, name(cluster, kind), labels(cluster, kind)))
        .withNewSpec().withMaxUnavailable(new IntOrString(1))
        .withNewSelector().withMatchLabels(labels(cluster, kind)).endSelector().endSpec().build();
  }

  /**
   * PgBouncer's port admits anyone, as the members' own policy admits PostgreSQL clients from anywhere (the
   * password is the gate); that includes the operator, which reads SHOW POOLS and SHOW STATS. The members' policy
   * already admits the pooler pods on 5432 for the same reason, so it needs no rule for them.
   */
  public static NetworkPolicy networkPolicy(PostgresCluster cr) {
    String cluster = cr.getMetadata().getName();
    return new NetworkPolicyBuilder().withMetadata(meta(cr, sharedName(cluster), labels(cluster))).withNewSpec()
        .withNewPodSelector().withMatchLabels(labels(cluster)).endPodSelector()
        .withPolicyTypes("Ingress")
        .addNewIngress().addNewPort().withProtocol("TCP").withPort(new IntOrString(PORT)).endPort().endIngress()
        .endSpec().build();
  }

  /**
   * One pooler's Deployment. {@code certificatePem} is the pooler's current certificate ("" without one): PgBouncer
   * reads its ini and TLS files only at its start (or a RELOAD), so their hash on the pod template rolls the pods
   * when either changes; the userlist never changes (the password is generated once).
   */
  public static Deployment deployment(PostgresCluster cr, OperatorConfig config, Kind kind, String certificatePem) {
    String cluster = cr.getMetadata().getName();
    var spec = cr.getSpec();
    var scheduling = spec.scheduling;
    Map<String, String> podLabels = labels(cluster, kind);
    var container = new io.fabric8.kubernetes.api.model.ContainerBuilder().withName("pgbouncer")
        .withImage(spec.image != null ? spec.image : config.spiloImage())
        .withCommand(PGBOUNCER, CONFIG_DIR + "/" + INI_KEY)
        .addNewPort().withName("pgbouncer").withContainerPort(PORT).endPort()
        .withResources(new ResourceRequirementsBuilder()
            .withRequests(quantities(spec.pooler.resources.get("requests")))
            .withLimits(quantities(spec.pooler.resources.get("limits"))).build())
        .withNewReadinessProbe().withNewTcpSocket().withPort(new IntOrString(PORT)).endTcpSocket()
          .withPeriodSeconds(5).withFailureThreshold(3).endReadinessProbe()
        .withNewLivenessProbe().withNewTcpSocket().withPort(new IntOrString(PORT)).endTcpSocket()
          .withInitialDelaySeconds(10).withPeriodSeconds(10).withFailureThreshold(6).endLivenessProbe()
        // Spilo's postgres user (Debian's pgbouncer needs no root): nothing to write but its socket, on an emptyDir
        .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(ClusterModel.SPILO_UID)
          .withRunAsGroup(ClusterModel.SPILO_GID).withReadOnlyRootFilesystem(true)
          .withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL").endCapabilities()
        .endSecurityContext()
        // directory mounts, never subPath: the kubelet updates a re-issued certificate in place
        .addNewVolumeMount().withName("config").withMountPath(CONFIG_DIR).withReadOnly(true).endVolumeMount()
        .addNewVolumeMount().withName("auth").withMountPath(AUTH_DIR).withReadOnly(true).endVolumeMount()
        .addNewVolumeMount().withName("server-ca").withMountPath(ServerCertificates.CA_MOUNT_DIR).withReadOnly(true)
          .endVolumeMount()
        .addNewVolumeMount().withName("run").withMountPath(RUN_DIR).endVolumeMount();
    if (clientTls(cr)) {
      container.addNewVolumeMount().withName("tls").withMountPath(TLS_DIR).withReadOnly(true).endVolumeMount();
    }
    var pod = new io.fabric8.kubernetes.api.model.PodSpecBuilder()
        .withAutomountServiceAccountToken(false)
        .withImagePullSecrets(spec.imagePullSecrets.stream().map(LocalObjectReference::new).toList())
        // where the members may run (dedicated database nodes, their taints), the pooler may too
        .withNodeSelector(scheduling == null ? null : scheduling.nodeSelector)
        .withTolerations(scheduling == null ? null : scheduling.tolerations)
        .withPriorityClassName(scheduling == null ? null : scheduling.priorityClassName)
        // instances on distinct nodes when the nodes allow: losing a node then takes one pooler pod, not all
        .withNewAffinity().withNewPodAntiAffinity().addNewPreferredDuringSchedulingIgnoredDuringExecution()
          .withWeight(100).withNewPodAffinityTerm().withTopologyKey(MemberPlacement.HOSTNAME)
          .withNewLabelSelector().withMatchLabels(podLabels).endLabelSelector().endPodAffinityTerm()
        .endPreferredDuringSchedulingIgnoredDuringExecution().endPodAntiAffinity().endAffinity()
        // fsGroup: the mounted Secret files (0440) are readable by Spilo's group, not by the world
        .withNewSecurityContext().withFsGroup(ClusterModel.SPILO_GID).withNewSeccompProfile()
          .withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
        .withContainers(container.build())
        .addNewVolume().withName("config").withNewConfigMap().withName(sharedName(cluster)).withDefaultMode(0444)
          .addNewItem().withKey(iniKey(kind)).withPath(INI_KEY).endItem().endConfigMap().endVolume()
        .addNewVolume().withName("auth").withNewSecret().withSecretName(sharedName(cluster)).withDefaultMode(0440)
          .addNewItem().withKey(USERLIST_KEY).withPath(USERLIST_KEY).endItem().endSecret().endVolume()
        .addNewVolume().withName("server-ca").withNewConfigMap().withName(ServerCertificates.caConfigMap(cluster))
          .withDefaultMode(0444).endConfigMap().endVolume()
        .addNewVolume().withName("run").withNewEmptyDir().withMedium("Memory").withSizeLimit(new Quantity("1Mi"))
          .endEmptyDir().endVolume();
    if (clientTls(cr)) {
      pod.addNewVolume().withName("tls").withNewSecret().withSecretName(tlsSecret(cluster)).withDefaultMode(0440)
          .endSecret().endVolume();
    }
    return new DeploymentBuilder().withMetadata(meta(cr, name(cluster, kind), podLabels)).withNewSpec()
        .withReplicas(spec.pooler.instances)
        .withNewSelector().withMatchLabels(podLabels).endSelector()
        // a new pod is ready before an old one goes: clients reconnect to a PgBouncer that is there
        .withNewStrategy().withType("RollingUpdate").withNewRollingUpdate().withMaxUnavailable(new IntOrString(0))
          .withMaxSurge(new IntOrString(1)).endRollingUpdate().endStrategy()
        .withNewTemplate()
          .withNewMetadata().withLabels(podLabels)
            .addToAnnotations(CONFIG_HASH, hash(ini(cr, kind) + "\n" + certificatePem)).endMetadata()
          .withSpec(pod.build())
        .endTemplate()
        .endSpec().build();
  }

  /**
   * Every object the reconciler writes under a name of its own choosing for {@code spec.pooler} (Secrets without
   * data), for the ownership check; empty without a pooler.
   */
  public static List<HasMetadata> named(PostgresCluster cr, OperatorConfig config) {
    List<HasMetadata> out = new ArrayList<>();
    if (cr.getSpec().pooler == null) {
      return out;
    }
    String cluster = cr.getMetadata().getName();
    out.add(new SecretBuilder().withMetadata(meta(cr, sharedName(cluster), labels(cluster))).build());
    if (clientTls(cr)) {
      out.add(new SecretBuilder().withMetadata(meta(cr, tlsSecret(cluster), labels(cluster))).build());
    }
    out.add(configMap(cr));
    out.add(networkPolicy(cr));
    for (Kind kind : kinds(cr)) {
      out.add(service(cr, kind));
      out.add(podDisruptionBudget(cr, kind));
      out.add(deployment(cr, config, kind, ""));
    }
    return out;
  }

  private static Map<String, Quantity> quantities(Map<String, String> values) {
    Map<String, Quantity> out = new TreeMap<>();
    if (values != null) {
      values.forEach((k, v) -> out.put(k, new Quantity(v)));
    }
    return out;
  }

  static String hash(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
