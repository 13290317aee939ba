package io.pgtide.operator.k8s.reconcile;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.cluster.ClusterKey;
import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus.Upgrade;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.k8s.api.Blocking;
import io.pgtide.operator.k8s.api.PodExec;
import io.pgtide.operator.k8s.api.StatusWriter;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.MajorUpgrade;
import io.pgtide.operator.k8s.model.UpgradeScripts;
import io.pgtide.operator.state.ClusterState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a major-version upgrade ({@link MajorUpgrade}) one step per call of the controllers' 5 s loop, so an
 * operator that takes over the lead follows the one under way from {@code status.upgrade}. It launches Spilo's own
 * {@code inplace_upgrade.py} on the primary through {@code pods/exec}, detached (its output and exit code go to files
 * in the member's PGROOT, on its volume), then reads those files at each call. The upgrade is written to the status
 * before it is launched; the failover coordinator holds the cluster while it runs (the primary stops on purpose).
 */
public final class MajorUpgrader {
  private static final Logger LOG = LoggerFactory.getLogger(MajorUpgrader.class);
  private static final Duration EXEC_TIMEOUT = Duration.ofSeconds(60);
  /** The recovery waits for pg_upgrade's servers to stop and the old major to take writes again. */
  private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(240);

  private final Vertx vertx;
  private final KubernetesClient client;
  private final PodExec exec;
  private final FailoverCoordinator failover;
  private final ClusterState state;
  private final ClusterEvents events;
  private final StatusWriter statusWriter;
  private final Runnable reconcile;
  /** How long the progress may be unreadable (the member's pod gone) before the upgrade is given up. */
  private static final long UNREADABLE_FOR_MS = 10 * 60_000;
  private volatile Upgrade current;
  private boolean busy;
  private long unreadableSince;

  /**
   * @param reconcile asks for a reconcile of the cluster now: after a success the StatefulSet takes the new major
   */
  public MajorUpgrader(Vertx vertx, KubernetesClient client, FailoverCoordinator failover, ClusterState state,
                       ClusterEvents events, StatusWriter statusWriter, Upgrade recorded, Runnable reconcile) {
    this.vertx = vertx;
    this.client = client;
    this.exec = new PodExec(client);
    this.failover = failover;
    this.state = state;
    this.events = events;
    this.statusWriter = statusWriter;
    this.current = recorded;
    this.reconcile = reconcile;
  }

  /** The upgrade as last written, null when none was ever asked for. */
  public Upgrade current() {
    return current;
  }

  /**
   * One step. Completes with true while an upgrade runs: nothing else may restart or move a member then.
   *
   * @param rollingDone no member waits for a restart of the rolling update (null: not known yet, so no upgrade
   *                    starts; one under way is followed)
   * @param standbys    the standby clusters following this one
   */
  public synchronized Future<Boolean> step(PostgresCluster cr, Boolean rollingDone, List<String> standbys) {
    if (busy) {
      return Future.succeededFuture(MajorUpgrade.UPGRADING.equals(phase()));
    }
    busy = true;
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    return Blocking.call(vertx, () -> decide(cr, ns, name, rollingDone, standbys))
        .eventually(() -> {
          synchronized (this) {
            busy = false;
          }
          return Future.succeededFuture();
        });
  }

  private String phase() {
    Upgrade u = current;
    return u == null ? null : u.phase;
  }

  /** Blocking: reads the StatefulSet and, while one runs, the upgrade's files. */
  private boolean decide(PostgresCluster cr, String ns, String name, Boolean rollingDone, List<String> standbys) {
    String key = ClusterKey.text(ns, name);
    Integer running = ClusterModel.postgresVersion(client.apps().statefulSets().inNamespace(ns).withName(name).get());
    int wanted = cr.getSpec().postgresVersion;
    Upgrade u = current;
    if (u != null && MajorUpgrade.UPGRADING.equals(u.phase)) {
      // one launched goes on whatever the spec says now: it cannot be taken back halfway
      failover.hold(key, true);
      return follow(key, ns, name, u);
    }
    if (running == null || wanted <= running || cr.getSpec().standby != null || rollingDone == null) {
      return false;
    }
    long generation = cr.getMetadata().getGeneration() == null ? 0 : cr.getMetadata().getGeneration();
    if (!MajorUpgrade.toLaunch(u, running, wanted, generation)) {
      return false;
    }
    String problem = MajorUpgrade.blocked(state.view(key), ClusterModel.members(cr), rollingDone, standbys,
        cr.getSpec().backup != null);
    String primary = problem == null ? state.view(key).primary().map(m -> m.id().member()).orElse(null) : null;
    if (problem == null) {
      try {
        var found = exec.sh(ns, primary, UpgradeScripts.preconditions(wanted), EXEC_TIMEOUT);
        String said = (found.out() + (found.ok() ? "" : found.err())).strip();
        if (!said.isEmpty() || !found.ok()) {
          problem = primary + ": " + (said.isEmpty() ? "the checks exited with " + found.exitCode()
              : String.join("; ", said.lines().toList()));
        }
      } catch (RuntimeException e) {
        problem = "cannot run a command in " + primary + " (pods/exec): " + rootCause(e);
      }
    }
    if (problem != null) {
      if (u == null || !MajorUpgrade.same(u, running, wanted) || !MajorUpgrade.BLOCKED.equals(u.phase)
          || !problem.equals(u.message)) {
        Upgrade blocked = fresh(running, wanted, generation);
        blocked.phase = MajorUpgrade.BLOCKED;
        blocked.step = "preconditions";
        blocked.message = problem;
        write(ns, name, blocked);
        events.emit(key, "Warning", "UpgradeBlocked", running + " -> " + wanted + " waits: " + problem);
      }
      return false;
    }
    Upgrade launching = fresh(running, wanted, generation);
    launching.phase = MajorUpgrade.UPGRADING;
    launching.step = "launched";
    launching.member = primary;
    launching.id = Long.toString(Instant.now().getEpochSecond(), 36);
    launching.startedAt = Instant.now().toString();
    launching.message = "Spilo's inplace_upgrade.py runs on " + primary;
    // the intent first: an operator that takes over follows it from the status, never launches a second one
    write(ns, name, launching);
    failover.hold(key, true);
    var launched = exec.sh(ns, primary, UpgradeScripts.launch(launching, ClusterModel.members(cr)), EXEC_TIMEOUT);
    if (!launched.ok()) {
      failover.hold(key, false);
      return finish(key, ns, name, launching, MajorUpgrade.FAILED, "could not launch the upgrade on " + primary + ": "
          + (launched.err() + launched.out()).strip(), null);
    }
    events.emit(key, "Normal", "UpgradeStarted", "PostgreSQL " + running + " -> " + wanted + " on " + primary
        + " (Spilo's inplace_upgrade.py)");
    ClusterLog.of(LOG, key).info("major upgrade {} -> {} launched on {}", running, wanted, primary);
    return true;
  }

  /** Reads how far the upgrade got; ends it when Spilo's script has exited or is gone. */
  private boolean follow(String key, String ns, String name, Upgrade u) {
    UpgradeScripts.Progress p;
    try {
      p = UpgradeScripts.progress(exec.sh(ns, u.member, UpgradeScripts.poll(u), EXEC_TIMEOUT).out());
    } catch (RuntimeException e) {
      // the pod is restarting, or the API server is briefly away: the next call reads again; a member gone for
      // good (its node lost) must not hold the cluster's failover forever
      long now = System.currentTimeMillis();
      if (unreadableSince == 0) {
        unreadableSince = now;
      }
      if (now - unreadableSince < UNREADABLE_FOR_MS) {
        ClusterLog.of(LOG, key).info("upgrade progress not readable now: {}", e.getMessage());
        return true;
      }
      unreadableSince = 0;
      return finish(key, ns, name, u, MajorUpgrade.FAILED, "the upgrade's progress on " + u.member
          + " was not readable for " + UNREADABLE_FOR_MS / 60_000 + " min (" + rootCause(e) + "); the cluster is "
          + "no longer held for it: check PG_VERSION on " + u.member + " before raising postgresVersion again", null);
    }
    unreadableSince = 0;
    String step = MajorUpgrade.step(p.log());
    if (!step.equals(u.step)) {
      Upgrade next = copy(u);
      next.step = step;
      next.downtimeSeconds = MajorUpgrade.downtimeSeconds(p.log());
      write(ns, name, next);
      events.emit(key, "Normal", "UpgradeStep", u.from + " -> " + u.to + ": " + step);
      u = next;
    }
    if (p.running()) {
      return true;
    }
    String error = MajorUpgrade.lastError(p.log());
    if (p.exitCode() != null && p.exitCode() == 0 && String.valueOf(u.to).equals(p.dataVersion())) {
      return finish(key, ns, name, u, MajorUpgrade.SUCCEEDED, "PostgreSQL " + u.to + " runs on the upgraded data",
          MajorUpgrade.downtimeSeconds(p.log()));
    }
    String how = p.exitCode() == null ? "Spilo's upgrade script is gone without an exit code (killed, or its pod "
        + "restarted)" : p.exitCode() > 128 ? "Spilo's upgrade script was killed (signal " + (p.exitCode() - 128) + ")"
        : "Spilo's upgrade script exited with " + p.exitCode();
    if (String.valueOf(u.to).equals(p.dataVersion())) {
      // past its point of no return: the primary's data is the new major's; the replicas are made again from it
      String reinit = exec.sh(ns, u.member, UpgradeScripts.afterPointOfNoReturn(u, name), EXEC_TIMEOUT).out().strip();
      return finish(key, ns, name, u, MajorUpgrade.SUCCEEDED, how + " after its point of no return"
          + (error == null ? "" : " (" + error + ")") + "; the primary runs PostgreSQL " + u.to + "; " + reinit,
          MajorUpgrade.downtimeSeconds(p.log()));
    }
    // still the old major's data: put back what Spilo's own cleanup would have, and run on it
    var recovered = exec.sh(ns, u.member, UpgradeScripts.recover(u), RECOVERY_TIMEOUT);
    return finish(key, ns, name, u, MajorUpgrade.FAILED, how + (error == null ? "" : ": " + error)
        + "; the cluster runs PostgreSQL " + u.from + " on its data" + (recovered.ok()
        && recovered.out().strip().equals("recovered") ? "" : " (recovery: " + (recovered.err() + recovered.out())
        .strip() + ")"), null);
  }

  private boolean finish(String key, String ns, String name, Upgrade u, String phase, String message,
                         Double downtime) {
    Upgrade done = copy(u);
    done.phase = phase;
    done.message = message;
    done.finishedAt = Instant.now().toString();
    done.downtimeSeconds = downtime != null ? downtime : u.downtimeSeconds;
    if (MajorUpgrade.SUCCEEDED.equals(phase)) {
      done.step = "done";
    }
    write(ns, name, done);
    failover.hold(key, false);
    boolean ok = MajorUpgrade.SUCCEEDED.equals(phase);
    events.emit(key, ok ? "Normal" : "Warning", ok ? "UpgradeSucceeded" : "UpgradeFailed",
        u.from + " -> " + u.to + ": " + message + (done.downtimeSeconds == null ? ""
            : " (downtime " + done.downtimeSeconds + " s)"));
    ClusterLog.of(LOG, key).info("major upgrade {} -> {} {}: {}", u.from, u.to, phase.toLowerCase(), message);
    if (ok) {
      reconcile.run(); // the StatefulSet takes the new PGVERSION; the rolling update restarts the members
    }
    return false;
  }

  /** Writes {@code u} as status.upgrade (blocking) and keeps it as the current one. */
  private void write(String ns, String name, Upgrade u) {
    current = u;
    statusWriter.cluster(ns, name, fresh -> {
      fresh.upgrade = u;
      return fresh;
    }).toCompletionStage().toCompletableFuture().join();
  }

  /** The innermost message: fabric8's own ("An error has occurred.") hides an RBAC refusal's 403. */
  private static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  private static Upgrade fresh(int from, int to, long generation) {
    Upgrade u = new Upgrade();
    u.from = from;
    u.to = to;
    u.generation = generation;
    return u;
  }

  private static Upgrade copy(Upgrade u) {
    return io.fabric8.kubernetes.client.utils.Serialization.clone(u);
  }
}
