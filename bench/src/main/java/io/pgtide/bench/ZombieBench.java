package io.pgtide.bench;

import io.pgtide.common.process.OsUser;
import io.pgtide.local.process.PatroniCluster;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.local.process.PatroniTiming;
import io.pgtide.common.process.Psql;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Patroni alone against a zombie primary (no operator): the primary's postmaster is frozen (SIGSTOP) on a
 * 3-member cluster; every few seconds we record who Patroni says leads and in what state, whether the zombie takes
 * new connections, and what {@code POST /switchover} answers. After {@code seconds} the postmaster is thawed.
 */
final class ZombieBench {
  private ZombieBench() {
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 120;
    boolean defaults = args.length > 1 && args[1].equals("defaults");
    PatroniTiming timing = defaults ? PatroniTiming.DEFAULTS : PatroniTiming.FAST;
    Path dir = Files.createTempDirectory("pgtide-zombie-bench");
    OsUser.makeTraversable(dir);
    try (PatroniCluster cluster = PatroniCluster.start(io.pgtide.testkit.TestMachine.get(), "zb", dir, 3, timing, Map.of())) {
      PatroniMember zombie = cluster.leader().orElseThrow();
      PatroniMember replica = cluster.members().stream().filter(m -> m != zombie).findFirst().orElseThrow();
      Table t = new Table("Patroni " + version() + " alone, zombie primary (postmaster SIGSTOP), 3 members, ttl "
          + timing.ttl() + " / loop_wait " + timing.loopWait() + " / retry_timeout " + timing.retryTimeout(),
          "t s", "leader (DCS)", "zombie's state", "new connection to the zombie", "POST /switchover");
      long t0 = System.currentTimeMillis();
      zombie.freeze();
      CompletableFuture<String> switchover = null;
      long switchoverAt = 0;
      for (int s = 0; s <= seconds; s += 10) {
        while (System.currentTimeMillis() - t0 < s * 1000L) {
          Thread.sleep(100);
        }
        if (s == 10) {
          switchoverAt = System.currentTimeMillis();
          long started = switchoverAt;
          switchover = CompletableFuture.supplyAsync(() -> {
            try {
              var a = replica.rest().post("/switchover", new JsonObject().put("leader", zombie.name())
                  .put("candidate", replica.name()), Duration.ofSeconds(seconds));
              return "answered " + a.status() + " after " + (System.currentTimeMillis() - started) / 1000 + " s: "
                  + a.body().strip();
            } catch (Exception e) {
              return "no answer after " + (System.currentTimeMillis() - started) / 1000 + " s (" + e.getClass()
                  .getSimpleName() + ")";
            }
          });
        }
        t.row(s, leader(cluster), state(cluster, zombie.name()), connects(cluster, zombie),
            switchover == null ? "-" : switchover.isDone() ? switchover.get() : "pending");
      }
      zombie.thaw();
      long thawed = System.currentTimeMillis();
      String after = switchover == null ? "-" : switchover.get();
      while (System.currentTimeMillis() - thawed < 60_000 && leader(cluster).equals(zombie.name())) {
        Thread.sleep(200);
      }
      t.row("thawed +" + (System.currentTimeMillis() - thawed) / 1000, leader(cluster), state(cluster, zombie.name()),
          connects(cluster, zombie), after);
      t.print("zombie-patroni" + (defaults ? "-defaults" : ""));
    }
  }

  static String version() {
    try {
      return new ProcessBuilder("patroni", "--version").redirectErrorStream(true).start().inputReader().readLine()
          .replace("patroni ", "");
    } catch (Exception e) {
      return "?";
    }
  }

  static String leader(PatroniCluster c) {
    return c.clusterView().map(v -> v.getJsonArray("members").stream().map(o -> (JsonObject) o)
        .filter(m -> "leader".equals(m.getString("role")) || "master".equals(m.getString("role")))
        .map(m -> m.getString("name")).findFirst().orElse("none")).orElse("?");
  }

  static String state(PatroniCluster c, String member) {
    return c.clusterView().map(v -> v.getJsonArray("members").stream().map(o -> (JsonObject) o)
        .filter(m -> member.equals(m.getString("name"))).map(m -> m.getString("role") + " " + m.getString("state"))
        .findFirst().orElse("not listed")).orElse("?");
  }

  static String connects(PatroniCluster c, PatroniMember m) {
    CompletableFuture<String> f = CompletableFuture.supplyAsync(() -> {
      try {
        Psql.query(m.pgPort(), "postgres", c.secrets().superuserPassword(), "postgres", "SELECT 1");
        return "yes";
      } catch (RuntimeException e) {
        return "fails";
      }
    });
    try {
      return f.get(3, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      f.cancel(true);
      return "hangs (> 3 s)";
    }
  }
}
