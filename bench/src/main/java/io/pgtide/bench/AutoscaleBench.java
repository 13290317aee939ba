package io.pgtide.bench;

import io.pgtide.testkit.TestMachine;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.contract.Addresses;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.OsUser;
import io.pgtide.cli.local.LocalRunner;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The autoscaler on a real local cluster with short cooldowns: read load (a rate-controlled SELECT stream through
 * the replicas endpoint) steps 0 → high → 0, then a noisy square wave. Prints every decision over time, the reaction
 * to each step against its target (window + cooldown) and the scale events in the noisy phase (target ≤ 1 per
 * cooldown).
 */
final class AutoscaleBench {
  static final int WINDOW_S = 10;
  static final int UP_COOLDOWN_S = 15;
  static final int DOWN_COOLDOWN_S = 30;
  static final double TARGET_QPS = 500;
  static final double HIGH_QPS = 1200;

  private AutoscaleBench() {
  }

  record Event(double at, String what, String members, String reason) {
  }

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("pgtide-autoscale-bench");
    OsUser.makeTraversable(dir);
    List<Event> events = new CopyOnWriteArrayList<>();
    try (LocalRunner runner = new LocalRunner(TestMachine.get(), resource(), dir, msg -> { })) {
      runner.up(0, 0, 0);
      String key = runner.clusterKey();
      io.pgtide.local.process.Waits.until("a replica serving reads", java.time.Duration.ofSeconds(120),
          () -> runner.core().state().view(key).healthyReplicas().size() == 1, () -> "");
      long t0 = System.currentTimeMillis();
      runner.core().vertx().eventBus().<JsonObject>consumer(Addresses.CLUSTER_EVENTS, m -> {
        String reason = m.body().getString("reason");
        if (reason.equals("ScaledUp") || reason.equals("ScaledDown")) {
          String[] msg = m.body().getString("message").split(" members: ", 2);
          events.add(new Event((System.currentTimeMillis() - t0) / 1000.0, reason, msg[0], msg.length > 1 ? msg[1] : ""));
        }
      });
      Vertx vertx = Vertx.vertx();
      RateLoad load = new RateLoad(vertx, runner.replicasPort(), runner.infra().cluster().secrets().superuserPassword());
      try {
        phase(runner, events, t0, "idle", 0, 20, load, false);
        double highStart = phase(runner, events, t0, "step up: " + (int) HIGH_QPS + " qps", HIGH_QPS, 100, load, false);
        double zeroStart = phase(runner, events, t0, "step down: 0 qps", 0, 80, load, false);
        double noisyStart = phase(runner, events, t0, "noisy square wave: 16 s period, " + (int) HIGH_QPS + "/200 qps ±25 %",
            HIGH_QPS, 150, load, true);
        double end = (System.currentTimeMillis() - t0) / 1000.0;
        Table timeline = new Table("Autoscaler decisions over time: 2 members (1 replica) at start, min 2, max 4, "
            + "target " + (int) TARGET_QPS + " qps/replica, window " + WINDOW_S + " s, cooldown up " + UP_COOLDOWN_S
            + " s / down " + DOWN_COOLDOWN_S + " s", "t s", "event", "members", "reason");
        events.stream().sorted(java.util.Comparator.comparingDouble(Event::at))
            .forEach(e -> timeline.row(e.at(), e.what(), e.members(), e.reason()));
        Table summary = new Table("Autoscaler reaction (load " + load.completed() + " queries, " + load.errors()
            + " errors)", "measure", "value", "target", "met");
        double up = first(events, "ScaledUp", highStart) - highStart;
        double down = first(events, "ScaledDown", zeroStart) - zeroStart;
        long noisy = events.stream().filter(e -> e.at() >= noisyStart + 1 && e.at() < end).count();
        double allowed = Math.floor((end - noisyStart) / UP_COOLDOWN_S);
        summary.row("reaction to the step up (s)", up, "≤ " + (WINDOW_S + UP_COOLDOWN_S), up <= WINDOW_S + UP_COOLDOWN_S);
        summary.row("reaction to the step down (s)", down, "≤ " + (WINDOW_S + DOWN_COOLDOWN_S),
            down <= WINDOW_S + DOWN_COOLDOWN_S);
        summary.row("scale events in the noisy phase (" + (int) (end - noisyStart) + " s)", (double) noisy,
            "≤ " + (int) allowed + " (1 per cooldown)", noisy <= allowed);
        String text = timeline.render() + "\n" + summary.render();
        System.out.println(text);
        Files.createDirectories(Path.of("bench", "results"));
        Files.writeString(Path.of("bench", "results", "autoscale.txt"), text);
      } finally {
        load.close();
        vertx.close().await();
      }
    }
  }

  /** Runs one phase; returns when it started (s since t0). A noisy phase flips high/low every 8 s with ±25 % jitter. */
  static double phase(LocalRunner runner, List<Event> events, long t0, String name, double qps, int seconds,
                      RateLoad load, boolean noisy)
      throws InterruptedException {
    double start = (System.currentTimeMillis() - t0) / 1000.0;
    events.add(new Event(start, "phase: " + name, "", ""));
    Random random = new Random(42);
    for (int s = 0; s < seconds; s += 2) {
      double level = noisy ? ((s / 8) % 2 == 0 ? qps : 200) : qps;
      load.rate(noisy ? level * (0.75 + random.nextDouble() * 0.5) : level);
      Thread.sleep(2_000);
      if (s % 4 == 0) {
        var decision = runner.autoscaler().status().getJsonObject("lastDecision");
        StringBuilder rates = new StringBuilder();
        runner.core().state().view(runner.clusterKey()).members().forEach((n, m) -> rates.append(' ').append(n).append('=')
            .append(m.report() == null ? "-" : String.format(java.util.Locale.ROOT, "%.0f", m.report().load().qps())));
        System.out.printf("[bench] %s +%d s: %d queries, %d errors, qps%s; %s%n", name, s, load.completed(),
            load.errors(), rates, decision == null ? "" : decision.getString("reason") + " / "
                + decision.getString("blockedBy"));
      }
    }
    return start;
  }

  static double first(List<Event> events, String what, double after) {
    return events.stream().filter(e -> e.what().equals(what) && e.at() >= after).mapToDouble(Event::at).min()
        .orElse(Double.NaN);
  }

  static PostgresCluster resource() {
    PostgresCluster c = new PostgresCluster();
    c.setMetadata(new ObjectMetaBuilder().withName("ab").withNamespace("default").build());
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.replicas = 2;
    spec.patroni.ttl = 10;
    spec.patroni.loopWait = 2;
    spec.patroni.retryTimeout = 4;
    PostgresClusterSpec.AutoscalingSpec a = spec.autoscaling;
    a.enabled = true;
    a.minReplicas = 2;
    a.maxReplicas = 4;
    a.targetQpsPerReplica = TARGET_QPS;
    a.window = WINDOW_S + "s";
    a.sampleInterval = "1s";
    a.scaleUpCooldown = UP_COOLDOWN_S + "s";
    a.scaleDownCooldown = DOWN_COOLDOWN_S + "s";
    c.setSpec(spec);
    return c;
  }

  /** SELECTs at a settable rate through a pool whose connections live 5 s, so new replicas get their share. */
  static final class RateLoad implements AutoCloseable {
    private final Vertx vertx;
    private final Pool pool;
    private final long timer;
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile double rate;
    volatile String lastError;
    private double owed;

    RateLoad(Vertx vertx, int port, String password) {
      this.vertx = vertx;
      pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(8).setMaxLifetime(5)
              .setMaxLifetimeUnit(TimeUnit.SECONDS).setMaxWaitQueueSize(2_000))
          .connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(port).setUser("postgres")
              .setPassword(password).setDatabase("postgres"))
          .using(vertx).build();
      timer = vertx.setPeriodic(20, t -> tick());
    }

    void rate(double qps) {
      rate = qps;
    }

    private void tick() {
      owed += rate / 50;
      while (owed >= 1) {
        owed -= 1;
        pool.query("SELECT 1").execute().onSuccess(r -> completed.incrementAndGet())
            .onFailure(e -> {
              errors.incrementAndGet();
              lastError = e.getMessage();
            });
      }
    }

    long completed() {
      return completed.get();
    }

    long errors() {
      return errors.get();
    }

    @Override
    public void close() {
      vertx.cancelTimer(timer);
      pool.close().await();
    }
  }
}
