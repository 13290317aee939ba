package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.operator.users.UserSecrets;
import io.pgtide.testkit.SteadyWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
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
 * {@code spec.pooler} on the real tier (issue #32 part 2): PgBouncer from the Spilo image runs non-root and Ready;
 * the operator creates the {@code pgtide_pooler} role and its lookup function, so a declared user logs in through
 * {@code <c>-pooler} with {@code sslmode=verify-full} against {@code <c>-ca}, and a wrong name is refused; the replicas'
 * pooler lands on a replica; then a writer through the pooler across a primary failover loses no acknowledged write
 * in synchronous mode and the pooler pods are not restarted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoolerK8sE2E {
  static final String NS = "e2e-pooler";
  static final String NAME = "pooled";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static Path caFile;

  @BeforeAll
  static void setUp() throws IOException {
    k8s.freshNamespace(NS);
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          patroni: {synchronousMode: true}
          users:
            - {name: app}
          pooler:
            instances: 2
            replicas: true
            resources: {requests: {cpu: 20m, memory: 32Mi}, limits: {cpu: 300m, memory: 128Mi}}
        """.formatted(NAME, NS));
    await().atMost(Duration.ofSeconds(480)).pollInterval(Duration.ofSeconds(2))
        .until(() -> k8s.settledInSync(NS, NAME, 2));
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).until(() -> readyPoolers("") == 2
        && readyPoolers("-repl") == 2);
    caFile = Files.createTempFile("pooler-ca-", ".crt");
    Files.writeString(caFile, k8s.client().configMaps().inNamespace(NS).withName(NAME + "-ca").get().getData()
        .get("ca.crt"));
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(2))
        .until(() -> "True".equals(k8s.condition(NS, NAME, "UsersSynced")));
    // SteadyWriter writes into the postgres database's public schema
    ServiceSql.of(k8s, NS, NAME, "postgres", k8s.superuserPassword(NS, NAME))
        .exec("GRANT CREATE ON SCHEMA public TO app");
  }

  @AfterAll
  static void tearDown() throws IOException {
    k8s.dropNamespace(NS);
    if (caFile != null) {
      Files.deleteIfExists(caFile);
    }
  }

  static int readyPoolers(String suffix) {
    var d = k8s.client().apps().deployments().inNamespace(NS).withName(NAME + "-pooler" + suffix).get();
    return d == null || d.getStatus() == null || d.getStatus().getReadyReplicas() == null ? 0
        : d.getStatus().getReadyReplicas();
  }

  static String appPassword() {
    var s = k8s.client().secrets().inNamespace(NS).withName(UserSecrets.secretName("app", NAME)).get();
    return new String(Base64.getDecoder().decode(s.getData().get("password")), StandardCharsets.UTF_8);
  }

  static String serviceIp(String service) {
    return k8s.client().services().inNamespace(NS).withName(service).get().getSpec().getClusterIP();
  }

  /** psql from the node to a Service's IP, verifying the certificate for {@code name}: output, then "rc=N". */
  static String psql(String service, String name, String sql) {
    String conninfo = "hostaddr=" + serviceIp(service) + " host=" + name + " port=5432 dbname=postgres user=app"
        + " sslmode=verify-full sslrootcert=" + caFile + " connect_timeout=5";
    try {
      ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
          "-c", sql).redirectErrorStream(true);
      pb.environment().put("PGPASSWORD", appPassword());
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      return out + "\nrc=" + p.waitFor();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  @Order(1)
  void aDeclaredUserLogsInThroughThePoolerWithVerifiedTls() {
    String pooler = NAME + "-pooler." + NS + ".svc";
    // the operator creates the lookup role and function on the primary, then PgBouncer can authenticate
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(3))
        .until(() -> psql(NAME + "-pooler", pooler, "SELECT 1").endsWith("rc=0"));
    assertThat(psql(NAME + "-pooler", pooler, "SELECT current_user || ' ' || pg_is_in_recovery()"))
        .isEqualTo("app false\nrc=0");
    assertThat(psql(NAME + "-pooler", "somewhere-else." + NS + ".svc", "SELECT 1")).as("a name it does not carry")
        .contains("does not match host name").doesNotEndWith("rc=0");
    String replicas = NAME + "-pooler-repl." + NS + ".svc";
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(3))
        .until(() -> psql(NAME + "-pooler-repl", replicas, "SELECT pg_is_in_recovery()").equals("t\nrc=0"));
  }

  @Test
  @Order(2)
  void aWriterThroughThePoolerLosesNothingAcrossAFailover() throws Exception {
    Map<String, List<Integer>> poolers = k8s.podsAndRestarts(NS, "app.kubernetes.io/name", "pgtide-pooler");
    String primary = k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME)
        .withLabel("spilo-role", "master").list().getItems().get(0).getMetadata().getName();
    try (SteadyWriter w = SteadyWriter.overSsl(serviceIp(NAME + "-pooler"), 5432, "app", appPassword())) {
      await().atMost(Duration.ofSeconds(60)).until(() -> w.acknowledgedCount() > 50);
      k8s.kubectl("-n", NS, "delete", "pod", primary, "--wait=false");
      int before = w.acknowledgedCount();
      // writable again through the same pooler, on another member
      await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
          .until(() -> w.acknowledgedCount() > before + 100 && !primary.equals(currentPrimary()));
      w.stop();
      assertThat(w.lost()).as("acknowledged writes lost through the pooler").isZero();
    }
    assertThat(k8s.podsAndRestarts(NS, "app.kubernetes.io/name", "pgtide-pooler")).as("the poolers were not restarted")
        .isEqualTo(poolers);
  }

  /** The leading operator polls each pooler pod's SHOW POOLS / SHOW STATS into Prometheus series (every 15 s). */
  @Test
  @Order(3)
  void theLeadingOperatorExportsThePoolersStatistics() {
    var http = java.net.http.HttpClient.newHttpClient();
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
      var leader = k8s.operatorLeader();
      String metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://"
              + leader.getStatus().getPodIP() + ":8080/metrics")).timeout(Duration.ofSeconds(20)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      return metrics.lines().anyMatch(l -> l.startsWith("pgtide_pooler_transactions_total{")
          && l.contains("cluster=\"" + NAME + "\"") && l.contains("namespace=\"" + NS + "\"")
          && !l.endsWith(" 0.0"));
    });
  }

  static String currentPrimary() {
    var pods = k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME).withLabel("spilo-role", "master")
        .list().getItems();
    return pods.size() == 1 ? pods.get(0).getMetadata().getName() : null;
  }
}
