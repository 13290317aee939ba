package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.local.process.PatroniCluster;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.local.process.Signal;
import io.pgtide.local.process.Signals;
import io.pgtide.operator.HubFixture;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.ReplayHold;
import io.pgtide.testkit.TestDirs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Sidecars in front of a real 3-member Patroni cluster, reporting to a real hub over mutual TLS. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SidecarIT {
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(3)
      // a replica waits for ever on a conflicting reader instead of cancelling it after 30 s (ReplayHold)
      .parameters(Map.of("max_standby_streaming_delay", "-1"));
  static HubFixture hub;
  static final Map<String, SidecarVerticle> sidecars = new HashMap<>();
  static String key;

  @BeforeAll
  static void startSidecars() {
    hub = new HubFixture(TestDirs.create("sidecar-it"));
    PatroniCluster c = pg.cluster();
    key = "it/" + c.scope();
    for (PatroniMember m : c.members()) {
      MemberId id = new MemberId("it", c.scope(), m.name());
      sidecars.put(m.name(), hub.deploy(hub.config(id, m.pgPort(), c.secrets().superuserPassword(),
          "http://127.0.0.1:" + m.restPort()).withPatroniCredentials(c.restCredentials())));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> hub.state.view(key).members().size() == 3
        && hub.state.view(key).primary().isPresent() && hub.state.view(key).healthyReplicas().size() == 2);
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  static InstanceReport report(String member) {
    return hub.state.view(key).members().get(member).report();
  }

  /** The lag the member's own report gives, -1 while it has none. */
  static long lagOf(PatroniMember m) {
    Long lag = report(m.name()).lagBytes();
    return lag == null ? -1 : lag;
  }

  /** Patroni's maintenance mode for the whole cluster (through any member), and wait until the member says so. */
  static void patroniPause(PatroniMember via, boolean pause) {
    try {
      var answer = via.rest().patch("/config", new io.vertx.core.json.JsonObject().put("pause", pause));
      assertThat(answer.status()).as(answer.body()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).until(() -> pg.cluster().members().stream().allMatch(m -> {
        try {
          return m.rest().get("/patroni").json().getBoolean("pause", false) == pause;
        } catch (Exception e) {
          return false;
        }
      }));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String sql(PatroniMember m, String sql) {
    return Psql.query(m.pgPort(), "postgres", pg.cluster().secrets().superuserPassword(), "postgres", sql);
  }

  /** The value of {@code metric} for {@code member} (and {@code label="value"} when given), null when absent. */
  static Double metric(String metric, String member, String label) {
    for (String line : hub.registry.scrape().split("\n")) {
      if (line.startsWith(metric + "{") && line.contains("member=\"" + member + "\"")
          && (label == null || line.contains(label))) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return null;
  }

  @Test
  @Order(0)
  void aDbaSeesDatabaseSizesSlotsWraparoundAgeAndTheLongestTransaction() throws Exception {
    PatroniMember leader = pg.cluster().leader().orElseThrow();
    sql(leader, "CREATE DATABASE health_probe");
    // a client transaction that stays open (xact_start set by its first statement)
    ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-q", "-h", "127.0.0.1", "-p", Integer.toString(leader.pgPort()),
        "-U", "postgres", "-d", "postgres", "-c", "BEGIN; SELECT txid_current(); SELECT pg_sleep(60); COMMIT;")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("PGPASSWORD", pg.cluster().secrets().superuserPassword());
    Process open = pb.start();
    try {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        assertThat(metric("pgtide_database_size_bytes", leader.name(), "datname=\"health_probe\""))
            .isNotNull().isGreaterThan(1_000_000.0);
        assertThat(metric("pgtide_longest_transaction_seconds", leader.name(), null)).isGreaterThanOrEqualTo(2.0);
        assertThat(metric("pgtide_xid_age", leader.name(), null)).isGreaterThan(0.0);
        // Patroni keeps a physical slot on the primary for each replica
        assertThat(metric("pgtide_replication_slot_retained_bytes", leader.name(), "slot=\"")).isNotNull()
            .isGreaterThanOrEqualTo(0.0);
        assertThat(metric("pgtide_checkpoints_timed_total", leader.name(), null)).isNotNull();
        assertThat(metric("pgtide_checkpoints_requested_total", leader.name(), null)).isNotNull();
      });
    } finally {
      open.destroyForcibly().waitFor();
      sql(leader, "DROP DATABASE health_probe");
    }
    // gone from the series once dropped
    await().atMost(Duration.ofSeconds(40)).until(() ->
        metric("pgtide_database_size_bytes", leader.name(), "datname=\"health_probe\"") == null);
  }

  @Test
  @Order(1)
  void rolesAreRightAndLsnsAdvance() {
    PatroniMember leader = pg.cluster().leader().orElseThrow();
    ClusterView view = hub.state.view(key);
    assertThat(view.primary().orElseThrow().id().member()).isEqualTo(leader.name());
    InstanceReport primary = report(leader.name());
    assertThat(primary.patroniRole()).isIn("master", "primary");
    assertThat(primary.standbys()).hasSize(2).allSatisfy(s -> assertThat(s.state()).isEqualTo("streaming"));
    long before = primary.currentLsn();
    sql(leader, "CREATE TABLE IF NOT EXISTS lsn_probe(x int); INSERT INTO lsn_probe SELECT generate_series(1, 10000)");
    await().atMost(Duration.ofSeconds(10)).until(() -> report(leader.name()).currentLsn() > before);
    for (PatroniMember m : pg.cluster().members()) {
      if (m != leader) {
        assertThat(report(m.name()).role()).isEqualTo(Role.REPLICA);
        await().atMost(Duration.ofSeconds(10)).until(() -> report(m.name()).replayedLsn() >= report(leader.name())
            .currentLsn() - 1_000_000 && report(m.name()).replayedLsn() > before);
        assertThat(report(m.name()).walReceiverStatus()).isEqualTo("streaming");
      }
    }
    // each member's own PostgreSQL, not the machine (every member shares its cgroup here): distinct, small
    await().atMost(Duration.ofSeconds(10)).until(() -> pg.cluster().members().stream()
        .allMatch(m -> report(m.name()).resources().memoryBytes() != null
            && report(m.name()).resources().cpuCores() != null));
    List<Long> memory = pg.cluster().members().stream().map(m -> report(m.name()).resources().memoryBytes()).toList();
    long machine = report(leader.name()).resources().memoryLimitBytes();
    assertThat(memory).allSatisfy(b -> assertThat(b).isLessThan(machine / 4)).doesNotHaveDuplicates();
  }

  @Test
  @Order(2)
  void lagRisesWhileReplayIsHeldBackAndFallsWhenReleased() {
    PatroniMember leader = pg.cluster().leader().orElseThrow();
    PatroniMember replica = pg.cluster().members().stream().filter(m -> m != leader).findFirst().orElseThrow();
    String pw = pg.cluster().secrets().superuserPassword();
    // not pg_wal_replay_pause(): Patroni resumes a paused replay on its next loop (see ReplayHold)
    try (ReplayHold hold = ReplayHold.on(leader.pgPort(), replica.pgPort(), "postgres", pw, "lag_hold")) {
      sql(leader, "INSERT INTO lsn_probe SELECT generate_series(1, 50000)");
      await().atMost(Duration.ofSeconds(30)).until(() -> lagOf(replica) > 1_000_000
          && hub.state.view(key).lagBytes(replica.name()) > 1_000_000);
      // held, not a moment: still behind several report intervals (and Patroni loops) later
      long seqThen = report(replica.name()).seq();
      await().atMost(Duration.ofSeconds(30)).until(() -> report(replica.name()).seq() >= seqThen + 4);
      assertThat(lagOf(replica)).isGreaterThan(1_000_000);
      assertThat(hub.state.view(key).lagBytes(replica.name())).isGreaterThan(1_000_000);
      assertThat(hold.holding()).isTrue();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> lagOf(replica) < 100_000
        && hub.state.view(key).lagBytes(replica.name()) < 100_000);
  }

  @Test
  @Order(3)
  void qpsTracksPgbenchWithinTenPercent() throws Exception {
    PatroniMember leader = pg.cluster().leader().orElseThrow();
    String pw = pg.cluster().secrets().superuserPassword();
    io.pgtide.testkit.Pgbench.init(leader.pgPort(), "postgres", pw, 1);
    List<Double> seen = new ArrayList<>();
    long stopAt = System.currentTimeMillis() + 14_000;
    Thread sampler = new Thread(() -> {
      long lastSeq = -1;
      while (System.currentTimeMillis() < stopAt) {
        InstanceReport r = report(leader.name());
        if (r.seq() != lastSeq) {
          lastSeq = r.seq();
          seen.add(r.load().tps());
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    sampler.start();
    String out = io.pgtide.testkit.Pgbench.run(List.of("pgbench", "-S", "-n", "-c", "2", "-j", "1", "-T", "12", "-h", "127.0.0.1", "-p",
        "" + leader.pgPort(), "-U", "postgres", "postgres"), pw);
    sampler.join();
    Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    double pgbenchTps = Double.parseDouble(m.group(1));
    // the middle of the run: skip the first and last two reports (ramp-up, ramp-down)
    List<Double> middle = seen.subList(3, seen.size() - 3);
    double mean = middle.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    assertThat(mean).as("sidecar tps %s vs pgbench %s (samples %s)", mean, pgbenchTps, seen)
        .isCloseTo(pgbenchTps, org.assertj.core.data.Percentage.withPercentage(10));
  }

  @Test
  @Order(4)
  void aKilledPostgresIsUnhealthyWithinTwoIntervalsAndRecovers() {
    PatroniMember leader = pg.cluster().leader().orElseThrow();
    PatroniMember replica = pg.cluster().members().stream().filter(m -> m != leader).reduce((a, b) -> b)
        .orElseThrow();
    long pm = replica.postmasterPid().orElseThrow();
    // Patroni restarts a dead postmaster on its next loop (2 s here), which would race the assertion: in maintenance
    // mode it leaves PostgreSQL down (and keeps answering), so "down" lasts as long as the assertion needs
    patroniPause(leader, true);
    try {
      long killedAt = System.currentTimeMillis();
      Signals.send(pm, Signal.KILL);
      await().atMost(Duration.ofSeconds(2)).until(() -> !report(replica.name()).healthy());
      assertThat(report(replica.name()).reason()).isNotBlank();
      assertThat(report(replica.name()).collectedAt() - killedAt).isLessThan(2_000);
    } finally {
      patroniPause(leader, false);
    }
    // Patroni starts PostgreSQL again; the sidecar recovers on its own
    await().atMost(Duration.ofSeconds(60)).until(() -> report(replica.name()).healthy()
        && report(replica.name()).role() == Role.REPLICA);
  }

  @Test
  @Order(5)
  void switchoverCommandGoesThroughPatroniAndBothSidesReportNewRoles() {
    PatroniMember leader = pg.cluster().leader().orElseThrow();
    await().atMost(Duration.ofSeconds(60)).until(() -> hub.state.view(key).healthyReplicas().size() == 2);
    PatroniMember target = pg.cluster().members().stream().filter(m -> m != leader).findFirst().orElseThrow();
    MemberId leaderId = new MemberId("it", pg.cluster().scope(), leader.name());
    CommandResult refused = hub.commands.send(leaderId, new CommandPayload.Switchover(leader.name(), "nobody"),
        30_000).await();
    assertThat(refused.ok()).isFalse();
    assertThat(refused.errorCode()).isEqualTo("patroni");
    assertThat(refused.detail().getString("patroni")).isNotBlank();

    // how long from PostgreSQL reporting the promotion to the operator's handler seeing it (target < 500 ms)
    long[] operatorSawAt = {0};
    hub.state.onChange((k, m) -> {
      if (m.id().member().equals(target.name()) && m.role() == Role.PRIMARY && operatorSawAt[0] == 0) {
        operatorSawAt[0] = System.currentTimeMillis();
      }
    });
    long[] postgresSaidAt = {0};
    Thread poller = new Thread(() -> {
      while (postgresSaidAt[0] == 0 && !Thread.currentThread().isInterrupted()) {
        try {
          if ("f".equals(sql(target, "SELECT pg_is_in_recovery()"))) {
            postgresSaidAt[0] = System.currentTimeMillis();
          }
        } catch (RuntimeException e) {
          // restarting
        }
      }
    });
    poller.start();
    CommandResult result = hub.commands.send(leaderId, new CommandPayload.Switchover(leader.name(), target.name()),
        60_000).await();
    assertThat(result.ok()).as(result.errorMessage()).isTrue();
    await().atMost(Duration.ofSeconds(30)).until(() -> report(target.name()).role() == Role.PRIMARY
        && report(leader.name()).role() == Role.REPLICA && report(leader.name()).healthy());
    poller.interrupt();
    System.out.println("ROLE-CHANGE-LATENCY-MS " + (operatorSawAt[0] - postgresSaidAt[0])
        + " (PostgreSQL answered pg_is_in_recovery() = f, polled with psql, until the operator's handler saw PRIMARY)");
  }

  @Test
  @Order(6)
  void commandsForAnotherMemberAreRefused() {
    PatroniMember leader = pg.cluster().leader().orElseThrow();
    SidecarVerticle v = sidecars.get(leader.name());
    MemberId other = new MemberId("it", pg.cluster().scope(), "someone-else");
    io.vertx.core.json.JsonObject cmd = io.pgtide.common.contract.ContractCodec.encode(
        new io.pgtide.common.contract.Command("c1", other, 1000, new CommandPayload.Checkpoint()));
    // delivered straight to this sidecar's address, but addressed to another member
    CommandResult r = io.pgtide.common.contract.ContractCodec.decodeResult(hub.vertx.eventBus()
        .<io.vertx.core.json.JsonObject>request(io.pgtide.common.contract.Addresses.command(
            new MemberId("it", pg.cluster().scope(), leader.name())), cmd).await().body());
    assertThat(r.ok()).isFalse();
    assertThat(r.errorCode()).isEqualTo("wrong-target");
    assertThat(v.lastReport()).isNotNull();
  }
}
