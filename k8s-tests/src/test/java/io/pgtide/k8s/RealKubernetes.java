package io.pgtide.k8s;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real three-node Kubernetes of {@code scripts/k8s/} for a test class, with pgtide deployed in it as users
 * deploy it. One cluster per test JVM: the first class brings it up (building or reusing the cached binaries and
 * images) and deploys the operator; it is torn down when the test run ends, unless it already ran before the run
 * (brought up by hand: then it is left running).
 * <pre>{@code @RegisterExtension static RealKubernetes k8s = new RealKubernetes();}</pre>
 */
public final class RealKubernetes implements BeforeAllCallback {
  public static final String OPERATOR_SA = "system:serviceaccount:pgtide-system:pgtide-operator";
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RealKubernetes.class);
  private Session session;

  /** The cluster of this test run, shared by every class; closed by JUnit after the last one. */
  static final class Session implements ExtensionContext.Store.CloseableResource {
    final Path repo;
    final Path state;
    final Path logs;
    final boolean wasRunning;
    final Path kubeconfig;
    final KubernetesClient client;

    Session() {
      repo = repoRoot();
      state = Path.of(System.getenv().getOrDefault("PGTIDE_K8S_STATE", "/var/lib/pgtide-k8s"));
      logs = repo.resolve("k8s-tests/target/it");
      try {
        Files.createDirectories(logs);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      wasRunning = alive(state.resolve("run/kube-apiserver.pid"));
      String out = script(Duration.ofMinutes(40), "up.sh");
      kubeconfig = Path.of(out.strip().lines().reduce((a, b) -> b).orElseThrow());
      try {
        script(Duration.ofMinutes(15), "deploy-operator.sh");
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
            .build();
      } catch (IOException | RuntimeException e) {
        close();
        throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
      }
    }

    String script(Duration timeout, String name, String... args) {
      List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("scripts/k8s/" + name).toString()));
      cmd.addAll(List.of(args));
      return run(cmd, timeout, logs.resolve(name.replace(".sh", "") + ".log"));
    }

    @Override
    public void close() {
      if (client != null) {
        client.close();
      }
      if (!wasRunning) {
        script(Duration.ofMinutes(5), "down.sh");
      }
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    session = context.getRoot().getStore(NS).getOrComputeIfAbsent(Session.class, k -> new Session(), Session.class);
  }

  public KubernetesClient client() {
    return session.client;
  }

  public Path repo() {
    return session.repo;
  }

  /** A kubeconfig of this cluster's API server for a ServiceAccount's token (what a user's kubeconfig would be). */
  public Path kubeconfigFor(String namespace, String account) throws Exception {
    String server = kubectl("config", "view", "--raw", "--minify", "--flatten", "-o",
        "jsonpath={.clusters[0].cluster.server}");
    // --flatten: the admin kubeconfig names its CA file; a user's carries the data
    String ca = kubectl("config", "view", "--raw", "--minify", "--flatten", "-o",
        "jsonpath={.clusters[0].cluster.certificate-authority-data}");
    if (ca.isBlank()) {
      throw new IllegalStateException("the admin kubeconfig carries no CA data");
    }
    String token = kubectl("-n", namespace, "create", "token", account, "--duration=10m").strip();
    Path file = Files.createTempFile("kubeconfig-" + account, "");
    Files.writeString(file, """
        apiVersion: v1
        kind: Config
        clusters: [{name: test, cluster: {server: "%s", certificate-authority-data: "%s"}}]
        users: [{name: %s, user: {token: "%s"}}]
        contexts: [{name: test, context: {cluster: test, user: %s, namespace: %s}}]
        current-context: test
        """.formatted(server, ca, account, token, account, namespace));
    return file;
  }

  public record Plugin(int exit, String stdout, String stderr) {
    public String output() {
      return stdout + stderr;
    }
  }

  /** {@code kubectl pgtide ARGS} as a user runs it: the plugin found on PATH, the user's kubeconfig. */
  public Plugin kubectlPgtide(Path kubeconfig, String... args) throws Exception {
    Path err = Files.createTempFile("kubectl-pgtide", ".err");
    Process p = kubectlPgtideProcess(kubeconfig, args).redirectError(err.toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(180, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("kubectl pgtide " + String.join(" ", args) + " did not finish: " + out);
    }
    String stderr = Files.readString(err);
    Files.delete(err);
    return new Plugin(p.exitValue(), out, stderr);
  }

  /** The process of {@code kubectl pgtide ARGS} as a user starts it, for a command that runs on ({@code logs -f}). */
  public ProcessBuilder kubectlPgtideProcess(Path kubeconfig, String... args) {
    String bin = RealKubernetes.run(List.of("bash", "-c", ". " + repo().resolve("scripts/k8s/lib.sh")
        + " && echo $K8S_BIN"), Duration.ofSeconds(10), null).strip();
    List<String> cmd = new ArrayList<>(List.of(bin + "/kubectl", "pgtide"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    pb.environment().put("PATH", repo().resolve("scripts") + ":" + Path.of(ProcessHandle.current().info()
        .command().orElse("/usr/bin/java")).getParent() + ":" + System.getenv("PATH"));
    return pb;
  }

  /** {@code kubectl} (the cluster's own version) as the cluster admin; fails with its output. */
  public String kubectl(String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", session.repo.resolve("scripts/k8s/kubectl.sh").toString()));
    cmd.addAll(List.of(args));
    return run(cmd, Duration.ofMinutes(5), null);
  }

  /**
   * ArgoCD's health word (Healthy, Progressing, Degraded) for a PostgresCluster as the API server holds it now: the
   * check of examples/gitops/health run by Lua 5.1 on the object's JSON, as ArgoCD runs it (issue #31).
   */
  public String argoHealth(String namespace, String name) {
    try {
      Path json = Files.createTempFile(session.logs, "health-", ".json");
      Files.writeString(json, kubectl("-n", namespace, "get", "postgrescluster", name, "-o", "json"));
      Path health = session.repo.resolve("examples/gitops/health");
      String out = run(List.of("bash", "-c", "lua5.1 \"$0\" \"$1\" < \"$2\"", health.resolve("run-health.lua")
          .toString(), health.resolve("postgrescluster.lua").toString(), json.toString()), Duration.ofSeconds(30),
          null);
      return out.strip().split("\t")[0];
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Each pod's uid and its containers' restart counts, for the pods of {@code namespace} carrying {@code label=value}:
   * equal before and after means no pod was replaced or restarted.
   */
  public java.util.Map<String, List<Integer>> podsAndRestarts(String namespace, String label, String value) {
    return client().pods().inNamespace(namespace).withLabel(label, value).list().getItems().stream()
        .collect(java.util.stream.Collectors.toMap(p -> p.getMetadata().getUid(), p -> p.getStatus()
            .getContainerStatuses().stream().map(c -> c.getRestartCount()).toList()));
  }

  /** {@code kubectl apply} of a YAML document. */
  public String apply(String yaml) {
    try {
      Path f = Files.createTempFile(session.logs, "apply-", ".yaml");
      Files.writeString(f, yaml);
      return kubectl("apply", "-f", f.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs one of {@code scripts/k8s/}. */
  public String script(String name, String... args) {
    return session.script(Duration.ofMinutes(10), name, args);
  }

  /**
   * Every request of the operator's ServiceAccount that RBAC refused since {@code since}, from the audit log's
   * authorization decision ("forbid"): "verb resource namespace/name: message" each. (Other 403s, such as a write
   * into a namespace being deleted, are not authorization denials.)
   */
  /**
   * A namespace of the test's own, empty: one a run before left behind (a killed JVM skips its cleanup, and the
   * cluster's etcd keeps it across down/up) is deleted first, with what it held.
   */
  public void freshNamespace(String namespace) {
    kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=180s");
    kubectl("create", "namespace", namespace);
    // what the README promises: cluster pods are admitted under the baseline Pod Security Standard (enforced)
    kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=baseline");
  }

  /**
   * A ServiceAccount in {@code namespace}, bound there to {@code clusterRole} (none: no RoleBinding) — a user of the
   * cluster with exactly that grant; {@code kubectl create token} makes its credential.
   */
  public void serviceAccount(String namespace, String name, String clusterRole) {
    String account = """
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: %2$s, namespace: %1$s}
        """.formatted(namespace, name);
    apply(clusterRole == null ? account : account + """
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: %2$s, namespace: %1$s}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %3$s}
        subjects: [{kind: ServiceAccount, name: %2$s, namespace: %1$s}]
        """.formatted(namespace, name, clusterRole));
  }

  /** The password of a cluster's superuser, from the Secret pgtide keeps it in. */
  public String superuserPassword(String namespace, String cluster) {
    var s = client().secrets().inNamespace(namespace)
        .withName("postgres." + cluster + ".credentials.postgresql.pgtide.io").get();
    return new String(java.util.Base64.getDecoder().decode(s.getData().get("password")),
        java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * Ready with {@code members} members, every one ready, and a synchronous standby that is not the primary (Patroni's
   * {@code <cluster>-sync}): a failover from here may lose nothing.
   */
  public boolean settledInSync(String namespace, String cluster, int members) {
    var cr = client().resources(io.pgtide.common.crd.PostgresCluster.class).inNamespace(namespace).withName(cluster)
        .get();
    if (cr == null || cr.getStatus() == null || cr.getStatus().members == null
        || cr.getStatus().members.size() != members || !cr.getStatus().members.stream().allMatch(m -> m.ready)
        || cr.getStatus().conditions.stream().noneMatch(c -> "Ready".equals(c.type) && "True".equals(c.status))) {
      return false;
    }
    var sync = client().configMaps().inNamespace(namespace).withName(cluster + "-sync").get();
    String standby = sync == null || sync.getMetadata().getAnnotations() == null ? null
        : sync.getMetadata().getAnnotations().get("sync_standby");
    return standby != null && !standby.isBlank() && !standby.equals(cr.getStatus().primary);
  }

  /**
   * The leading operator replica of the cluster-wide install, once it is the only pod with the leader label, holds
   * the Lease and has an address. After a lost or cut node the Lease moves and the label follows it within seconds;
   * a class that starts then must wait for it (NetworkPolicyK8sE2E right after NodeLossK8sE2E, CI 2026-12-04).
   */
  public io.fabric8.kubernetes.api.model.Pod operatorLeader() {
    var found = new java.util.concurrent.atomic.AtomicReference<io.fabric8.kubernetes.api.model.Pod>();
    try {
      awaitOperatorLeader(found);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("no single operator leader after 3 min; pods and Lease:\n" + kubectl("-n",
          "pgtide-system", "get", "pods,leases", "-o", "wide", "--show-labels"), e);
    }
    return found.get();
  }

  private void awaitOperatorLeader(java.util.concurrent.atomic.AtomicReference<io.fabric8.kubernetes.api.model.Pod> found) {
    org.awaitility.Awaitility.await("the operator's leader labelled, holding the Lease, with an address")
        .atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions().until(() -> {
          var lease = client().leases().inNamespace("pgtide-system").withName("pgtide-operator").get();
          var labelled = client().pods().inNamespace("pgtide-system").withLabel("pgtide.io/leader", "true").list()
              .getItems();
          if (lease == null || labelled.size() != 1) {
            return false;
          }
          var pod = labelled.get(0);
          boolean ok = pod.getMetadata().getName().equals(lease.getSpec().getHolderIdentity())
              && pod.getStatus().getPodIP() != null && pod.getMetadata().getDeletionTimestamp() == null;
          found.set(ok ? pod : null);
          return ok;
        });
  }

  /** The containerd socket of the node a pod runs on (scripts/k8s/node.sh gives each node its own). */
  public static String containerdOf(io.fabric8.kubernetes.api.model.Pod pod) {
    return "/run/pgtide-k8s/node-" + nodeNumber(pod.getSpec().getNodeName()) + "/containerd.sock";
  }

  /** pgtide-node-2 is node 2. */
  public static int nodeNumber(String nodeName) {
    if (nodeName == null || !nodeName.matches("pgtide-node-[0-9]+")) {
      throw new IllegalArgumentException("not a node of the test cluster: " + nodeName);
    }
    return Integer.parseInt(nodeName.substring("pgtide-node-".length()));
  }

  /**
   * One node of the cluster, with nothing graceful: {@code freeze} (its kubelet, containerd and pods frozen and every
   * packet to or from it dropped), {@code thaw}, {@code cut} (cut off from the API server and the other nodes while
   * its processes run; the host still reaches its pods) and {@code heal}. See scripts/k8s/node.sh.
   */
  public void node(String action, int node) {
    script("node.sh", action, Integer.toString(node));
  }

  /**
   * Deletes a test's namespace with what it held, and recycles the volumes released so far for the next test. What
   * it held is written first to {@code k8s-tests/target/it/ns-<namespace>/} (objects, events, every container's log
   * and the operator's), so a failure can be read after the namespace is gone.
   *
   * <p>It does not wait for the namespace to go: with members still terminating, the namespace controller looks
   * again only after half their grace period (300 s), so waiting cost ~160 s per test class. Every class uses a
   * namespace of its own, and the volumes this one releases are recycled by the next drop.
   */
  public void dropNamespace(String namespace) {
    dump(namespace);
    kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false");
    script("volumes.sh");
  }

  private void dump(String namespace) {
    Path out = session.logs.resolve("ns-" + namespace);
    Map<String, List<String>> views = new java.util.LinkedHashMap<>();
    views.put("objects.txt", List.of("-n", namespace, "get", "all,pvc,postgresclusters,leases,pdb,networkpolicies",
        "-o", "wide"));
    views.put("postgresclusters.yaml", List.of("-n", namespace, "get", "postgresclusters", "-o", "yaml"));
    views.put("events.txt", List.of("-n", namespace, "get", "events", "--sort-by=.lastTimestamp"));
    views.put("pods.txt", List.of("-n", namespace, "describe", "pods"));
    views.put("logs.txt", List.of("-n", namespace, "logs", "--all-containers", "--prefix", "--tail=3000",
        "-l", "app.kubernetes.io/managed-by=pgtide"));
    views.put("operator.txt", List.of("-n", "pgtide-system", "logs", "--all-containers", "--prefix", "--tail=3000",
        "-l", "app.kubernetes.io/name=pgtide-operator"));
    try {
      Files.createDirectories(out);
      for (var v : views.entrySet()) {
        String text;
        try {
          text = kubectl(v.getValue().toArray(String[]::new));
        } catch (RuntimeException e) {
          text = "(not available: " + e.getMessage() + ")"; // diagnostics only: never fail the cleanup over them
        }
        Files.writeString(out.resolve(v.getKey()), text);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * What a failure message needs to say why a cluster did not get where a test waited for it: its conditions, the
   * namespace's last events and the operator pods with their leader labels (the CI prints the message, not the dump).
   */
  public String explain(String namespace, String name) {
    StringBuilder b = new StringBuilder();
    for (List<String> view : List.of(
        List.of("-n", namespace, "get", "postgrescluster", name, "-o",
            "jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{\"\\n\"}{end}"),
        List.of("-n", namespace, "get", "events", "--sort-by=.lastTimestamp"),
        List.of("-n", "pgtide-system", "get", "pods,leases", "-o", "wide", "--show-labels"))) {
      try {
        String text = kubectl(view.toArray(String[]::new)).strip();
        List<String> lines = text.lines().toList();
        b.append('\n').append(String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
      } catch (RuntimeException e) {
        b.append("\n(").append(String.join(" ", view)).append(" not available: ").append(e.getMessage()).append(')');
      }
    }
    return b.toString();
  }

  /** The status of a PostgresCluster's condition, null while it has none (or no such cluster exists). */
  public String condition(String namespace, String name, String type) {
    var cr = client().resources(io.pgtide.common.crd.PostgresCluster.class).inNamespace(namespace).withName(name).get();
    if (cr == null || cr.getStatus() == null) {
      return null;
    }
    return cr.getStatus().conditions.stream().filter(c -> type.equals(c.type)).map(c -> c.status).findFirst()
        .orElse(null);
  }

  /** Every request the API server's audit log holds (scripts/k8s/up.sh's policy: ServiceAccounts, Metadata level). */
  public List<AuditLog.Event> auditEvents() {
    return AuditLog.read(session.state.resolve("logs"));
  }

  /** The audit log's events of the lines {@code keep} accepts (see {@link AuditLog#linesOf}). */
  public List<AuditLog.Event> auditEvents(java.util.function.Predicate<String> keep) {
    return AuditLog.read(session.state.resolve("logs"), keep);
  }

  public List<String> operatorDenials(Instant since) {
    return denials(OPERATOR_SA, since);
  }

  /** Every request of {@code username} that RBAC refused since {@code since} (see {@link #operatorDenials}). */
  public List<String> denials(String username, Instant since) {
    List<String> denied = new ArrayList<>();
    Path audit = session.state.resolve("logs/audit.log");
    try (var lines = Files.lines(audit, StandardCharsets.UTF_8)) {
      lines.forEach(line -> {
        JsonObject e = new JsonObject(line);
        JsonObject user = e.getJsonObject("user", new JsonObject());
        JsonObject response = e.getJsonObject("responseStatus", new JsonObject());
        JsonObject annotations = e.getJsonObject("annotations", new JsonObject());
        if (username.equals(user.getString("username"))
            && "forbid".equals(annotations.getString("authorization.k8s.io/decision"))
            && !Instant.parse(e.getString("requestReceivedTimestamp")).isBefore(since)) {
          JsonObject ref = e.getJsonObject("objectRef", new JsonObject());
          denied.add(e.getString("verb") + " " + ref.getString("resource") + " " + ref.getString("namespace", "")
              + "/" + ref.getString("name", "") + ": " + response.getString("message", ""));
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return denied;
  }

  static String run(List<String> cmd, Duration timeout, Path log) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(log == null);
      if (log != null) {
        pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
      }
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + " did not finish within " + timeout);
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + text
            + (log == null ? "" : " (log: " + log + ")"));
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static boolean alive(Path pidFile) {
    try {
      long pid = Long.parseLong(Files.readString(pidFile).strip());
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  private static Path repoRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("scripts/k8s/up.sh"))) {
        return p;
      }
    }
    throw new IllegalStateException("scripts/k8s/up.sh not found above " + Path.of("").toAbsolutePath());
  }
}
