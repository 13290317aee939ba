package io.pgtide.cli;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.LocalPortForward;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.ClusterRequest;
import io.pgtide.operator.k8s.api.SecretPasswords;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The CLI on Kubernetes as kubectl works: the current kubeconfig (KUBECONFIG, ~/.kube/config, its context and
 * namespace), the caller's own credentials, and the Kubernetes API only. Status is the PostgresCluster's status
 * (RBAC: get); a switchover or a user sync is the annotation {@link ClusterRequest#ANNOTATION} (RBAC: patch), answered
 * by the operator in {@code status.lastRequest}; psql reads the superuser Secret (RBAC: get secrets) and reaches the
 * primary pod through a port-forward (RBAC: pods/portforward). Exit codes as in local mode.
 */
final class KubeCli implements AutoCloseable {
  private final KubernetesClient client;
  private final String namespace;
  private final String name;

  KubeCli(String namespace, String name) {
    this.client = new KubernetesClientBuilder().build();
    this.namespace = namespace != null ? namespace
        : client.getNamespace() != null ? client.getNamespace() : "default";
    this.name = name;
  }

  /** The PostgresCluster, or null after saying why on stderr. */
  PostgresCluster cluster() {
    try {
      PostgresCluster cr = client.resources(PostgresCluster.class).inNamespace(namespace).withName(name).get();
      if (cr == null) {
        System.err.println("pgtide: no PostgresCluster " + namespace + "/" + name);
      }
      return cr;
    } catch (KubernetesClientException e) {
      System.err.println("pgtide: cannot read PostgresCluster " + namespace + "/" + name + ": " + reason(e));
      return null;
    }
  }

  int status(String output) {
    PostgresCluster cr = cluster();
    if (cr == null) {
      return PgtideCli.FAILED;
    }
    PostgresClusterStatus s = cr.getStatus() == null ? new PostgresClusterStatus() : cr.getStatus();
    switch (output) {
      case "json" -> System.out.println(Serialization.asJson(cr.getStatus()));
      case "yaml" -> System.out.print(Serialization.asYaml(cr.getStatus()));
      default -> System.out.print(table(namespace + "/" + name, s));
    }
    return 0;
  }

  static String table(String cluster, PostgresClusterStatus s) {
    StringBuilder out = new StringBuilder();
    String ready = s.conditions.stream().filter(c -> "Ready".equals(c.type)).map(c -> c.status).findFirst()
        .orElse("Unknown");
    out.append(String.format("Cluster: %s  phase: %s  ready: %s  primary: %s%n", cluster, s.phase, ready, s.primary));
    out.append(String.format("%-24s %-8s %-9s %-6s%n", "MEMBER", "ROLE", "TIMELINE", "READY"));
    for (PostgresClusterStatus.Member m : s.members) {
      out.append(String.format("%-24s %-8s %-9s %-6s%n", m.name, m.role, m.timeline == null ? "" : m.timeline,
          m.ready ? "yes" : "no"));
    }
    if (s.standby != null) {
      out.append(s.standby.promoted ? String.format("standby of %s, promoted at %s%n", s.standby.source,
          s.standby.promotedAt) : String.format("standby of %s: %s, lag %s bytes%n", s.standby.source,
          s.standby.s3 != null ? "from its S3 copy " + s.standby.s3.endpoint + "/" + s.standby.s3.bucket + "/"
              + s.standby.s3.prefix : Boolean.TRUE.equals(s.standby.streaming) ? "streaming" : "not streaming",
          s.standby.lagBytes == null ? "unknown" : s.standby.lagBytes));
    }
    if (s.lastFailover != null) {
      out.append(String.format("last failover: %s -> %s in %d ms (%s) at %s%n", s.lastFailover.from,
          s.lastFailover.to, s.lastFailover.durationMs, s.lastFailover.kind, s.lastFailover.completedAt));
    }
    return out.toString();
  }

  /**
   * Writes the request annotation and waits (up to {@code wait}) for the operator's answer with the same id. Exit
   * 0 when it succeeded, 1 otherwise (the operator's message, or why there was none).
   */
  int request(String action, String to, boolean dryRun, Duration wait) throws InterruptedException {
    ClusterRequest request = new ClusterRequest(UUID.randomUUID().toString(), action, to, dryRun, Instant.now());
    JsonObject patch = new JsonObject().put("metadata", new JsonObject().put("annotations",
        new JsonObject().put(ClusterRequest.ANNOTATION, request.toJson().encode())));
    try {
      client.resources(PostgresCluster.class).inNamespace(namespace).withName(name)
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch.encode());
    } catch (KubernetesClientException e) {
      System.err.println("pgtide: cannot ask for " + action + " on " + namespace + "/" + name + ": " + reason(e));
      return PgtideCli.FAILED;
    }
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      PostgresCluster cr = cluster();
      if (cr == null) {
        return PgtideCli.FAILED;
      }
      PostgresClusterStatus.Request answer = cr.getStatus() == null ? null : cr.getStatus().lastRequest;
      if (answer != null && request.id().equals(answer.id)) {
        (answer.outcome.equals("Succeeded") ? System.out : System.err).println(action + " " + namespace + "/" + name
            + ": " + answer.outcome + ": " + answer.message);
        return answer.outcome.equals("Succeeded") ? 0 : PgtideCli.FAILED;
      }
      Thread.sleep(500);
    }
    System.err.println("pgtide: the operator did not answer request " + request.id() + " (" + action + ") within "
        + wait.toSeconds() + " s; is it running? (kubectl -n pgtide-system get pods)");
    return PgtideCli.FAILED;
  }

  /** A port-forward to the leading operator's control API and the coordinates to call it; closes this client too. */
  record Forward(KubeCli kube, LocalPortForward forward, JsonObject state) implements AutoCloseable {
    @Override
    public void close() {
      try {
        forward.close();
      } catch (java.io.IOException e) {
        // the process ends anyway
      }
      kube.close();
    }
  }

  /**
   * Reads that the PostgresCluster's status does not hold ({@code logs}) come from the operator's control API: a
   * port-forward (RBAC: pods/portforward in the operator's namespace, {@code PGTIDE_OPERATOR_NAMESPACE}, default
   * pgtide-system) to the pod that leads (only it reaches the sidecars), authenticated with the kubeconfig's bearer
   * token, which the operator checks with a TokenReview and a SubjectAccessReview ({@code get} on the cluster).
   * Null, after saying why on stderr, when there is no token or no leader; this client is then closed.
   */
  Forward operatorApi() {
    String operatorNs = System.getenv().getOrDefault("PGTIDE_OPERATOR_NAMESPACE", "pgtide-system");
    try {
      var config = client.getConfiguration();
      String token = config.getAutoOAuthToken() != null ? config.getAutoOAuthToken() : config.getOauthToken();
      if (token == null || token.isBlank()) {
        System.err.println("pgtide: the kubeconfig has no bearer token for the operator's control API; use --url "
            + "with --token-file (a token from `kubectl create token`) and a port-forward");
        close();
        return null;
      }
      var pods = client.pods().inNamespace(operatorNs).withLabel("app.kubernetes.io/name", "pgtide-operator")
          .withLabel("pgtide.io/leader", "true").list().getItems();
      if (pods.isEmpty()) {
        System.err.println("pgtide: no leading pgtide operator in namespace " + operatorNs
            + " (PGTIDE_OPERATOR_NAMESPACE names another)");
        close();
        return null;
      }
      LocalPortForward forward = client.pods().inNamespace(operatorNs)
          .withName(pods.get(0).getMetadata().getName()).portForward(8081);
      JsonObject state = new JsonObject().put("base", "http://127.0.0.1:" + forward.getLocalPort())
          .put("token", token).put("namespace", namespace).put("cluster", name);
      return new Forward(this, forward, state);
    } catch (KubernetesClientException e) {
      System.err.println("pgtide: cannot reach the operator in " + operatorNs + ": " + reason(e));
      close();
      return null;
    }
  }

  /** status.backup as the operator wrote it (the backup agent's report), as JSON. */
  int backupStatus() {
    PostgresCluster cr = cluster();
    if (cr == null) {
      return PgtideCli.FAILED;
    }
    if (cr.getSpec().backup == null) {
      System.err.println("pgtide: " + namespace + "/" + name + " declares no spec.backup");
      return PgtideCli.FAILED;
    }
    Object backup = cr.getStatus() == null ? null : cr.getStatus().backup;
    System.out.println(backup == null ? "{}" : JsonObject.mapFrom(backup).encodePrettily());
    return 0;
  }

  /**
   * A new PostgresCluster {@code newName} restored from this cluster's backups to {@code targetTime} (null: the
   * latest point): the source's spec (version, members, storage, resources, parameters, Patroni settings) without its
   * backups, autoscaling and bootstrap, with {@code bootstrap.recovery}. A target the source cannot reach is refused
   * here (exit 2), before anything is created; the operator restores and reports in the new cluster's status. A
   * source that was deleted is restored from its backup volume (which outlives it), into the default spec; {@code
   * storage}, when given, sizes the new cluster's volumes either way.
   */
  int restore(String newName, String targetTime, String storage) {
    PostgresCluster source;
    try {
      source = client.resources(PostgresCluster.class).inNamespace(namespace).withName(name).get();
    } catch (KubernetesClientException e) {
      System.err.println("pgtide: cannot read PostgresCluster " + namespace + "/" + name + ": " + reason(e));
      return PgtideCli.FAILED;
    }
    String volume = io.pgtide.operator.k8s.model.BackupAgentModel.name(name);
    boolean detached;
    try {
      detached = source == null
          && client.persistentVolumeClaims().inNamespace(namespace).withName(volume).get() != null;
    } catch (KubernetesClientException e) {
      System.err.println("pgtide: no PostgresCluster " + namespace + "/" + name + ", and its backup volume "
          + volume + " cannot be read: " + reason(e));
      return PgtideCli.FAILED;
    }
    if (source == null && !detached) {
      System.err.println("pgtide: no PostgresCluster " + namespace + "/" + name + " to restore from, and no "
          + "backup volume " + volume + " of a deleted one");
      return PgtideCli.USAGE;
    }
    var recovery = new io.pgtide.common.crd.PostgresClusterSpec.RecoverySpec();
    recovery.source = name;
    recovery.targetTime = targetTime;
    String problem;
    try {
      problem = io.pgtide.operator.k8s.model.ClusterValidation.recoverySourceProblem(recovery, source,
          detached || source.getSpec().backup != null, Instant.now());
    } catch (IllegalArgumentException e) {
      problem = e.getMessage();
    }
    if (problem != null) {
      System.err.println("pgtide: " + problem);
      return PgtideCli.USAGE;
    }
    PostgresCluster copy = new PostgresCluster();
    copy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(newName)
        .withNamespace(namespace).build());
    // a deleted source's spec went with it: the defaults (a manifest with bootstrap.recovery chooses otherwise)
    copy.setSpec(detached ? new io.pgtide.common.crd.PostgresClusterSpec() : Serialization.clone(source.getSpec()));
    if (detached) {
      System.out.println("PostgresCluster " + namespace + "/" + name + " is gone: restoring from its backup volume "
          + volume + " into a cluster with the default spec and new passwords");
    }
    if (storage != null) {
      copy.getSpec().storage.size = storage;
    }
    copy.getSpec().backup = null;
    copy.getSpec().autoscaling = new io.pgtide.common.crd.PostgresClusterSpec().autoscaling;
    copy.getSpec().bootstrap = new io.pgtide.common.crd.PostgresClusterSpec.BootstrapSpec();
    copy.getSpec().bootstrap.recovery = recovery;
    try {
      client.resources(PostgresCluster.class).inNamespace(namespace).resource(copy).create();
    } catch (KubernetesClientException e) {
      System.err.println("pgtide: cannot create PostgresCluster " + namespace + "/" + newName + ": " + reason(e));
      return PgtideCli.FAILED;
    }
    System.out.println("restoring " + namespace + "/" + name + " to " + (targetTime == null ? "the latest point"
        : targetTime) + " into the new cluster " + namespace + "/" + newName + "; follow it with: kubectl pgtide "
        + "status -n " + namespace + " " + newName);
    return 0;
  }

  /** psql to the primary as the superuser, through a port-forward to the member the operator's status names primary. */
  int psql(List<String> args) throws Exception {
    PostgresCluster cr = cluster();
    if (cr == null) {
      return PgtideCli.FAILED;
    }
    String primary = cr.getStatus() == null ? null : cr.getStatus().primary;
    if (primary == null || primary.isEmpty()) {
      System.err.println("pgtide: " + namespace + "/" + name + " has no primary right now (see pgtide status)");
      return PgtideCli.FAILED;
    }
    Secret secret;
    try {
      secret = client.secrets().inNamespace(namespace).withName(ClusterModel.superuserSecret(name)).get();
    } catch (KubernetesClientException e) {
      System.err.println("pgtide: cannot read the superuser Secret: " + reason(e));
      return PgtideCli.FAILED;
    }
    String password = secret == null ? null : SecretPasswords.passwordOf(secret);
    if (password == null) {
      System.err.println("pgtide: no superuser Secret " + ClusterModel.superuserSecret(name));
      return PgtideCli.FAILED;
    }
    // the cluster's CA (ConfigMap <c>-ca): PostgreSQL's certificate is verified for the primary Service's name
    String caPem;
    try {
      var caMap = client.configMaps().inNamespace(namespace)
          .withName(io.pgtide.operator.k8s.model.ServerCertificates.caConfigMap(name)).get();
      caPem = caMap == null || caMap.getData() == null ? null
          : caMap.getData().get(io.pgtide.operator.k8s.model.ServerCertificates.CA_KEY);
    } catch (KubernetesClientException e) {
      System.err.println("pgtide: cannot read " + io.pgtide.operator.k8s.model.ServerCertificates.caConfigMap(name)
          + ": " + reason(e));
      caPem = null;
    }
    java.nio.file.Path caFile = null;
    try (LocalPortForward forward = client.pods().inNamespace(namespace).withName(primary).portForward(5432)) {
      if (caPem != null) {
        caFile = java.nio.file.Files.createTempFile("pgtide-" + name + "-ca", ".crt");
        java.nio.file.Files.writeString(caFile, caPem);
      } else {
        // a cluster an earlier operator made: its certificate is Spilo's self-signed one until its pods roll
        System.err.println("pgtide: without " + io.pgtide.operator.k8s.model.ServerCertificates.caConfigMap(name)
            + ": TLS without verifying the server (through the API server's port-forward)");
      }
      List<String> cmd = new ArrayList<>(List.of("psql", psqlConninfo(forward.getLocalPort(),
          io.pgtide.operator.k8s.model.ServerCertificates.commonName(namespace, name), caFile)));
      cmd.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
      pb.environment().put("PGPASSWORD", password); // never on the command line
      return pb.start().waitFor();
    } finally {
      if (caFile != null) {
        java.nio.file.Files.deleteIfExists(caFile);
      }
    }
  }

  /**
   * psql's conninfo through a port-forward on {@code port}: with the cluster's CA, verify-full for {@code tlsName}
   * (libpq checks the certificate against {@code host} and dials {@code hostaddr}); without, TLS required. Pure.
   */
  static String psqlConninfo(int port, String tlsName, java.nio.file.Path caFile) {
    String base = "port=" + port + " user=postgres dbname=postgres";
    return caFile == null ? "host=127.0.0.1 " + base + " sslmode=require"
        : "host=" + tlsName + " " + base + new io.pgtide.common.process.PgClientTls("verify-full", caFile,
            "127.0.0.1").conninfo();
  }

  static String reason(KubernetesClientException e) {
    if (e.getCode() == 403) {
      return "forbidden (" + e.getStatus().getMessage() + ")";
    }
    if (e.getCode() > 0) {
      return e.getCode() + " " + e.getMessage();
    }
    // no answer from the API server: what stood in the way (connection, TLS, credentials) is the cause
    StringBuilder why = new StringBuilder(e.getMessage().strip());
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      why.append(": ").append(c.getClass().getSimpleName()).append(" ").append(c.getMessage());
    }
    return why.toString();
  }

  @Override
  public void close() {
    client.close();
  }
}
