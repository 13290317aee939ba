package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.testkit.SteadyWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Failover on real pods, synchronous mode, Patroni's default timing (ttl 30 s, loop_wait 10 s), under a writer that
 * never stops (through the primary Service): a planned switchover; the Spilo container killed (its own sidecar
 * confirms Patroni and PostgreSQL dead, the leader lock is released at once instead of after the ttl); the
 * postmaster SIGKILLed (Patroni restarts it); the postmaster SIGSTOPped (a zombie: fenced through its sidecar, its
 * pod never deleted, its Patroni restarted by Spilo's runit and back as a replica); the primary pod deleted. 0 acknowledged writes lost in each; the time until writes are
 * acknowledged again is printed as a table ({@code -Dpgtide.failover.runs=N} repeats each fault N times for the
 * p50: {@code bench/results/failover-k8s.txt}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverK8sE2E {
  static final String NS = "e2e-failover";
  static final String NAME = "fo";
  static final int TTL_S = 30;
  static final int RUNS = Integer.getInteger("pgtide.failover.runs", 1);
  /** Failed writes this long after a fault belong to its outage (the slowest case, a zombie, ends within 30 s). */
  static final long OUTAGE_WINDOW_MS = 90_000;
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Map<String, List<long[]>> RESULTS = new LinkedHashMap<>();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void createCluster() {
    k8s.freshNamespace(NS);
    k8s.serviceAccount(NS, "switcher", "pgtide-operator-user");
    k8s.serviceAccount(NS, "nobody", null);
    // Kubernetes' own edit role: pgtide-operator-user is aggregated into it, and it may read Secrets and port-forward
    k8s.serviceAccount(NS, "dba", "edit");
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %2$s, namespace: %1$s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          failoverDelaySeconds: 5
          patroni: {ttl: %3$d, loopWait: 10, retryTimeout: 10, synchronousMode: true}
        """.formatted(NS, NAME, TTL_S));
    await().atMost(Duration.ofSeconds(300)).until(FailoverK8sE2E::settled);
  }

  @AfterAll
  static void report() {
    System.out.println("K8S-FAILOVER fault                       runs  writable-again p50 / max (ms)  lost  kinds");
    RESULTS.forEach((fault, runs) -> {
      long[] ms = runs.stream().mapToLong(r -> r[0]).sorted().toArray();
      System.out.printf("K8S-FAILOVER %-28s %4d  %8d / %8d  %12d  %s%n", fault, runs.size(), ms[(ms.length - 1) / 2],
          ms[ms.length - 1], runs.stream().mapToLong(r -> r[1]).sum(), KINDS.getOrDefault(fault, List.of()));
    });
    k8s.dropNamespace(NS);
  }

  static final Map<String, List<String>> KINDS = new LinkedHashMap<>();

  static PostgresCluster cluster() {
    return k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME).get();
  }

  /** Ready, both members ready, and Patroni has a synchronous standby again (so a failover may lose nothing). */
  static boolean settled() {
    return k8s.settledInSync(NS, NAME, 2);
  }

  static Pod pod(String name) {
    return k8s.client().pods().inNamespace(NS).withName(name).get();
  }

  static String superuserPassword() {
    return k8s.superuserPassword(NS, NAME);
  }

  static String completedAt() {
    PostgresClusterStatus.Failover f = cluster().getStatus().lastFailover;
    return f == null ? "" : f.completedAt;
  }

  /**
   * Inflicts {@code fault} on the primary under a steady writer; returns the failover record's kind (or "none").
   * Asserts 0 acknowledged writes lost and that the cluster settles again (the old primary back as a replica).
   */
  static String underFault(String fault, Consumer<String> inflict, boolean failoverExpected) {
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).until(FailoverK8sE2E::settled);
    String primary = cluster().getStatus().primary;
    String before = completedAt();
    String ip = k8s.client().services().inNamespace(NS).withName(NAME).get().getSpec().getClusterIP();
    // a primary that just settled may not route through kube-proxy for a moment
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
      ServiceSql.of(k8s, NS, NAME, "postgres", superuserPassword()).exec("SELECT 1");
      return true;
    });
    try (SteadyWriter w = SteadyWriter.overSsl(ip, 5432, "postgres", superuserPassword())) {
      await().atMost(Duration.ofSeconds(30)).until(() -> w.acknowledgedCount() > 50);
      long t0 = System.currentTimeMillis();
      inflict.accept(primary);
      if (failoverExpected) {
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
            .until(() -> !completedAt().equals(before));
      }
      // writes acknowledged again (the outage ended), then a steady flow
      await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
          .until(() -> w.acknowledgedSince(w.writableAgainAfter(t0, OUTAGE_WINDOW_MS)) > 50);
      long writable = w.writableAgainAfter(t0, OUTAGE_WINDOW_MS) - t0;
      await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).until(FailoverK8sE2E::settled);
      w.stop();
      long lost = w.lost();
      PostgresClusterStatus.Failover f = cluster().getStatus().lastFailover;
      String kind = failoverExpected || !completedAt().equals(before) ? f.kind : "none";
      RESULTS.computeIfAbsent(fault, k -> new ArrayList<>()).add(new long[] {writable, lost});
      KINDS.computeIfAbsent(fault, k -> new ArrayList<>()).add(kind);
      System.out.printf("K8S-FAILOVER-RUN %-28s primary %s -> %s  writable again after %d ms  acked %d  lost %d  %s%n",
          fault, primary, cluster().getStatus().primary, writable, w.acknowledgedCount(), lost, kind);
      assertThat(lost).as(fault + ": acknowledged writes lost").isZero();
      if (failoverExpected) {
        assertThat(f.from).isEqualTo(primary);
        assertThat(f.to).isNotEqualTo(primary);
      }
      return kind;
    }
  }

  static String postgresContainerId(String podName) {
    return pod(podName).getStatus().getContainerStatuses().stream().filter(c -> "postgres".equals(c.getName()))
        .findFirst().orElseThrow().getContainerID().replaceFirst("^containerd://", "");
  }

  static int postgresRestarts(String podName) {
    return pod(podName).getStatus().getContainerStatuses().stream().filter(c -> "postgres".equals(c.getName()))
        .findFirst().orElseThrow().getRestartCount();
  }

  static void signalPostmaster(String podName, String signal) {
    k8s.kubectl("-n", NS, "exec", podName, "-c", "postgres", "--", "sh", "-c",
        "kill -" + signal + " $(head -1 /home/postgres/pgdata/pgroot/data/postmaster.pid)");
  }

  @Test
  @Order(1)
  void aPlannedSwitchoverThroughTheControlApi() throws Exception {
    for (int i = 0; i < RUNS; i++) {
      String kind = underFault("planned switchover", primary -> {
        Pod leader = k8s.operatorLeader();
        String token = k8s.kubectl("-n", NS, "create", "token", "switcher", "--duration=10m").strip();
        try {
          HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://"
                  + leader.getStatus().getPodIP() + ":8081/api/clusters/" + NS + "/" + NAME + "/switchover"))
              .timeout(Duration.ofSeconds(90)).header("Authorization", "Bearer " + token)
              .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, true);
      assertThat(kind).isEqualTo("switchover");
    }
  }

  static Path kubeconfigFor(String account) throws Exception {
    return k8s.kubeconfigFor(NS, account);
  }

  static RealKubernetes.Plugin kubectlPgtide(Path kubeconfig, String... args) throws Exception {
    return k8s.kubectlPgtide(kubeconfig, args);
  }

  /** What `kubectl pgtide logs` needs in the operator's namespace: find the leader and port-forward to it. */
  static final String LOGS_READER = """
      apiVersion: rbac.authorization.k8s.io/v1
      kind: Role
      metadata: {name: e2e-failover-logs, namespace: pgtide-system}
      rules:
      - {apiGroups: [""], resources: [pods], verbs: [get, list]}
      # a port-forward over WebSockets (fabric8's) is a GET, over SPDY a POST: get and create
      - {apiGroups: [""], resources: [pods/portforward], verbs: [get, create]}
      ---
      apiVersion: rbac.authorization.k8s.io/v1
      kind: RoleBinding
      metadata: {name: e2e-failover-logs, namespace: pgtide-system}
      roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: e2e-failover-logs}
      subjects: [{kind: ServiceAccount, name: dba, namespace: %s}]
      """.formatted(NS);

  /**
   * A statement on the primary that fails (no such table) is in the followed stream, from {@code primary}, with its
   * SQLSTATE; prints how long after psql returned it was printed.
   */
  static io.vertx.core.json.JsonObject failingStatementSeen(String table, Path out, String primary) {
    try {
      return failingStatementPrinted(table, out, primary);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      String err;
      try {
        err = Files.readString(out.resolveSibling(out.getFileName() + ".err"));
      } catch (java.io.IOException io) {
        err = io.toString();
      }
      throw new AssertionError("`kubectl pgtide logs -f` never printed " + table + "; it said on stderr:\n" + err, e);
    }
  }

  static io.vertx.core.json.JsonObject failingStatementPrinted(String table, Path out, String primary) {
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
      try {
        ServiceSql.of(k8s, NS, NAME, "postgres", superuserPassword()).exec("SELECT * FROM " + table);
        return false;
      } catch (IllegalStateException e) {
        return e.getMessage().contains("does not exist"); // the primary refused it (and not the network)
      }
    });
    long failedAt = System.nanoTime();
    io.vertx.core.json.JsonObject seen = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> Files.readString(out).lines().filter(l -> l.startsWith("{") && l.contains(table))
            .map(io.vertx.core.json.JsonObject::new).findFirst(), java.util.Optional::isPresent).orElseThrow();
    System.out.println("K8S-LOGS a failing statement on " + primary + " was printed by `kubectl pgtide logs -f` "
        + (System.nanoTime() - failedAt) / 1_000_000 + " ms after psql returned");
    assertThat(seen.getString("member")).isEqualTo(primary);
    assertThat(seen.getString("sqlstate")).isEqualTo("42P01");
    assertThat(seen.getString("severity")).isEqualTo("ERROR");
    return seen;
  }

  static String switchOverWithThePlugin(Path allowed) {
    return underFault("kubectl pgtide switchover", primary -> {
      try {
        RealKubernetes.Plugin switched = kubectlPgtide(allowed, "switchover", "-n", NS, NAME);
        assertThat(switched.exit()).as(switched.output()).isZero();
        assertThat(switched.output()).contains("switchover " + NS + "/" + NAME + ": Succeeded: " + primary + " -> ");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, true);
  }

  @Test
  @Order(2)
  void aUserBoundToPgtideOperatorUserSwitchesOverWithTheKubectlPlugin() throws Exception {
    Path allowed = kubeconfigFor("switcher");
    Path refused = kubeconfigFor("nobody");
    Path dba = kubeconfigFor("dba");
    try {
      RealKubernetes.Plugin status = kubectlPgtide(allowed, "status", "-n", NS, NAME, "-o", "json");
      assertThat(status.exit()).as(status.output()).isZero();
      assertThat(new io.vertx.core.json.JsonObject(status.stdout()).getString("primary"))
          .isEqualTo(cluster().getStatus().primary);
      RealKubernetes.Plugin table = kubectlPgtide(allowed, "status", NAME);
      assertThat(table.output()).contains("Cluster: " + NS + "/" + NAME).contains("MEMBER");
      RealKubernetes.Plugin dryRun = kubectlPgtide(allowed, "users", "sync", "-n", NS, NAME, "--dry-run");
      assertThat(dryRun.exit()).as(dryRun.output()).isZero();
      assertThat(dryRun.output()).contains("users-sync " + NS + "/" + NAME + ": Succeeded: would change:");

      // no role: the API server refuses the annotation, nothing is asked of the operator
      String before = cluster().getStatus().primary;
      RealKubernetes.Plugin denied = kubectlPgtide(refused, "switchover", "-n", NS, NAME);
      assertThat(denied.exit()).isEqualTo(1);
      assertThat(denied.output()).contains("forbidden");
      assertThat(cluster().getStatus().primary).isEqualTo(before);

      // a DBA follows the cluster's errors across the switchover (get on the cluster; list and port-forward on the
      // operator's pods to reach its control API)
      k8s.apply(LOGS_READER);
      String failing = "before_switchover_" + System.nanoTime();
      Path out = Files.createTempFile("logs-follow", ".out");
      Process follow = k8s.kubectlPgtideProcess(dba, "logs", "-n", NS, NAME, "-f", "-o", "json", "--severity", "ERROR",
          "--limit", "10").redirectOutput(out.toFile()).redirectError(out.resolveSibling(out.getFileName() + ".err")
          .toFile()).start();
      String kind;
      try {
        String primaryBefore = cluster().getStatus().primary;
        io.vertx.core.json.JsonObject seen = failingStatementSeen(failing, out, primaryBefore);
        assertThat(seen.getString("source")).isEqualTo("postgres");
        kind = switchOverWithThePlugin(allowed);
        String primaryAfter = cluster().getStatus().primary;
        String afterwards = "after_switchover_" + System.nanoTime();
        failingStatementSeen(afterwards, out, primaryAfter);
        assertThat(follow.isAlive()).as("kubectl pgtide logs -f goes on across the switchover").isTrue();
        // a one-off read, one member, text: the line as a DBA reads it
        RealKubernetes.Plugin text = kubectlPgtide(dba, "logs", "-n", NS, NAME, primaryAfter, "--postgres",
            "--severity", "ERROR", "--since", "10m");
        assertThat(text.exit()).as(text.output()).isZero();
        assertThat(text.stdout()).contains(primaryAfter + " postgres ERROR 42P01 postgres@postgres: relation \""
            + afterwards + "\" does not exist");
        // Patroni's lines, which Spilo writes to the container's output only: the operator reads them from the pod log
        RealKubernetes.Plugin patroni = kubectlPgtide(dba, "logs", "-n", NS, NAME, "--patroni", "--since", "10m",
            "-o", "json");
        assertThat(patroni.exit()).as(patroni.output()).isZero();
        assertThat(patroni.stderr()).as("no member's Patroni output is missing").doesNotContain("patroni:");
        List<io.vertx.core.json.JsonObject> patroniLines = patroni.stdout().lines().filter(l -> l.startsWith("{"))
            .map(io.vertx.core.json.JsonObject::new).toList();
        assertThat(patroniLines).allSatisfy(l -> assertThat(l.getString("source")).isEqualTo("patroni"));
        assertThat(patroniLines).extracting(l -> l.getString("member")).contains(primaryBefore, primaryAfter);
        assertThat(patroniLines).anyMatch(l -> l.getString("message", "").contains("the leader with the lock"));
      } finally {
        follow.destroy();
        if (!follow.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          follow.destroyForcibly();
        }
        k8s.kubectl("-n", "pgtide-system", "delete", "rolebinding,role", "e2e-failover-logs", "--ignore-not-found");
        Files.deleteIfExists(out);
        Files.deleteIfExists(out.resolveSibling(out.getFileName() + ".err"));
      }
      assertThat(kind).isEqualTo("switchover");


      // psql needs the superuser Secret and a port-forward: edit has both, pgtide-operator-user alone neither
      RealKubernetes.Plugin noSecret = kubectlPgtide(allowed, "psql", "-n", NS, NAME, "--", "-Atc", "SELECT 1");
      assertThat(noSecret.exit()).isEqualTo(1);
      assertThat(noSecret.output()).contains("cannot read the superuser Secret: forbidden");
      RealKubernetes.Plugin psql = kubectlPgtide(dba, "psql", "-n", NS, NAME, "--", "-Atc",
          "SELECT pg_is_in_recovery(), current_user, inet_server_port()");
      assertThat(psql.exit()).as(psql.output()).isZero();
      assertThat(psql.stdout().strip()).isEqualTo("f|postgres|5432");
      RealKubernetes.Plugin aggregated = kubectlPgtide(dba, "users", "sync", "-n", NS, NAME, "--dry-run");
      assertThat(aggregated.exit()).as("edit aggregates pgtide-operator-user: " + aggregated.output()).isZero();
    } finally {
      Files.deleteIfExists(allowed);
      Files.deleteIfExists(refused);
      Files.deleteIfExists(dba);
    }
  }

  @Test
  @Order(4)
  void theSpiloContainerKilledIsConfirmedDeadByItsSidecarAndNeedsNoTtl() {
    for (int i = 0; i < RUNS; i++) {
      String kind = underFault("Spilo container killed", primary -> RealKubernetes.run(List.of("ctr", "--address",
          RealKubernetes.containerdOf(pod(primary)), "-n", "k8s.io", "tasks", "kill", "--all", "--signal", "SIGKILL", postgresContainerId(primary)),
          Duration.ofSeconds(30), null), true);
      assertThat(kind).isEqualTo("confirmed-dead");
      long writable = RESULTS.get("Spilo container killed").get(i)[0];
      assertThat(writable).as("writable again well before Patroni's ttl").isLessThan(TTL_S * 1000L / 2);
    }
  }

  @Test
  @Order(5)
  void aKilledPostmasterIsRestartedByPatroniWithoutAFailover() {
    for (int i = 0; i < RUNS; i++) {
      // crash recovery may outlast failoverDelaySeconds: the member refuses logins (57P03), it is not frozen, so it
      // is never fenced and no failover happens
      assertThat(underFault("postmaster SIGKILLed", primary -> signalPostmaster(primary, "KILL"), false))
          .as("a restarting primary was taken for a zombie").isEqualTo("none");
    }
  }

  @Test
  @Order(6)
  void aFrozenPostmasterIsFencedThroughItsSidecarNeverByDeletingThePod() {
    for (int i = 0; i < RUNS; i++) {
      String[] zombie = new String[3];
      String kind = underFault("postmaster SIGSTOPped", primary -> {
        zombie[0] = primary;
        zombie[1] = pod(primary).getMetadata().getUid();
        zombie[2] = Integer.toString(postgresRestarts(primary));
        signalPostmaster(primary, "STOP");
      }, true);
      assertThat(kind).isEqualTo("zombie-fenced");
      // the same pod (never deleted), the same container: Spilo's runit restarted the Patroni the sidecar killed,
      // and it came back as a replica (settled: the other member leads, this one is its synchronous standby)
      assertThat(pod(zombie[0]).getMetadata().getUid()).isEqualTo(zombie[1]);
      assertThat(postgresRestarts(zombie[0])).isEqualTo(Integer.parseInt(zombie[2]));
      assertThat(cluster().getStatus().primary).isNotEqualTo(zombie[0]);
      List<String> reasons = k8s.client().v1().events().inNamespace(NS).list().getItems().stream()
          .map(e -> e.getReason()).toList();
      assertThat(reasons).contains("FencingZombie").doesNotContain("FenceNotConfirmed");
    }
  }

  @Test
  @Order(7)
  void aDeletedPrimaryPodHandsOverAsPatroniShutsDown() {
    for (int i = 0; i < RUNS; i++) {
      underFault("primary pod deleted", primary -> k8s.kubectl("-n", NS, "delete", "pod", primary, "--wait=false"),
          true);
    }
  }

  /** The leader's control API (the Service selects the pod with the leader label). */
  static String leaderUrl() {
    Pod pod = k8s.operatorLeader();
    return "http://" + pod.getStatus().getPodIP() + ":8081";
  }

  static List<String> failoversIn(io.vertx.core.json.JsonArray events) {
    return events.stream().map(e -> (io.vertx.core.json.JsonObject) e)
        .filter(e -> e.getString("reason").equals("FailoverCompleted") || e.getString("reason")
            .equals("SwitchoverCompleted")).map(e -> e.getLong("at") + " " + e.getString("message")).toList();
  }

  @Test
  @Order(8)
  void theEventHistorySurvivesARestartOfEveryOperatorPod() throws Exception {
    String key = NS + "/" + NAME;
    // kept in a ConfigMap owned by the cluster (deleted with it), written within seconds of each event
    String[] kept = new String[1];
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      var cm = k8s.client().configMaps().inNamespace(NS).withName(NAME + "-pgtide-events").get();
      kept[0] = cm == null ? "" : cm.getData().get("events.jsonl");
      return kept[0].contains("\"FailoverCompleted\"") && kept[0].contains("\"SwitchoverCompleted\"");
    });
    var cm = k8s.client().configMaps().inNamespace(NS).withName(NAME + "-pgtide-events").get();
    assertThat(cm.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getKind() + "/" + o.getName()).isEqualTo("PostgresCluster/" + NAME));
    String token = k8s.kubectl("-n", NS, "create", "token", "switcher", "--duration=10m").strip();
    HttpRequest before = HttpRequest.newBuilder(URI.create(leaderUrl() + "/api/events?cluster=" + key))
        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).build();
    List<String> seen = failoversIn(new io.vertx.core.json.JsonArray(
        HTTP.send(before, HttpResponse.BodyHandlers.ofString()).body()));
    assertThat(seen).as("failovers and switchovers of the earlier tests").hasSizeGreaterThanOrEqualTo(3);

    k8s.kubectl("-n", "pgtide-system", "delete", "pod", "-l", "app.kubernetes.io/name=pgtide-operator",
        "--wait=true", "--timeout=120s");
    // a new leader of new pods: the same history, read back from the ConfigMap
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions().until(() -> {
      HttpRequest after = HttpRequest.newBuilder(URI.create(leaderUrl() + "/api/events?cluster=" + key))
          .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).build();
      HttpResponse<String> r = HTTP.send(after, HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && failoversIn(new io.vertx.core.json.JsonArray(r.body())).containsAll(seen);
    });
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).until(FailoverK8sE2E::settled);
  }
}
