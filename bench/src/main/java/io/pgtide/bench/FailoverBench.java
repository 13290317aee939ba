package io.pgtide.bench;

import io.pgtide.testkit.TestMachine;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.OsUser;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.local.process.Waits;
import io.pgtide.cli.local.LocalRunner;
import io.pgtide.testkit.SteadyWriter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Failover on a real 3-member cluster in local mode under a steady writer: hard kill, graceful stop, zombie primary,
 * planned switchover; with Patroni's defaults and a fast profile. Per case: time from the fault until the primary
 * endpoint takes writes again, time from Patroni's promotion until the operator's endpoint agrees, acknowledged
 * writes lost.
 */
final class FailoverBench {
  private FailoverBench() {
  }

  record Profile(String name, int ttl, int loopWait, int retryTimeout) {
  }

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    boolean synchronous = args.length < 2 || Boolean.parseBoolean(args[1]);
    String which = args.length > 2 ? args[2] : "both";
    List<String> cases = args.length > 3 ? List.of(args[3].split(","))
        : List.of("hard kill", "graceful stop", "zombie primary", "planned switchover");
    List<Profile> profiles = new ArrayList<>();
    if (!which.equals("defaults")) {
      profiles.add(new Profile("fast (ttl 10, loop_wait 2, retry 4)", 10, 2, 4));
    }
    if (!which.equals("fast")) {
      profiles.add(new Profile("defaults (ttl 30, loop_wait 10, retry 10)", 30, 10, 10));
    }
    Table t = new Table("Failover, 3 members, " + (synchronous ? "synchronous" : "asynchronous") + " mode, "
        + runs + " runs each, failoverDelay 5 s",
        "profile", "case", "writable again p50 s", "max s", "endpoint agrees after promotion p50 ms", "max ms",
        "acked writes lost (total)");
    for (Profile p : profiles) {
      Path dir = Files.createTempDirectory("pgtide-failover-bench");
      OsUser.makeTraversable(dir);
      try (LocalRunner runner = new LocalRunner(TestMachine.get(), resource(p, synchronous), dir, msg -> { })) {
        runner.up(0, 0, 0);
        for (String c : cases) {
          List<Double> writable = new ArrayList<>();
          List<Double> agree = new ArrayList<>();
          long lost = 0;
          for (int i = 0; i < runs; i++) {
            double[] r = run(runner, c);
            writable.add(r[0]);
            agree.add(r[1]);
            lost += (long) r[2];
          }
          t.row(p.name(), c, pct(writable, 0.5), Collections.max(writable), pct(agree, 0.5), Collections.max(agree),
              lost);
          System.out.println(t.render());
        }
      }
    }
    t.print("failover-" + (synchronous ? "sync" : "async") + (args.length > 3 ? "-" + args[3].replace(' ', '-')
        .replace(',', '-') : ""));
  }

  static PostgresCluster resource(Profile p, boolean synchronous) {
    PostgresCluster c = new PostgresCluster();
    c.setMetadata(new ObjectMetaBuilder().withName("fb").withNamespace("default").build());
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.replicas = 3;
    spec.patroni.ttl = p.ttl();
    spec.patroni.loopWait = p.loopWait();
    spec.patroni.retryTimeout = p.retryTimeout();
    spec.patroni.synchronousMode = synchronous;
    spec.failoverDelaySeconds = 5;
    c.setSpec(spec);
    return c;
  }

  /** One fault; returns {seconds until writable, ms from promotion until the endpoint agrees, lost writes}. */
  static double[] run(LocalRunner runner, String kind) throws Exception {
    String key = runner.clusterKey();
    awaitHealthy(runner);
    String old = runner.core().state().view(key).primary().orElseThrow().id().member();
    PatroniMember m = runner.infra().cluster().member(old);
    String pw = runner.infra().cluster().secrets().superuserPassword();
    try (SteadyWriter w = new SteadyWriter(runner.primaryPort(), "postgres", pw)) {
      Waits.until("writer to write", Duration.ofSeconds(20), () -> w.acknowledgedCount() > 50, () -> "");
      long faultAt = System.currentTimeMillis();
      switch (kind) {
        case "hard kill" -> m.killHard();
        case "graceful stop" -> m.stopSoft();
        case "zombie primary" -> m.freeze();
        default -> runner.core().failover().switchover(key, null);
      }
      long promotedAt = awaitOtherLeader(runner, old);
      Waits.until("the endpoint to follow", Duration.ofSeconds(120),
          () -> runner.core().failover().endpoint(key).map(e -> !e.equals(old)).orElse(false), () -> "");
      long agreedAt = System.currentTimeMillis();
      Waits.until("a write after the fault", Duration.ofSeconds(120), () -> w.lastAckAt() > agreedAt, () -> "");
      long writableAt = firstAckAfter(w, faultAt);
      w.stop();
      String newPrimary = runner.core().failover().endpoint(key).orElseThrow();
      long lost = w.lost(runner.infra().cluster().member(newPrimary).pgPort(), "postgres", pw);
      if (kind.equals("zombie primary")) {
        m.thaw();
      }
      if (!m.patroniAlive()) {
        m.start();
      }
      return new double[] {(writableAt - faultAt) / 1000.0, Math.max(0, agreedAt - promotedAt), lost};
    }
  }

  static long firstAckAfter(SteadyWriter w, long faultAt) {
    return w.firstAckAfterGap(faultAt);
  }

  static long awaitOtherLeader(LocalRunner runner, String old) {
    long[] at = {0};
    Waits.until("Patroni to promote another member", Duration.ofSeconds(180), () -> {
      Optional<JsonObject> view = runner.infra().cluster().clusterView();
      if (view.isEmpty()) {
        return false;
      }
      for (Object o : view.get().getJsonArray("members", new JsonArray())) {
        JsonObject mem = (JsonObject) o;
        if (("leader".equals(mem.getString("role")) || "master".equals(mem.getString("role")))
            && "running".equals(mem.getString("state")) && !old.equals(mem.getString("name"))) {
          at[0] = System.currentTimeMillis();
          return true;
        }
      }
      return false;
    }, () -> "");
    return at[0];
  }

  /**
   * All healthy again, and in synchronous mode a synchronous standby assigned: Patroni will not promote anyone
   * else, so a fault before that leaves the cluster without a primary until the old one returns (by design).
   */
  static void awaitHealthy(LocalRunner runner) {
    boolean sync = runner.resource().getSpec().patroni.synchronousMode;
    Waits.until("all members healthy", Duration.ofSeconds(180), () -> {
      var v = runner.core().state().view(runner.clusterKey());
      return v.primary().isPresent() && v.healthyReplicas().size() == 2
          && !runner.core().failover().incidentOpen(runner.clusterKey())
          && (!sync || runner.infra().cluster().clusterView().map(c -> c.getJsonArray("members").stream()
              .anyMatch(m -> "sync_standby".equals(((JsonObject) m).getString("role")))).orElse(false));
    }, () -> "");
  }

  static double pct(List<Double> values, double p) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get((int) Math.min(sorted.size() - 1, Math.floor(p * sorted.size())));
  }
}
