package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.testkit.SteadyWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A standby cluster in another namespace following a source under a steady writer (synchronous mode on the source,
 * writing through its primary Service): (a) it replays the source's rows within a bounded lag, shows it in
 * status.standby and refuses writes; (b) it keeps following through a switchover of the source; (c) its stream
 * cut while the source drops its slot and moves past the WAL it needs, it catches up from the source's WAL archive
 * (the source's backup agent, through the standby leader's restore_command) and streams again; (d) the source
 * deleted, {@code kubectl pgtide promote} makes it take writes, with every row the writer had acknowledged on the
 * source. The standby streams asynchronously, so (c) stops the writer and waits for the standby to have replayed
 * everything before deleting the source: what (d) checks is that promotion keeps every row it received and
 * leaves nothing of the standby behind, not that an asynchronous copy loses nothing in an unplanned loss.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandbyK8sE2E {
  static final String SRC_NS = "e2e-standby-src";
  static final String SRC = "orders";
  static final String DR_NS = "e2e-standby-dr";
  static final String DR = "orders-dr";
  /** The bound the standby's lag must go below under the writer (it writes a few hundred small rows a second). */
  static final long LAG_BOUND_BYTES = 16L * 1024 * 1024;
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();
  static final List<String> REPORT = new ArrayList<>();
  static SteadyWriter writer;

  @BeforeAll
  static void createSourceAndStandby() {
    k8s.freshNamespace(SRC_NS);
    k8s.freshNamespace(DR_NS);
    k8s.serviceAccount(SRC_NS, "dba", "pgtide-operator-user");
    k8s.serviceAccount(DR_NS, "dba", "pgtide-operator-user");
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          patroni: {ttl: 20, loopWait: 5, retryTimeout: 5, synchronousMode: true}
          backup: {schedule: "@daily", retention: {count: 2}, verifySchedule: never, storage: 2Gi}
          # only the slots keep WAL (Patroni's default keeps 128 MB more): (c) moves past the standby's in two rounds
          parameters: {wal_keep_size: "0"}
        """.formatted(SRC, SRC_NS));
    within("source ready", 300, () -> k8s.settledInSync(SRC_NS, SRC, 2), SRC_NS, SRC);
    writer = SteadyWriter.overSsl(serviceIp(SRC_NS, SRC), 5432, "postgres", password(SRC_NS, SRC));
    await().atMost(Duration.ofSeconds(60)).until(() -> writer.acknowledgedCount() > 50);
    long t0 = System.currentTimeMillis();
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 2
          storage: {size: 1Gi}
          patroni: {ttl: 20, loopWait: 5, retryTimeout: 5}
          standby: {source: %s, sourceNamespace: %s}
        """.formatted(DR, DR_NS, SRC, SRC_NS));
    within("standby ready", 300, () -> ready(DR_NS, DR) && readyMembers(DR_NS, DR) == 2, DR_NS, DR);
    REPORT.add("K8S-STANDBY ready " + (System.currentTimeMillis() - t0) + " ms after it was created");
  }

  @AfterAll
  static void dropNamespaces() {
    if (writer != null) {
      writer.close();
    }
    REPORT.forEach(System.out::println);
    k8s.dropNamespace(DR_NS);
    k8s.dropNamespace(SRC_NS);
  }

  static PostgresCluster cluster(String ns, String name) {
    return k8s.client().resources(PostgresCluster.class).inNamespace(ns).withName(name).get();
  }

  static boolean ready(String ns, String name) {
    PostgresCluster cr = cluster(ns, name);
    return cr != null && cr.getStatus() != null && cr.getStatus().conditions.stream()
        .anyMatch(c -> "Ready".equals(c.type) && "True".equals(c.status));
  }

  static long readyMembers(String ns, String name) {
    return cluster(ns, name).getStatus().members.stream().filter(m -> m.ready).count();
  }

  static PostgresClusterStatus.Standby standbyStatus() {
    PostgresCluster cr = cluster(DR_NS, DR);
    return cr == null || cr.getStatus() == null ? null : cr.getStatus().standby;
  }

  static String serviceIp(String ns, String name) {
    return k8s.client().services().inNamespace(ns).withName(name).get().getSpec().getClusterIP();
  }

  static String password(String ns, String name) {
    return k8s.superuserPassword(ns, name);
  }

  static ServiceSql sql(String ns, String name) {
    return ServiceSql.of(k8s, ns, name, "postgres", password(ns, name));
  }

  /** The standby's condition of {@code type} as "status reason: message"; "" while it has none. */
  static String condition(String type) {
    PostgresCluster cr = cluster(DR_NS, DR);
    return cr == null || cr.getStatus() == null ? "" : cr.getStatus().conditions.stream()
        .filter(c -> type.equals(c.type)).map(c -> c.status + " " + c.reason + ": " + c.message).findFirst()
        .orElse("");
  }

  /** Waits for {@code done}; a timeout fails with the cluster's conditions, events and operator pods. */
  static void within(String what, int seconds, Callable<Boolean> done, String ns, String name) {
    try {
      await().atMost(Duration.ofSeconds(seconds)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(done);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(what + ": not within " + seconds + " s:" + k8s.explain(ns, name), e);
    }
  }

  /** A row written on the source now, then how long until the standby shows it. */
  static long markerReplayedWithin(String marker, int seconds) {
    sql(SRC_NS, SRC).exec("CREATE TABLE IF NOT EXISTS standby_marker(name text PRIMARY KEY)");
    sql(SRC_NS, SRC).exec("INSERT INTO standby_marker VALUES ('" + marker + "')");
    long t0 = System.currentTimeMillis();
    within("marker " + marker + " on the standby", seconds, () -> "1".equals(sql(DR_NS, DR)
        .query("SELECT count(*) FROM standby_marker WHERE name = '" + marker + "'")), DR_NS, DR);
    return System.currentTimeMillis() - t0;
  }

  @Test
  @Order(1)
  void theStandbyReplaysTheSourceWithinABoundedLagAndRefusesWrites() {
    assertThat(password(DR_NS, DR)).as("the standby's Secrets take the source's passwords")
        .isEqualTo(password(SRC_NS, SRC));
    long ms = markerReplayedWithin("first", 60);
    REPORT.add("K8S-STANDBY a row on the source replayed on the standby after " + ms + " ms");
    within("status.standby streaming with a lag below " + LAG_BOUND_BYTES, 120, () -> {
      PostgresClusterStatus.Standby s = standbyStatus();
      return s != null && Boolean.TRUE.equals(s.streaming) && s.lagBytes != null && s.lagBytes < LAG_BOUND_BYTES;
    }, DR_NS, DR);
    PostgresClusterStatus.Standby s = standbyStatus();
    assertThat(s.source).isEqualTo(SRC_NS + "/" + SRC);
    assertThat(s.promoted).isFalse();
    REPORT.add("K8S-STANDBY lag " + s.lagBytes + " bytes under the writer");
    assertThat(condition("Standby")).contains("Following");
    assertThatThrownBy(() -> sql(DR_NS, DR).exec("INSERT INTO standby_marker VALUES ('refused')"))
        .hasMessageContaining("read-only");
    // the source keeps a permanent slot for it, on whichever member leads
    within("the standby's slot on the source", 60, () -> "1".equals(sql(SRC_NS, SRC).query(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgtide_standby_e2e_standby_dr_orders_dr' "
            + "AND active")), SRC_NS, SRC);
  }

  @Test
  @Order(2)
  void itKeepsFollowingThroughASwitchoverOfTheSource() throws Exception {
    String before = cluster(SRC_NS, SRC).getStatus().primary;
    Path dba = k8s.kubeconfigFor(SRC_NS, "dba");
    try {
      RealKubernetes.Plugin switchover = k8s.kubectlPgtide(dba, "switchover", "-n", SRC_NS, SRC);
      assertThat(switchover.exit()).as(switchover.output()).isZero();
    } finally {
      java.nio.file.Files.deleteIfExists(dba);
    }
    within("the source's new primary", 120, () -> ready(SRC_NS, SRC)
        && !before.equals(cluster(SRC_NS, SRC).getStatus().primary), SRC_NS, SRC);
    long ms = markerReplayedWithin("after-switchover", 120);
    REPORT.add("K8S-STANDBY after the source's switchover a new row replayed after " + ms + " ms");
    within("streaming again", 120, () -> Boolean.TRUE.equals(standbyStatus().streaming), DR_NS, DR);
  }

  /** Points the standby cluster's Patroni (its dynamic configuration, shared by its members) at host:port. */
  static void standbyStreamsFrom(String host, int port) {
    String pod = cluster(DR_NS, DR).getStatus().primary;
    k8s.kubectl("-n", DR_NS, "exec", pod, "-c", "postgres", "--", "patronictl", "edit-config", "--force",
        "--set", "standby_cluster.host=" + host, "--set", "standby_cluster.port=" + port);
  }

  @Test
  @Order(3)
  void cutForLongerThanTheSourceKeepsWalItCatchesUpFromTheSourcesArchive() {
    String slot = "pgtide_standby_e2e_standby_dr_orders_dr";
    // what fetching from the archive takes reaches the standby's pods: the source's WAL token and the operator's CA
    within("the archive's token mounted in the standby leader", 180, () -> {
      k8s.kubectl("-n", DR_NS, "exec", cluster(DR_NS, DR).getStatus().primary, "-c", "postgres", "--", "test", "-s",
          "/etc/pgtide/standby-archive/authorization");
      return true;
    }, DR_NS, DR);
    // the stream cut: the standby leader's Patroni dials a closed port of its own (refused at once; a port of the
    // source would be dropped by its NetworkPolicy, and each attempt would hang until TCP gives up). Put back
    // whatever happens, for (d)
    String sourceHost = k8s.client().apps().statefulSets().inNamespace(DR_NS).withName(DR).get().getSpec()
        .getTemplate().getSpec().getContainers().stream().filter(c -> "postgres".equals(c.getName()))
        .flatMap(c -> c.getEnv().stream()).filter(e -> "STANDBY_HOST".equals(e.getName())).findFirst()
        .orElseThrow().getValue();
    long t0 = System.currentTimeMillis();
    standbyStreamsFrom("127.0.0.1", 1);
    try {
      within("the standby's stream cut", 120, () -> !Boolean.TRUE.equals(standbyStatus().streaming)
          && "1".equals(sql(SRC_NS, SRC).query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot
          + "' AND NOT active")), DR_NS, DR);
      // the source loses what the standby needs: its slot dropped, and its WAL moved on until the segment holding the
      // standby's position is gone. Patroni makes the permanent slot again, and PostgreSQL reserves a new slot's WAL
      // from the last checkpoint's redo point: a checkpoint in a later segment first, or the new slot would keep it all
      String needed = sql(SRC_NS, SRC).query("SELECT pg_walfile_name('" + sql(DR_NS, DR)
          .query("SELECT pg_last_wal_replay_lsn()") + "')");
      sql(SRC_NS, SRC).exec("INSERT INTO standby_marker VALUES ('while-cut')");
      sql(SRC_NS, SRC).exec("SELECT pg_switch_wal()");
      sql(SRC_NS, SRC).exec("CHECKPOINT");
      sql(SRC_NS, SRC).exec("SELECT pg_drop_replication_slot('" + slot + "')");
      try {
        // each round ends a segment (16 MB the standby will fetch) and recycles what nothing keeps: not too often
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(4)).ignoreExceptions().until(() -> {
          sql(SRC_NS, SRC).exec("SELECT pg_switch_wal()");
          sql(SRC_NS, SRC).exec("CHECKPOINT");
          return "0".equals(sql(SRC_NS, SRC).query("SELECT count(*) FROM pg_ls_waldir() WHERE name = '" + needed
              + "'"));
        });
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        String slots = sql(SRC_NS, SRC).query("SELECT string_agg(slot_name || ' ' || restart_lsn, ', ') "
            + "FROM pg_replication_slots");
        throw new AssertionError("segment " + needed + " still on the source after 240 s; its slots: " + slots, e);
      }
      REPORT.add("K8S-STANDBY the source dropped segment " + needed + " " + (System.currentTimeMillis() - t0)
          + " ms after the stream was cut");
      // still cut, the standby replays the rows written since, from the archive
      long t1 = System.currentTimeMillis();
      within("the row written while cut, on the standby", 300, () -> "1".equals(sql(DR_NS, DR)
          .query("SELECT count(*) FROM standby_marker WHERE name = 'while-cut'")), DR_NS, DR);
      REPORT.add("K8S-STANDBY caught up from the source's archive " + (System.currentTimeMillis() - t1)
          + " ms after the source dropped the WAL");
      assertThat(sql(DR_NS, DR).query("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'"))
          .as("the rows came from the archive: no stream").isEqualTo("0");
      assertThat(k8s.kubectl("-n", SRC_NS, "logs", "deployment/" + SRC + "-backup")).as("the source's agent log")
          .contains("serving archived WAL " + needed);
    } finally {
      standbyStreamsFrom(sourceHost, 5432);
    }
    // the stream back: it streams again from the slot Patroni made anew
    within("streaming again", 180, () -> Boolean.TRUE.equals(standbyStatus().streaming), DR_NS, DR);
    long ms = markerReplayedWithin("streaming-again", 120);
    REPORT.add("K8S-STANDBY streaming again; a new row replayed after " + ms + " ms");
  }

  @Test
  @Order(4)
  void promotedAfterTheSourceIsDeletedItTakesWritesWithEveryAcknowledgedRow() throws Exception {
    int acked = writer.acknowledgedCount();
    await().atMost(Duration.ofSeconds(30)).until(() -> writer.acknowledgedCount() > acked + 50);
    writer.stop();
    long lastAcked = writer.acknowledged().stream().mapToLong(Long::longValue).max().orElseThrow();
    // asynchronous: wait until the standby has what the source acknowledged, then lose the source
    within("the standby caught up", 120, () -> Long.parseLong(sql(DR_NS, DR)
        .query("SELECT coalesce(max(id), 0) FROM writer_log")) >= lastAcked, DR_NS, DR);
    k8s.kubectl("-n", SRC_NS, "delete", "postgrescluster", SRC, "--wait=true", "--timeout=180s");
    within("the source's pods gone", 180, () -> k8s.client().pods().inNamespace(SRC_NS)
        .withLabel("cluster-name", SRC).list().getItems().isEmpty(), DR_NS, DR);
    within("status.standby says the source is unreachable", 120,
        () -> !Boolean.TRUE.equals(standbyStatus().streaming), DR_NS, DR);
    long t0 = System.currentTimeMillis();
    Path dba = k8s.kubeconfigFor(DR_NS, "dba");
    try {
      RealKubernetes.Plugin promote = k8s.kubectlPgtide(dba, "promote", "-n", DR_NS, DR);
      assertThat(promote.exit()).as(promote.output()).isZero();
      assertThat(promote.stdout()).contains("promote " + DR_NS + "/" + DR + ": Succeeded");
    } finally {
      java.nio.file.Files.deleteIfExists(dba);
    }
    within("the promoted standby takes writes", 180, () -> {
      sql(DR_NS, DR).exec("INSERT INTO standby_marker VALUES ('promoted')");
      return true;
    }, DR_NS, DR);
    REPORT.add("K8S-STANDBY writable " + (System.currentTimeMillis() - t0) + " ms after promote was asked");
    assertThat(standbyStatus().promoted).isTrue();
    within("Standby=False/Promoted and Ready as a primary", 120, () -> condition("Standby")
        .contains("Promoted") && condition("Ready").contains("PrimaryServing"), DR_NS, DR);
    long lost = writer.lost(serviceIp(DR_NS, DR), 5432, "postgres", password(DR_NS, DR));
    REPORT.add("K8S-STANDBY acknowledged on the source " + writer.acknowledgedCount() + ", missing after "
        + "promotion " + lost);
    assertThat(lost).as("rows acknowledged on the source, missing on the promoted standby").isZero();
    assertThat(condition("Standby")).as("spec.standby is still there: the condition says so")
        .contains("remove spec.standby");
    // its replica follows the new primary; nothing rolled the pods for the promotion
    within("both members ready", 180, () -> ready(DR_NS, DR) && readyMembers(DR_NS, DR) == 2, DR_NS, DR);
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }
}
