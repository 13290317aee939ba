package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.testkit.SteadyWriter;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backups on a real Kubernetes: a cluster declaring spec.backup gets a backup agent pod (Barman on its own volume,
 * streaming WAL through a Patroni permanent slot from the primary's Service); a base backup and a verification on
 * request through the operator's control API land in status.backup and as Events; a failover under a writer leaves
 * no gap: a new cluster restored (bootstrap.recovery) to the second before a DROP TABLE has every row acknowledged
 * before it and none after; targets that cannot be reached are refused with nothing created.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BackupK8sE2E {
  static final String NS = "e2e-backup";
  static final String NAME = "ledger";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  /** Where a lost namespace's cluster is restored from its S3 copy. */
  static final String NS_DR = "e2e-backup-dr";
  /** A standby of the S3 copy alone, in NS_DR. */
  static final String FOLLOWER = "ledger-follower";
  /** Whether Order 9 created FOLLOWER. */
  static boolean followerCreated;
  /** The S3 endpoint the cluster's repository is copied to from Order 9 on. */
  static MinioServer s3;

  @BeforeAll
  static void createCluster() {
    k8s.freshNamespace(NS);
    k8s.serviceAccount(NS, "dba", "pgtide-operator-user");
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %2$s, namespace: %1$s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          failoverDelaySeconds: 5
          patroni: {ttl: 30, loopWait: 10, retryTimeout: 10, synchronousMode: true}
          backup: {schedule: "@daily", retention: {count: 3}, verifySchedule: never, storage: 2Gi}
        """.formatted(NS, NAME));
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).until(BackupK8sE2E::settled);
  }

  @AfterAll
  static void drop() {
    k8s.dropNamespace(NS_DR);
    k8s.dropNamespace(NS);
    if (s3 != null) {
      s3.close();
    }
  }

  static PostgresCluster cluster() {
    return k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME).get();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> backupStatus() {
    PostgresCluster cr = cluster();
    return cr == null || cr.getStatus() == null || !(cr.getStatus().backup instanceof Map<?, ?> m) ? Map.of()
        : (Map<String, Object>) m;
  }

  @SuppressWarnings("unchecked")
  static boolean streaming() {
    Object archiving = backupStatus().get("archiving");
    return archiving instanceof Map<?, ?> a && Boolean.TRUE.equals(((Map<String, Object>) a).get("streaming"));
  }

  /** Ready with both members, a synchronous standby, and the agent's WAL receiver streaming. */
  static boolean settled() {
    return k8s.settledInSync(NS, NAME, 2) && streaming();
  }

  static String superuserPassword() {
    return k8s.superuserPassword(NS, NAME);
  }

  static ServiceSql sql() {
    return ServiceSql.of(k8s, NS, NAME, "postgres", superuserPassword());
  }

  /** An action of the control API on the leader, as the dba (bound to pgtide-operator-user). */
  static HttpResponse<String> post(String action) throws Exception {
    Pod leader = k8s.operatorLeader();
    String token = k8s.kubectl("-n", NS, "create", "token", "dba", "--duration=10m").strip();
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + leader.getStatus().getPodIP()
            + ":8081/api/clusters/" + NS + "/" + NAME + action)).timeout(Duration.ofMinutes(10))
        .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A one-member cluster restored from {@code source}'s backups to {@code targetTime}. */
  static void restoreOf(String name, String source, String targetTime) {
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %2$s, namespace: %1$s}
        spec:
          postgresVersion: 17
          replicas: 1
          storage: {size: 1Gi}
          bootstrap: {recovery: {source: %3$s, targetTime: "%4$s"}}
        """.formatted(NS, name, source, targetTime));
  }

  static boolean event(String reason) {
    return k8s.kubectl("-n", NS, "get", "events", "--field-selector", "reason=" + reason,
        "-o", "jsonpath={.items[*].involvedObject.name}").contains(NAME);
  }

  @Test
  @Order(1)
  void theAgentRunsApartFromTheDatabasePodsAsAnUnprivilegedUser() {
    var deployment = k8s.client().apps().deployments().inNamespace(NS).withName(NAME + "-backup").get();
    assertThat(deployment.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getKind()).isEqualTo("PostgresCluster"));
    Pod agent = k8s.client().pods().inNamespace(NS).withLabel("app.kubernetes.io/name", "pgtide-backup").list()
        .getItems().get(0);
    assertThat(agent.getSpec().getContainers()).singleElement()
        .satisfies(c -> assertThat(c.getSecurityContext().getRunAsUser()).isEqualTo(101L));
    assertThat(agent.getSpec().getAutomountServiceAccountToken()).isFalse();
    // nothing of it in the Spilo pods: their containers are the ones they always were
    Pod member = k8s.client().pods().inNamespace(NS).withName(NAME + "-0").get();
    assertThat(member.getSpec().getContainers()).extracting(c -> c.getName())
        .containsExactly("postgres", "pgtide-sidecar");
    // Barman's slot is one Patroni keeps (a permanent slot), on the primary
    assertThat(sql().query("SELECT slot_type || ' ' || active::text FROM pg_replication_slots WHERE slot_name = "
        + "'pgtide_barman'")).isEqualTo("physical true");
  }

  @Test
  @Order(2)
  void aBaseBackupOnRequestLandsInStatusAndAsAnEvent() throws Exception {
    sql().exec("CREATE TABLE IF NOT EXISTS ledger_rows(id serial PRIMARY KEY, at timestamptz NOT NULL "
        + "DEFAULT clock_timestamp()); INSERT INTO ledger_rows SELECT FROM generate_series(1, 500)");
    HttpResponse<String> r = post("/backups");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonObject taken = new JsonObject(r.body());
    assertThat(taken.getString("id")).isNotBlank();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      Map<String, Object> b = backupStatus();
      assertThat(b.get("lastBackup")).asString().contains(taken.getString("id"));
      assertThat(b.get("firstRecoverablePoint")).isNotNull();
      assertThat(((Number) ((Map<?, ?>) b.get("lastBackup")).get("sizeBytes")).longValue()).isPositive();
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> event("BackupSucceeded"));
  }

  @Test
  @Order(3)
  void aVerificationRestoresTheNewestBackupInTheAgentsPodAndReports() throws Exception {
    HttpResponse<String> r = post("/backups/verify");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonObject result = new JsonObject(r.body());
    assertThat(result.getBoolean("ok")).as(result.encode()).isTrue();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() ->
        String.valueOf(backupStatus().get("lastVerification")).contains("ok=true"));
    await().atMost(Duration.ofSeconds(30)).until(() -> event("BackupVerified"));
  }

  static Instant target;
  static Map<Long, long[]> written;

  @Test
  @Order(4)
  void afterAFailoverUnderAWriterTheArchiveContinuesFromTheNewPrimary() throws Exception {
    String primary = cluster().getStatus().primary;
    String ip = k8s.client().services().inNamespace(NS).withName(NAME).get().getSpec().getClusterIP();
    Instant failedOver;
    try (SteadyWriter writer = SteadyWriter.overSsl(ip, 5432, "postgres", superuserPassword())) {
      await().atMost(Duration.ofSeconds(30)).until(() -> writer.acknowledgedCount() > 100);
      k8s.kubectl("-n", NS, "delete", "pod", primary, "--wait=false");
      await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).until(() -> {
        String now = cluster().getStatus().primary;
        return now != null && !now.equals(primary);
      });
      failedOver = Instant.now();
      long after = failedOver.toEpochMilli();
      await().atMost(Duration.ofSeconds(120)).until(() -> writer.acknowledgedSince(after) > 100);
      target = Instant.now();
      await().atMost(Duration.ofSeconds(60)).until(() -> writer.acknowledgedSince(target.toEpochMilli() + 500) > 20);
      writer.stop();
      assertThat(writer.lost()).as("acknowledged writes lost in the failover").isZero();
      written = writer.timeline();
    }
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).until(BackupK8sE2E::settled);
    // the new primary holds the slot and streams to the agent; WAL written now reaches the repository
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> sql().query(
        "SELECT active FROM pg_replication_slots WHERE slot_name = 'pgtide_barman'").equals("t"));
    sql().exec("SELECT pg_switch_wal()");
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).until(() -> {
      Object at = backupStatus().get("lastArchivedWalAt");
      return at != null && Instant.parse(at.toString()).isAfter(failedOver);
    });
    sql().exec("DROP TABLE writer_log");
  }

  @Test
  @Order(6)
  void aNewClusterRestoredToTheSecondBeforeTheDropHasEveryAcknowledgedRowAndNothingAfter() {
    assertThat(target).as("the writes of the failover test").isNotNull();
    restoreOf(NAME + "-copy", NAME, target.toString());
    await().atMost(Duration.ofSeconds(420)).pollInterval(Duration.ofSeconds(2))
        .until(() -> "True".equals(k8s.condition(NS, NAME + "-copy", "Ready")));
    var s = k8s.client().secrets().inNamespace(NS).withName("postgres." + NAME + "-copy.credentials.postgresql.pgtide.io")
        .get();
    String password = new String(Base64.getDecoder().decode(s.getData().get("password")), StandardCharsets.UTF_8);
    assertThat(password).as("the copy keeps the source's roles and passwords").isEqualTo(superuserPassword());
    ServiceSql copy = ServiceSql.of(k8s, NS, NAME + "-copy", "postgres", password);
    Set<Long> rows = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> copy
        .query("SELECT id FROM writer_log").lines().filter(l -> !l.isBlank()).map(Long::parseLong)
        .collect(Collectors.toCollection(TreeSet::new)), r -> !r.isEmpty());
    long t = target.toEpochMilli();
    Set<Long> ackedBefore = written.entrySet().stream().filter(e -> e.getValue()[1] < t).map(Map.Entry::getKey)
        .collect(Collectors.toCollection(TreeSet::new));
    Set<Long> sentAfter = written.entrySet().stream().filter(e -> e.getValue()[0] > t).map(Map.Entry::getKey)
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(ackedBefore).as("rows acknowledged before the target").hasSizeGreaterThan(200);
    assertThat(rows).as("every row acknowledged before the target is restored").containsAll(ackedBefore);
    assertThat(rows).as("no row written after the target is restored").doesNotContainAnyElementsOf(sentAfter);
    System.out.printf("K8S-PITR restored %d rows (acknowledged before the target %d, written after it %d)%n",
        rows.size(), ackedBefore.size(), sentAfter.size());
    // Patroni adopted the restored directory (no bootstrap.dcs read): the operator's declared configuration still
    // makes a former primary rejoin with pg_rewind after this cluster's first failover
    String config = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> k8s.kubectl("-n", NS,
        "exec", NAME + "-copy-0", "-c", "postgres", "--", "curl", "-s", "http://localhost:8008/config"),
        c -> new io.vertx.core.json.JsonObject(c).getJsonObject("postgresql", new io.vertx.core.json.JsonObject())
            .getBoolean("use_pg_rewind", false));
    assertThat(new io.vertx.core.json.JsonObject(config).getJsonObject("postgresql").getBoolean("use_slots"))
        .as("Patroni's configuration of the restored cluster: %s", config).isTrue();
    // a cluster of its own: writable; the source kept its table dropped
    copy.exec("INSERT INTO writer_log(id) VALUES (-1)");
    assertThat(sql().query("SELECT to_regclass('writer_log') IS NULL")).isEqualTo("t");
  }

  @Test
  @Order(8)
  void aBackupTakenFromTheNewPrimaryVerifies() throws Exception {
    HttpResponse<String> backup = post("/backups");
    assertThat(backup.statusCode()).as(backup.body()).isEqualTo(200);
    HttpResponse<String> verify = post("/backups/verify");
    assertThat(verify.statusCode()).as(verify.body()).isEqualTo(200);
    assertThat(new JsonObject(verify.body()).getBoolean("ok")).as(verify.body()).isTrue();
  }

  @Test
  @Order(7)
  void aTargetOutsideTheRecoverableRangeOrAMissingSourceIsRefusedAndNothingIsCreated() {
    for (String[] bad : List.of(new String[] {"future", NAME, Instant.now().plusSeconds(3600).toString(), "in the future"},
        new String[] {"nosource", "no-such-cluster", target.toString(), "no such PostgresCluster"})) {
      String name = NAME + "-" + bad[0];
      restoreOf(name, bad[1], bad[2]);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
        PostgresCluster cr = k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(name).get();
        // a time in the future is wrong whatever the source (the spec's own check); a missing source is the
        // restore step's finding
        return cr != null && cr.getStatus() != null && cr.getStatus().conditions.stream().anyMatch(c ->
            "Degraded".equals(c.type) && "True".equals(c.status) && c.message.contains(bad[3]));
      });
      assertThat(k8s.client().apps().statefulSets().inNamespace(NS).withName(name).get()).isNull();
      assertThat(k8s.client().services().inNamespace(NS).withName(name).get()).as("checked before anything").isNull();
      assertThat(k8s.client().batch().v1().jobs().inNamespace(NS).withName(name + "-restore").get()).isNull();
      assertThat(k8s.client().persistentVolumeClaims().inNamespace(NS).withName("pgdata-" + name + "-0").get())
          .isNull();
      k8s.kubectl("-n", NS, "delete", "postgrescluster", name, "--wait=true", "--timeout=60s");
    }
  }

  @Test
  @Order(5)
  void theAgentExportsTheBackupSeriesTheAlertsUse() throws Exception {
    Pod agent = k8s.client().pods().inNamespace(NS).withLabel("app.kubernetes.io/name", "pgtide-backup").list()
        .getItems().get(0);
    String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + agent.getStatus().getPodIP()
        + ":8080/metrics")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
    String tags = "{cluster=\"" + NAME + "\",namespace=\"" + NS + "\"}";
    assertThat(metrics).contains("pgtide_backup_last_success_timestamp_seconds" + tags,
        "pgtide_backup_schedule_interval_seconds" + tags + " 86400.0",
        "pgtide_backup_enabled_timestamp_seconds" + tags, "pgtide_backup_archiving_lag_bytes" + tags,
        "pgtide_backup_last_verification_success" + tags + " 1.0");
    // its API answers only with the operator's token
    int status = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + agent.getStatus().getPodIP()
        + ":8080/api/status")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode();
    assertThat(status).isEqualTo(401);
  }

  @Test
  @Order(9)
  @SuppressWarnings("unchecked")
  void declaringS3CopiesTheRepositoryThereAndKeepsItInStep() {
    s3 = MinioServer.start(k8s);
    {
      s3.rclone("mkdir", "minio:pgtide-backups");
      k8s.apply("""
          apiVersion: v1
          kind: Secret
          metadata: {name: s3-credentials, namespace: %s}
          stringData: {accessKeyId: "%s", secretAccessKey: "%s"}
          """.formatted(NS, s3.user(), s3.password()));
      k8s.kubectl("-n", NS, "patch", "postgrescluster", NAME, "--type=merge", "-p", new JsonObject()
          .put("spec", new JsonObject().put("backup", new JsonObject().put("s3", new JsonObject()
              .put("endpoint", s3.endpoint()).put("bucket", "pgtide-backups")
              .put("credentialsSecret", "s3-credentials")))).encode());
      // the agent restarts with the copy declared and syncs at once
      await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).until(() ->
          backupStatus().get("s3") instanceof Map<?, ?> m && m.get("lastCopyAt") != null);
      String newest = String.valueOf(((Map<String, Object>) backupStatus().get("lastBackup")).get("id"));
      String listing = s3.rclone("lsf", "-R", "minio:pgtide-backups/" + NS + "/" + NAME);
      // Barman 3.12+ (Debian 13's 3.13 in the backup image) keeps a backup's metadata in meta/ID-backup.info;
      // older ones in base/ID/backup.info
      assertThat(listing).as("the newest base backup's metadata")
          .containsPattern("(meta/" + newest + "-backup\\.info|base/" + newest + "/backup\\.info)");
      assertThat(listing).as("the newest base backup's data").contains("base/" + newest + "/data/PG_VERSION");
      assertThat(listing).as("archived WAL").containsPattern("wals/[0-9A-F]{16}/[0-9A-F]{24}");
      assertThat(listing).as("nothing but the server's own directory: no pgpass, no configuration")
          .doesNotContain("pgpass").doesNotContain("barman.conf");
      // a standby that follows the S3 copy alone, from the namespace Order 11's S3 restore goes to (no prefix: the
      // default names the source's namespace and name, as the agent's does); checked in Order 11, after it followed
      // what Order 10 writes
      k8s.freshNamespace(NS_DR);
      k8s.apply("""
          apiVersion: v1
          kind: Secret
          metadata: {name: s3-credentials, namespace: %s}
          stringData: {accessKeyId: "%s", secretAccessKey: "%s"}
          ---
          apiVersion: pgtide.io/v1
          kind: PostgresCluster
          metadata: {name: %s, namespace: %s}
          spec:
            postgresVersion: 17
            replicas: 1
            storage: {size: 1Gi}
            standby:
              source: %s
              sourceNamespace: %s
              s3: {endpoint: "%s", bucket: pgtide-backups, credentialsSecret: s3-credentials}
          """.formatted(NS_DR, s3.user(), s3.password(), FOLLOWER, NS_DR, NAME, NS, s3.endpoint()));
      followerCreated = true;
    }
  }

  @Test
  @Order(10)
  void theKubectlPluginListsTakesAndRestoresBackupsWithTheUsersOwnRights() throws Exception {
    java.nio.file.Path dba = k8s.kubeconfigFor(NS, "dba");
    try {
      RealKubernetes.Plugin list = k8s.kubectlPgtide(dba, "backup", "list", "-n", NS, NAME);
      assertThat(list.exit()).as(list.output()).isZero();
      assertThat(new JsonObject(list.stdout()).getJsonObject("lastBackup").getString("id")).isNotBlank();
      RealKubernetes.Plugin now = k8s.kubectlPgtide(dba, "backup", "now", "-n", NS, NAME);
      assertThat(now.exit()).as(now.output()).isZero();
      assertThat(now.stdout()).contains("backup " + NS + "/" + NAME + ": Succeeded");

      RealKubernetes.Plugin future = k8s.kubectlPgtide(dba, "restore", "-n", NS, NAME, "--to",
          Instant.now().plusSeconds(3600).toString(), "--new-cluster", NAME + "-never");
      assertThat(future.exit()).as(future.output()).isEqualTo(2);
      assertThat(future.stderr()).contains("is in the future");
      RealKubernetes.Plugin noSource = k8s.kubectlPgtide(dba, "restore", "-n", NS, "no-such-cluster", "--to",
          "latest", "--new-cluster", NAME + "-never");
      assertThat(noSource.exit()).as(noSource.output()).isEqualTo(2);
      assertThat(noSource.stderr()).contains("no PostgresCluster " + NS + "/no-such-cluster");
      assertThat(k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME + "-never").get())
          .as("nothing created").isNull();

      // written just now, in a WAL segment not closed yet: the operator has the source close it before the restore
      sql().exec("INSERT INTO ledger_rows SELECT FROM generate_series(1, 10)");
      String rows = sql().query("SELECT count(*) FROM ledger_rows");
      RealKubernetes.Plugin latest = k8s.kubectlPgtide(dba, "restore", "-n", NS, NAME, "--to", "latest",
          "--new-cluster", NAME + "-latest");
      assertThat(latest.exit()).as(latest.output()).isZero();
      await().atMost(Duration.ofSeconds(420)).pollInterval(Duration.ofSeconds(2))
          .until(() -> "True".equals(k8s.condition(NS, NAME + "-latest", "Ready")));
      ServiceSql copy = ServiceSql.of(k8s, NS, NAME + "-latest", "postgres", superuserPassword());
      assertThat(await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
          .until(() -> copy.query("SELECT count(*) FROM ledger_rows"), r -> r != null)).isEqualTo(rows);
    } finally {
      java.nio.file.Files.deleteIfExists(dba);
    }
  }

  /**
   * Last: the cluster is deleted, its backup volume stays, and {@code kubectl pgtide restore} brings it back from
   * that volume alone (the spec, the Secrets and the agent went with it); at the same time a cluster in another
   * namespace is restored from the S3 copy alone, as after the loss of the whole namespace. Both get new passwords,
   * and the clusters restored from it before keep running without it.
   */
  @Test
  @Order(11)
  void aDeletedClusterComesBackFromItsBackupVolumeAndInAnotherNamespaceFromItsS3Copy() throws Exception {
    assertThat(s3).as("the copy declared in Order 9").isNotNull();
    String oldPassword = superuserPassword();
    ServiceSql old = sql();
    assertThat(followerCreated).as("the standby of the copy created in Order 9").isTrue();
    String rows = old.query("SELECT count(*) FROM ledger_rows");
    // what the receiver completed is what a repository without its agent holds: close the segment and wait for it
    String end = old.query("SELECT pg_switch_wal()");
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).until(() -> "t".equals(old.query(
        "SELECT coalesce(bool_or(restart_lsn >= '" + end + "'::pg_lsn), false) FROM pg_replication_slots "
            + "WHERE slot_name = '" + io.pgtide.common.backup.BackupPolicy.SLOT + "'")));
    Instant received = Instant.now();
    // a copy that began after that holds the segment (the agent syncs every minute)
    await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(2)).until(() ->
        backupStatus().get("s3") instanceof Map<?, ?> m && m.get("lastCopyAt") != null
            && Instant.parse(String.valueOf(m.get("lastCopyAt"))).minusMillis((long) (1000
                * Double.parseDouble(String.valueOf(m.get("lastCopySeconds"))))).isAfter(received));
    // where a standby of the copy fetches it: filed by Barman (within a minute) and copied (within another)
    String segment = old.query("SELECT pg_walfile_name('" + end + "')");
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(5)).until(() ->
        s3.rclone("lsf", "-R", "minio:pgtide-backups/" + NS + "/" + NAME + "/wals").contains(segment));
    await().atMost(Duration.ofSeconds(480)).pollInterval(Duration.ofSeconds(2))
        .until(() -> "True".equals(k8s.condition(NS_DR, FOLLOWER, "Ready")));
    // the source's passwords: the operator copied its Secrets (it reaches them here)
    ServiceSql follower = ServiceSql.of(k8s, NS_DR, FOLLOWER, "postgres", oldPassword);
    PostgresCluster made = k8s.client().resources(PostgresCluster.class).inNamespace(NS_DR).withName(FOLLOWER).get();
    String readySince = made.getStatus().conditions.stream().filter(c -> "Ready".equals(c.type)).findFirst()
        .orElseThrow().lastTransitionTime;
    System.out.printf("K8S-STANDBY-S3 Ready %d s after it was created (its Ready condition's transition)%n",
        java.time.Duration.between(Instant.parse(made.getMetadata().getCreationTimestamp()), Instant.parse(readySince))
            .toSeconds());
    assertThat(await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions()
        .until(() -> follower.query("SELECT count(*) FROM ledger_rows"), rows::equals))
        .as("the standby of the S3 copy has every row written before the segment closed").isEqualTo(rows);
    System.out.printf("K8S-STANDBY-S3 every row %.1f s after the source's receiver had the segment%n",
        java.time.Duration.between(received, Instant.now()).toMillis() / 1e3);
    assertThat(follower.query("SELECT pg_is_in_recovery()")).as("it follows, read-only").isEqualTo("t");
    k8s.kubectl("-n", NS, "delete", "postgrescluster", NAME, "--wait=true", "--timeout=180s");
    assertThat(k8s.client().persistentVolumeClaims().inNamespace(NS).withName(NAME + "-backup").get())
        .as("the backup volume outlives its cluster").isNotNull();

    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 1
          storage: {size: 1Gi}
          bootstrap:
            recovery:
              source: %s
              s3: {endpoint: "%s", bucket: pgtide-backups, prefix: %s/%s, credentialsSecret: s3-credentials}
        """.formatted(NAME, NS_DR, NAME, s3.endpoint(), NS, NAME));
    java.nio.file.Path dba = k8s.kubeconfigFor(NS, "dba");
    try {
      RealKubernetes.Plugin again = k8s.kubectlPgtide(dba, "restore", "-n", NS, NAME, "--to", "latest",
          "--new-cluster", NAME + "-again", "--storage", "1Gi");
      assertThat(again.exit()).as(again.output()).isZero();
      assertThat(again.stdout()).contains("is gone: restoring from its backup volume " + NAME + "-backup");
    } finally {
      java.nio.file.Files.deleteIfExists(dba);
    }
    long started = System.nanoTime();
    for (String[] restored : List.of(new String[] {NS, NAME + "-again", "its backup volume"},
        new String[] {NS_DR, NAME, "its S3 copy, in another namespace"})) {
      await().atMost(Duration.ofSeconds(480)).pollInterval(Duration.ofSeconds(2))
          .until(() -> "True".equals(k8s.condition(restored[0], restored[1], "Ready")));
      System.out.printf("K8S-RESTORE-DELETED from %s: Ready %.1f s after it was created%n", restored[2],
          (System.nanoTime() - started) / 1e9);
      String newPassword = k8s.superuserPassword(restored[0], restored[1]);
      assertThat(newPassword).as("new passwords, not the deleted cluster's").isNotEqualTo(oldPassword);
      ServiceSql copy = ServiceSql.of(k8s, restored[0], restored[1], "postgres", newPassword);
      assertThat(await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
          .until(() -> copy.query("SELECT count(*) FROM ledger_rows"), r -> r != null))
          .as("every row written before the deletion, from " + restored[2]).isEqualTo(rows);
      ServiceSql stale = ServiceSql.of(k8s, restored[0], restored[1], "postgres", oldPassword);
      assertThatThrownBy(() -> stale.query("SELECT 1")).as("the deleted cluster's password no longer logs in")
          .hasMessageContaining("password authentication failed");
    }
    assertThat(k8s.condition(NS, NAME + "-latest", "Degraded"))
        .as("a cluster restored from the deleted one earlier does not need it").isNotEqualTo("True");

    // the source is gone: the standby of its copy is promoted the GitOps way, by removing spec.standby
    long asked = System.nanoTime();
    k8s.kubectl("-n", NS_DR, "patch", "postgrescluster", FOLLOWER, "--type=json", "-p",
        "[{\"op\":\"remove\",\"path\":\"/spec/standby\"}]");
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions().until(() -> {
      follower.exec("CREATE TABLE IF NOT EXISTS after_promotion(x int); INSERT INTO after_promotion VALUES (1)");
      return true;
    });
    System.out.printf("K8S-STANDBY-S3 writable %.1f s after spec.standby was removed%n",
        (System.nanoTime() - asked) / 1e9);
    assertThat(follower.query("SELECT count(*) FROM ledger_rows")).as("every row, promoted").isEqualTo(rows);
    assertThat(k8s.client().resources(PostgresCluster.class).inNamespace(NS_DR).withName(FOLLOWER).get()
        .getStatus().standby.promoted).isTrue();
  }
}
