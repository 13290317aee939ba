package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.users.UserSecrets;
import io.pgtide.testkit.SteadyWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A major-version upgrade on real pods with Spilo's own inplace_upgrade.py, under a writer that never stops: a
 * raise to a major the image lacks is Blocked and changes nothing; one pg_upgrade's check refuses (an aclitem column, which pg_upgrade 16+ refuses from 15), leaving the cluster on 15
 * with nothing lost; then one killed while pg_upgrade runs (the primary stopped, Patroni paused, rsyncd on its port),
 * which the operator recovers to 15 with its data; then 15 → 17 with the data, the users' passwords and the
 * extensions kept, the replica rebuilt by Spilo and both pods rolled onto PGVERSION 17. 0 acknowledged writes lost;
 * downtime measured.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MajorUpgradeK8sE2E {
  static final String NS = "e2e-upgrade";
  static final String NAME = "upg";
  static final int ROWS = 10_000;
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();
  static final List<String> REPORT = new ArrayList<>();

  @BeforeAll
  static void createCluster() {
    k8s.freshNamespace(NS);
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 15
          replicas: 2
          storage: {size: 1Gi}
          patroni: {ttl: 20, loopWait: 5, retryTimeout: 5}
          users:
            - {name: app}
        """.formatted(NAME, NS));
    await().atMost(Duration.ofSeconds(300)).until(() -> ready() && members() == 2);
    sql().exec("CREATE DATABASE shop");
    sql().database("shop").exec("CREATE EXTENSION hypopg; CREATE TABLE items(id int PRIMARY KEY, note text); "
        + "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, " + ROWS + ") g; "
        + "CREATE UNLOGGED TABLE scratch(x int)");
  }

  @AfterAll
  static void deleteCluster() {
    REPORT.forEach(System.out::println);
    k8s.dropNamespace(NS);
  }

  static PostgresCluster cluster() {
    return k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME).get();
  }

  static PostgresClusterStatus.Upgrade upgrade() {
    PostgresCluster cr = cluster();
    return cr == null || cr.getStatus() == null ? null : cr.getStatus().upgrade;
  }

  static boolean ready() {
    PostgresCluster cr = cluster();
    return cr != null && cr.getStatus() != null && cr.getStatus().conditions.stream()
        .anyMatch(c -> "Ready".equals(c.type) && "True".equals(c.status));
  }

  static long members() {
    return cluster().getStatus().members.stream().filter(m -> m.ready).count();
  }

  static ServiceSql sql() {
    return ServiceSql.of(k8s, NS, NAME, "postgres", k8s.superuserPassword(NS, NAME));
  }

  static ServiceSql replicaSql() {
    return ServiceSql.of(k8s, NS, NAME + "-repl", "postgres", k8s.superuserPassword(NS, NAME));
  }

  static String password(String secret) {
    Secret s = k8s.client().secrets().inNamespace(NS).withName(secret).get();
    return new String(Base64.getDecoder().decode(s.getData().get("password")), StandardCharsets.UTF_8);
  }

  static int serverMajor(ServiceSql s) {
    return Integer.parseInt(s.query("SHOW server_version_num")) / 10000;
  }

  static void postgresVersion(int major) {
    k8s.kubectl("-n", NS, "patch", "postgrescluster", NAME, "--type=merge",
        "-p", "{\"spec\":{\"postgresVersion\":" + major + "}}");
  }

  static SteadyWriter writer() {
    String ip = k8s.client().services().inNamespace(NS).withName(NAME).get().getSpec().getClusterIP();
    return SteadyWriter.overSsl(ip, 5432, "postgres", k8s.superuserPassword(NS, NAME));
  }

  /** The longest time between two acknowledged writes: what a client saw of the downtime. */
  static long longestGapMs(SteadyWriter w) {
    long longest = 0;
    long previous = -1;
    for (long[] sentAndAcked : w.timeline().values()) {
      if (previous >= 0) {
        longest = Math.max(longest, sentAndAcked[1] - previous);
      }
      previous = sentAndAcked[1];
    }
    return longest;
  }

  static String explain() {
    return k8s.explain(NS, NAME) + "\nstatus.upgrade: "
        + io.fabric8.kubernetes.client.utils.Serialization.asJson(upgrade());
  }

  @Test
  @Order(0)
  void aRaiseToAMajorTheImageLacksIsBlockedAndChangesNothing() {
    postgresVersion(16);
    try {
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
          .until(() -> "Blocked".equals(upgrade().phase) && upgrade().to == 16);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("the raise to 16 was not blocked in 2 min:" + explain(), e);
    }
    assertThat(upgrade().message).contains("the image has no PostgreSQL 16");
    assertThat(serverMajor(sql())).isEqualTo(15);
    assertThat(k8s.condition(NS, NAME, "Degraded")).as("a blocked upgrade is not an invalid spec").isEqualTo("False");
    postgresVersion(15);
  }

  @Test
  @Order(1)
  void anUpgradePgUpgradesCheckRefusesLeavesTheClusterOnItsMajorWithNothingLost() {
    sql().exec("CREATE TABLE acl_check(a aclitem); INSERT INTO acl_check VALUES ('postgres=r/postgres')");
    try (SteadyWriter w = writer()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> w.acknowledgedCount() > 50);
      long t0 = System.currentTimeMillis();
      postgresVersion(17);
      try {
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
            .until(() -> "Failed".equals(upgrade().phase));
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        throw new AssertionError("the refused upgrade did not end in 5 min:" + explain(), e);
      }
      PostgresClusterStatus.Upgrade u = upgrade();
      assertThat(u.from).isEqualTo(15);
      assertThat(u.to).isEqualTo(17);
      assertThat(u.step).as(explain()).isEqualTo("check");
      assertThat(u.message).contains("pg_upgrade --check failed").contains("runs PostgreSQL 15");
      int acked = w.acknowledgedCount();
      await().atMost(Duration.ofSeconds(60)).until(() -> w.acknowledgedCount() > acked + 50);
      w.stop();
      REPORT.add(String.format("UPGRADE refused by pg_upgrade --check: %d ms, acked %d, lost %d, longest gap %d ms",
          System.currentTimeMillis() - t0, w.acknowledgedCount(), w.lost(), longestGapMs(w)));
      assertThat(w.lost()).as("acknowledged writes lost").isZero();
    }
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> ready() && members() == 2);
    assertThat(serverMajor(sql())).isEqualTo(15);
    assertThat(serverMajor(replicaSql())).isEqualTo(15);
    assertThat(k8s.client().apps().statefulSets().inNamespace(NS).withName(NAME).get().getSpec().getTemplate()
        .getSpec().getContainers().get(0).getEnv()).anySatisfy(e -> {
          assertThat(e.getName()).isEqualTo("PGVERSION");
          assertThat(e.getValue()).isEqualTo("15");
        });
    // what blocked it goes; trying again is setting the running major back, then raising it
    sql().exec("DROP TABLE acl_check");
    postgresVersion(15);
  }

  @Test
  @Order(2)
  void anUpgradeKilledWhilePgUpgradeRunsIsRecoveredToItsMajorWithNothingLost() {
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> ready() && members() == 2);
    // enough catalog for pg_upgrade's schema restore to last seconds, so the kill lands inside it
    sql().database("shop").exec("DO $$ BEGIN FOR i IN 1..400 LOOP EXECUTE format('CREATE TABLE pad_%s(id int PRIMARY "
        + "KEY, v text)', i); END LOOP; END $$");
    String extensionsBefore = extensions();
    try (SteadyWriter w = writer()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> w.acknowledgedCount() > 50);
      long t0 = System.currentTimeMillis();
      long generation = cluster().getMetadata().getGeneration();
      postgresVersion(17);
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
          .until(() -> "Upgrading".equals(upgrade().phase) && upgrade().generation > generation);
      PostgresClusterStatus.Upgrade launched = upgrade();
      // in the primary's container, the moment Spilo logs pg_upgrade's start (not its --check): its script and
      // pg_upgrade killed, so Spilo's own cleanup never runs
      String killed = k8s.kubectl("-n", NS, "exec", launched.member, "-c", "postgres", "--", "sh", "-c",
          "log=\"$PGROOT/pgtide-upgrade-" + launched.id + ".log\"; started=no; for i in $(seq 1 3000); do "
              + "if grep -q 'Executing pg_upgrade$' \"$log\"; then started=yes; break; fi; sleep 0.1; done; "
              + "pkill -KILL -f '[i]nplace_upgrade.py'; pkill -KILL -x pg_upgrade; echo \"pg_upgrade started: $started\"; "
              + "sleep 1; tail -n 3 \"$log\"");
      REPORT.add("UPGRADE killed at: " + killed.replace("\n", " | "));
      // (the log's last lines may be pg_upgrade's own output by then)
      assertThat(killed).contains("pg_upgrade started: yes");
      try {
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
            .until(() -> "Failed".equals(upgrade().phase));
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        throw new AssertionError("the killed upgrade was not recovered in 5 min:" + explain(), e);
      }
      PostgresClusterStatus.Upgrade u = upgrade();
      // (the wrapper that records the exit code outlives the script it runs: 137, or none when it went too)
      assertThat(u.message).as(explain()).containsAnyOf("was killed (signal 9)", "gone without an exit code")
          .contains("runs PostgreSQL 15");
      await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
          .until(() -> ready() && members() == 2 && serverMajor(sql()) == 15);
      long recovered = System.currentTimeMillis();
      int acked = w.acknowledgedCount();
      await().atMost(Duration.ofSeconds(60)).until(() -> w.acknowledgedCount() > acked + 50);
      w.stop();
      REPORT.add(String.format("UPGRADE killed in pg_upgrade, recovered to 15: %d ms; writer's longest gap %d ms; "
          + "acked %d, lost %d", recovered - t0, longestGapMs(w), w.acknowledgedCount(), w.lost()));
      assertThat(w.lost()).as("acknowledged writes lost").isZero();
    }
    assertThat(serverMajor(replicaSql())).isEqualTo(15);
    assertThat(sql().database("shop").query("SELECT count(*) FROM items")).isEqualTo(Integer.toString(ROWS));
    // what Spilo dropped after its check (pg_stat_statements, pg_stat_kcache) is there again
    assertThat(extensions()).isEqualTo(extensionsBefore);
    postgresVersion(15);
  }

  @Test
  @Order(3)
  void fifteenToSeventeenKeepsEveryRowUserAndExtensionAndRollsThePods() {
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> ready() && members() == 2
        && serverMajor(replicaSql()) == 15);
    String extensionsBefore = extensions();
    try (SteadyWriter w = writer()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> w.acknowledgedCount() > 50);
      long t0 = System.currentTimeMillis();
      long generation = cluster().getMetadata().getGeneration();
      postgresVersion(17);
      try {
        await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
            .until(() -> upgrade().generation > generation
                && ("Succeeded".equals(upgrade().phase) || "Failed".equals(upgrade().phase)));
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        throw new AssertionError("the upgrade did not end in 10 min:" + explain(), e);
      }
      assertThat(upgrade().phase).as(explain()).isEqualTo("Succeeded");
      long upgraded = System.currentTimeMillis();
      // then the pods take PGVERSION 17 through the rolling update
      try {
        await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions()
            .until(() -> rolledOnto("17") && ready() && members() == 2 && serverMajor(replicaSql()) == 17);
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        throw new AssertionError("the pods did not roll onto 17 in 10 min:" + explain(), e);
      }
      long rolled = System.currentTimeMillis();
      int acked = w.acknowledgedCount();
      await().atMost(Duration.ofSeconds(60)).until(() -> w.acknowledgedCount() > acked + 50);
      w.stop();
      PostgresClusterStatus.Upgrade u = upgrade();
      REPORT.add(String.format("UPGRADE 15 -> 17: upgraded in %d ms, pods rolled %d ms later; Spilo's downtime "
              + "%s s; writer's longest gap %d ms; acked %d, lost %d, errors %d", upgraded - t0, rolled - upgraded,
          u.downtimeSeconds, longestGapMs(w), w.acknowledgedCount(), w.lost(), w.errors()));
      assertThat(w.lost()).as("acknowledged writes lost").isZero();
      assertThat(u.downtimeSeconds).isNotNull().isPositive();
    }
    assertThat(serverMajor(sql())).isEqualTo(17);
    assertThat(Integer.parseInt(sql().query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")))
        .isEqualTo(1);
    ServiceSql shop = sql().database("shop");
    assertThat(shop.query("SELECT count(*) FROM items")).isEqualTo(Integer.toString(ROWS));
    assertThat(replicaSql().database("shop").query("SELECT count(*) FROM items")).isEqualTo(Integer.toString(ROWS));
    String extensionsAfter = extensions();
    REPORT.add("UPGRADE extensions in shop before: " + extensionsBefore + "; after: " + extensionsAfter);
    assertThat(extensionsAfter.split(",")).contains(extensionsBefore.split(","));
    assertThat(shop.query("SELECT count(*) FROM scratch")).as("an unlogged table is kept, emptied").isEqualTo("0");
    // the user's password from before still logs in
    ServiceSql app = ServiceSql.of(k8s, NS, NAME, "app", password(UserSecrets.secretName("app", NAME)));
    assertThat(app.query("SELECT current_user")).isEqualTo("app");
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }

  /** The extensions of database shop, sorted, comma-separated. */
  static String extensions() {
    return sql().database("shop").query("SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension");
  }

  /** Every member pod runs the StatefulSet's current revision and PGVERSION {@code major}. */
  static boolean rolledOnto(String major) {
    var sts = k8s.client().apps().statefulSets().inNamespace(NS).withName(NAME).get();
    boolean env = sts.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .anyMatch(e -> "PGVERSION".equals(e.getName()) && major.equals(e.getValue()));
    String revision = sts.getStatus().getUpdateRevision();
    List<Pod> pods = k8s.client().pods().inNamespace(NS).withLabel("cluster-name", NAME).list().getItems();
    return env && pods.size() == 2 && pods.stream()
        .allMatch(p -> revision.equals(p.getMetadata().getLabels().get("controller-revision-hash")));
  }
}
