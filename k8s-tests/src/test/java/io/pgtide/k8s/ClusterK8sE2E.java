package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A PostgresCluster on real pods: Patroni elects through the Kubernetes DCS, sidecars report over mutual TLS,
 * the Services route, Ready tells the truth, users exist and drift is repaired, the scale subresource works,
 * deleting the resource cleans up.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterK8sE2E {
  static final String NS = "e2e-cluster";
  static final String NAME = "tide";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();

  @BeforeAll
  static void createNamespace() {
    k8s.freshNamespace(NS);
  }

  @AfterAll
  static void deleteNamespace() {
    k8s.dropNamespace(NS);
  }

  static PostgresCluster cluster() {
    return k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME).get();
  }

  static String condition(String type) {
    return k8s.condition(NS, NAME, type);
  }

  static List<Pod> pods() {
    return k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME).list().getItems();
  }

  static String password(String secret) {
    Secret s = k8s.client().secrets().inNamespace(NS).withName(secret).get();
    return new String(Base64.getDecoder().decode(s.getData().get("password")), StandardCharsets.UTF_8);
  }

  static String superuserPassword() {
    return password("postgres." + NAME + ".credentials.postgresql.pgtide.io");
  }

  @Test
  @Order(1)
  void aNewClusterElectsThroughTheKubernetesDcsAndIsReadyOnlyWhenThePrimaryServiceTakesWrites() {
    k8s.apply(queries(QUERIES) + """
        ---
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          monitoring: {customQueries: [{configMap: tide-queries}]}
          # small requests: two pods fit the 2-core node (a request defaults to the limit where none is given)
          resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 1500m, memory: 768Mi}}
          patroni: {ttl: 20, loopWait: 5, retryTimeout: 5}
          users:
            - {name: app_owner, login: true, createdb: true}
        """.formatted(NAME, NS));
    // not Ready while no primary serves (it is created before any pod exists)
    await().atMost(Duration.ofSeconds(30)).until(() -> condition("Ready") != null);
    Instant created = Instant.now();
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(500)).until(() -> {
      String ready = condition("Ready");
      if ("True".equals(ready)) {
        return true;
      }
      // until then it must not claim to be ready, and no primary may be routed
      assertThat(ready).isEqualTo("False");
      return false;
    });
    System.out.println("CLUSTER-READY-S " + Duration.between(created, Instant.now()).toSeconds());
    // Ready needs the primary only; the replica (the StatefulSet starts pods in order) follows
    await().atMost(Duration.ofSeconds(180)).until(() -> cluster().getStatus().members.size() == 2
        && cluster().getStatus().members.stream().allMatch(m -> m.ready));
    PostgresClusterStatus status = cluster().getStatus();
    assertThat(status.phase).isEqualTo("Running");
    assertThat(status.primary).isNotBlank();
    // Patroni on the Kubernetes DCS: the leader lock is a ConfigMap, the leader pod is labelled master
    var leaderCm = k8s.client().configMaps().inNamespace(NS).withName(NAME + "-leader").get();
    assertThat(leaderCm).isNotNull();
    assertThat(leaderCm.getMetadata().getAnnotations().get("leader")).isEqualTo(status.primary);
    assertThat(pods()).filteredOn(p -> "master".equals(p.getMetadata().getLabels().get("spilo-role")))
        .extracting(p -> p.getMetadata().getName()).containsExactly(status.primary);
    // both Services route: writes through the primary one, reads (and no writes) through the replicas one
    ServiceSql primary = ServiceSql.of(k8s, NS, NAME, "postgres", superuserPassword());
    // Ready follows the Service's endpoints; kube-proxy programs the node a moment later
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
      primary.exec("CREATE TABLE IF NOT EXISTS e2e(x int); INSERT INTO e2e VALUES (1)");
      return true;
    });
    assertThat(primary.query("SELECT pg_is_in_recovery()")).isEqualTo("f");
    ServiceSql replicas = ServiceSql.of(k8s, NS, NAME + "-repl", "postgres", superuserPassword());
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> "t".equals(replicas.query("SELECT pg_is_in_recovery()"))
        && "1".equals(replicas.query("SELECT count(*) FROM e2e")));
    // remote clients must use SSL, like Spilo's pg_hba
    assertThat(primary.refusedWithoutSsl()).isTrue();
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }

  @Test
  @Order(2)
  void sidecarsMeasurePostgresqlItselfAgainstTheSpiloContainersLimits() {
    Pod pod = pods().stream().filter(p -> p.getMetadata().getName().equals(cluster().getStatus().primary))
        .findFirst().orElseThrow();
    String url = "http://" + pod.getStatus().getPodIP() + ":9188/metrics";
    Map<String, Double> m = new HashMap<>();
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
      m.clear();
      m.putAll(gauges(HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString()).body()));
      return m.containsKey("pgtide_cpu_cores") && !m.get("pgtide_cpu_cores").isNaN();
    });
    // the Spilo container's limits through the downward API, not the sidecar's own (128Mi, none for CPU)
    assertThat(m.get("pgtide_cpu_limit_cores")).isEqualTo(1.5);
    assertThat(m.get("pgtide_memory_limit_bytes")).isEqualTo(768.0 * 1024 * 1024);
    // PostgreSQL's processes (shared buffers, a backend per connection), not the sidecar's JVM: at least one
    // postmaster, under the container's limit
    assertThat(m.get("pgtide_memory_bytes")).isGreaterThan(4.0 * 1024 * 1024).isLessThan(768.0 * 1024 * 1024);
    assertThat(m.get("pgtide_cpu_cores")).isBetween(0.0, 2.0);
  }

  /** postgres_exporter's queries.yaml format, as a user keeps it: a labelled gauge, and one for the primary only. */
  static final String QUERIES = """
      e2e_kinds:
        query: "SELECT 'a'::text AS kind, 3 AS n UNION ALL SELECT 'b', 4"
        metrics:
          - kind: {usage: LABEL, description: "a kind"}
          - n: {usage: GAUGE, description: "how many of the kind"}
      e2e_primary:
        query: "SELECT 1 AS up"
        master: true
        metrics:
          - up: {usage: GAUGE, description: "1 on the primary"}
      """;

  static String queries(String yaml) {
    return """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: tide-queries, namespace: %s}
        data:
          queries.yaml: |
        %s""".formatted(NS, yaml.indent(4));
  }

  static String metricsOf(Pod pod) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + pod.getStatus().getPodIP() + ":9188/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  static boolean hasSeries(String metrics, String name, String label, String value) {
    return metrics.lines().anyMatch(l -> (l.startsWith(name + "{") || l.startsWith(name + " "))
        && (label == null || l.contains(label))
        && l.matches(".* " + java.util.regex.Pattern.quote(value) + "(\\.0)?$"));
  }

  @Test
  @Order(2)
  void customQueriesFromAConfigMapAreExportedAndAnEditTakesEffectWithoutARestart() {
    String primary = cluster().getStatus().primary;
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions().until(() ->
        pods().stream().allMatch(p -> {
          try {
            String m = metricsOf(p);
            return hasSeries(m, "e2e_kinds_n", "kind=\"a\"", "3") && hasSeries(m, "e2e_kinds_n", "kind=\"b\"", "4")
                && hasSeries(m, "e2e_primary_up", null, "1") == p.getMetadata().getName().equals(primary);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }));
    var restarts = k8s.podsAndRestarts(NS, "cluster-name", NAME);
    // the edit a user makes: one more query, and one that fails; the kubelet swaps the mounted file in place
    k8s.apply(queries(QUERIES + """
        e2e_added:
          query: "SELECT 7 AS seven"
          metrics:
            - seven: {usage: GAUGE, description: "added by an edit"}
        e2e_broken:
          query: "SELECT x FROM no_such_table"
          metrics:
            - x: {usage: COUNTER, description: "never read"}
        """));
    long edited = System.currentTimeMillis();
    await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions().until(() ->
        pods().stream().allMatch(p -> {
          try {
            String m = metricsOf(p);
            return hasSeries(m, "e2e_added_seven", null, "7") && hasSeries(m, "e2e_kinds_n", "kind=\"a\"", "3")
                && m.lines().anyMatch(l -> l.startsWith("pgtide_custom_query_errors_total{")
                    && l.contains("query=\"e2e_broken\"") && !l.endsWith(" 0.0"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }));
    System.out.println("K8S-CUSTOM-QUERIES a ConfigMap edit reached every sidecar's /metrics after "
        + (System.currentTimeMillis() - edited) + " ms");
    // the failing query is a Warning on the PostgresCluster, naming the query and the member
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).until(() -> k8s.client().v1().events()
        .inNamespace(NS).list().getItems().stream().anyMatch(e -> "CustomQueryFailed".equals(e.getReason())
            && "Warning".equals(e.getType()) && NAME.equals(e.getInvolvedObject().getName())
            && e.getMessage().contains("e2e_broken")));
    assertThat(k8s.podsAndRestarts(NS, "cluster-name", NAME)).as("no container restarted for the edit")
        .isEqualTo(restarts);
  }

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Unlabelled-name → value of the gauge lines of a Prometheus text exposition (the first series of a name). */
  static Map<String, Double> gauges(String text) {
    Map<String, Double> out = new HashMap<>();
    for (String line : text.split("\n")) {
      if (!line.startsWith("#") && line.contains(" ")) {
        String name = line.substring(0, line.contains("{") ? line.indexOf('{') : line.indexOf(' '));
        out.putIfAbsent(name, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
      }
    }
    return out;
  }

  @Test
  @Order(2)
  void theApiServerRefusesARoleNameLongerThanPostgresqlAllows() {
    // 40 characters but 80 bytes: within the schema's maxLength, beyond PostgreSQL's 63-byte names (a CEL rule)
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: long-names, namespace: %s}
        spec:
          replicas: 1
          storage: {size: 1Gi}
          users:
            - {name: %s}
        """.formatted(NS, "é".repeat(40))))).hasMessageContaining("at most 63 bytes");
  }

  @Test
  @Order(2)
  void declaredUsersExistAndDriftIsRepaired() {
    ServiceSql primary = ServiceSql.of(k8s, NS, NAME, "postgres", superuserPassword());
    await().atMost(Duration.ofSeconds(90)).until(() -> "t|t".equals(primary.query(
        "SELECT rolcanlogin, rolcreatedb FROM pg_roles WHERE rolname = 'app_owner'")));
    // the generated password works through the Service
    String pw = password("app-owner." + NAME + ".credentials.postgresql.pgtide.io");
    assertThat(ServiceSql.of(k8s, NS, NAME, "app_owner", pw).query("SELECT current_user")).isEqualTo("app_owner");
    primary.exec("ALTER ROLE app_owner NOCREATEDB");
    await().atMost(Duration.ofSeconds(90)).until(() -> "t|t".equals(primary.query(
        "SELECT rolcanlogin, rolcreatedb FROM pg_roles WHERE rolname = 'app_owner'")));
  }

  @Test
  @Order(3)
  void kubectlScaleGoesThroughTheScaleSubresource() {
    k8s.kubectl("-n", NS, "scale", "postgrescluster/" + NAME, "--replicas=3");
    await().atMost(Duration.ofSeconds(300)).until(() -> pods().size() == 3 && cluster().getStatus().members.size() == 3
        && cluster().getStatus().members.stream().allMatch(m -> m.ready)
        && "True".equals(condition("Ready")));
    assertThat(k8s.client().apps().statefulSets().inNamespace(NS).withName(NAME).get().getSpec().getReplicas())
        .isEqualTo(3);
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }

  @Test
  @Order(4)
  void driftInAnOwnedObjectIsRepairedOnItsEvent() {
    k8s.kubectl("-n", NS, "patch", "service", NAME + "-repl", "--type=merge", "-p",
        "{\"spec\":{\"selector\":{\"spilo-role\":\"nobody\"}}}");
    long t0 = System.nanoTime();
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> "replica".equals(
        k8s.client().services().inNamespace(NS).withName(NAME + "-repl").get().getSpec().getSelector()
            .get("spilo-role")));
    System.out.println("DRIFT-REPAIR-MS " + (System.nanoTime() - t0) / 1_000_000);
  }

  @Test
  @Order(5)
  void evictionsTakeOneMemberAtATimeSoADrainNeitherHangsNorTakesTheClusterDown() {
    var pdb = k8s.client().policy().v1().podDisruptionBudget().inNamespace(NS).withName(NAME + "-pdb");
    await().atMost(Duration.ofSeconds(120)).until(() -> pdb.get().getStatus() != null
        && pdb.get().getStatus().getDisruptionsAllowed() == 1);
    String primary = cluster().getStatus().primary;
    String replica = pods().stream().map(p -> p.getMetadata().getName()).filter(n -> !n.equals(primary)).findFirst()
        .orElseThrow();
    // what kubectl drain does, pod by pod: the primary may go (Patroni hands over on its graceful stop) ...
    assertThat(k8s.client().pods().inNamespace(NS).withName(primary).evict()).as("evicting the primary").isTrue();
    // ... but not a second member while the first is away: the API server answers 429 (asked once: fabric8 retries
    // a 429 by default, which would wait until the first member is back and then succeed)
    String before = pdbState(pdb.get()) + " " + podStates();
    try (var once = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
        new io.fabric8.kubernetes.client.ConfigBuilder(k8s.client().getConfiguration()).withRequestRetryBackoffLimit(0)
            .build()).build()) {
      assertThat(once.pods().inNamespace(NS).withName(replica).evict())
          .as("a second eviction (before it: %s; after: %s %s)", before, pdbState(pdb.get()), podStates()).isFalse();
    }
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).until(() -> {
      PostgresClusterStatus s = cluster().getStatus();
      return s.primary != null && !s.primary.equals(primary) && s.members.size() == 3
          && s.members.stream().allMatch(m -> m.ready) && "True".equals(condition("Ready"));
    });
    // the evicted member is back (as a replica), so the next eviction of a drain is admitted again
    await().atMost(Duration.ofSeconds(120)).until(() -> pdb.get().getStatus().getDisruptionsAllowed() == 1);
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }

  @Test
  @Order(5)
  void theLeaderPushesTheClustersSeriesToTheDeclaredPushgatewayAndDeletesTheGroupWhenItIsRemoved() throws Exception {
    try (io.pgtide.testkit.PushgatewayProcess gateway = io.pgtide.testkit.PushgatewayProcess.start(
        io.pgtide.testkit.TestDirs.create("k8s-pushgateway"), MinioServer.NODE_IP)) {
      k8s.kubectl("-n", NS, "patch", "postgrescluster", NAME, "--type=merge", "-p",
          "{\"spec\":{\"monitoring\":{\"pushgateway\":\"" + gateway.url() + "\",\"pushIntervalSeconds\":2}}}");
      // one group per cluster, keyed job/namespace/cluster, with what the operator knows of it
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
        String groups = gateway.metricsApi();
        return groups.contains("\"namespace\":\"" + NS + "\"") && groups.contains("\"cluster\":\"" + NAME + "\"")
            && groups.contains("pgtide_cluster_primary_present");
      });
      assertThat(gateway.metricsApi()).doesNotContain("NaN");
      k8s.kubectl("-n", NS, "patch", "postgrescluster", NAME, "--type=json", "-p",
          "[{\"op\":\"remove\",\"path\":\"/spec/monitoring\"}]");
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
          .until(() -> !gateway.metricsApi().contains("\"cluster\":\"" + NAME + "\""));
    }
  }

  static String pdbState(io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget pdb) {
    var st = pdb.getStatus();
    return "pdb{allowed=" + st.getDisruptionsAllowed() + ", healthy=" + st.getCurrentHealthy() + "/"
        + st.getDesiredHealthy() + ", expected=" + st.getExpectedPods() + ", disrupted=" + st.getDisruptedPods() + "}";
  }

  static String podStates() {
    return pods().stream().map(p -> p.getMetadata().getName() + "(" + p.getStatus().getPhase() + ", ready="
        + p.getStatus().getConditions().stream().filter(c -> "Ready".equals(c.getType())).map(c -> c.getStatus())
        .findFirst().orElse("?") + (p.getMetadata().getDeletionTimestamp() != null ? ", terminating" : "") + ")")
        .toList().toString();
  }

  @Test
  @Order(6)
  void deletingTheClusterRemovesWhatItOwnedAndKeepsTheVolumes() {
    k8s.kubectl("-n", NS, "delete", "postgrescluster", NAME, "--wait=true", "--timeout=180s");
    await().atMost(Duration.ofSeconds(180)).until(() -> pods().isEmpty()
        && k8s.client().apps().statefulSets().inNamespace(NS).withName(NAME).get() == null
        && k8s.client().services().inNamespace(NS).withLabel("cluster-name", NAME).list().getItems().isEmpty());
    // pvcRetention defaults to Retain
    assertThat(k8s.client().persistentVolumeClaims().inNamespace(NS).withLabels(Map.of("cluster-name", NAME)).list()
        .getItems()).hasSize(3);
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }

  @Test
  @Order(7)
  void withPvcRetentionDeleteTheVolumesGoWithTheCluster() {
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: brief, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 1
          storage: {size: 1Gi, pvcRetention: Delete}
        """.formatted(NS));
    var claims = k8s.client().persistentVolumeClaims().inNamespace(NS).withLabels(Map.of("cluster-name", "brief"));
    await().atMost(Duration.ofSeconds(300)).until(() -> claims.list().getItems().size() == 1
        && "Bound".equals(claims.list().getItems().get(0).getStatus().getPhase()));
    k8s.kubectl("-n", NS, "delete", "postgrescluster", "brief", "--wait=true", "--timeout=180s");
    await().atMost(Duration.ofSeconds(180)).until(() -> claims.list().getItems().isEmpty());
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }
}
