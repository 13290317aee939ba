package io.pgtide.cli.local;

import io.pgtide.common.cluster.ClusterKey;
import io.pgtide.common.contract.MemberId;
import io.pgtide.local.process.JavaCommand;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.local.process.PatroniCluster;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.local.process.LocalMachine;
import io.pgtide.local.process.Waits;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.operator.infra.Infrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Local mode's side of the {@link Infrastructure} port: a real Patroni cluster, one sidecar JVM per member (as in a
 * pod), and two TCP proxies standing in for the primary and replicas Services. Blocking process work runs on
 * worker threads.
 */
public final class LocalInfrastructure implements Infrastructure {
  private final Vertx vertx;
  private final String namespace;
  private final PatroniCluster cluster;
  private final CertificateAuthority ca;
  private final int bridgePort;
  /** Set before the first sidecar starts (LocalRunner), read on the launcher thread. */
  private volatile List<String> customQueries = List.of();
  private final Path dir;
  private final Map<String, ManagedProcess> sidecars = new ConcurrentHashMap<>();
  private final Map<String, Integer> sidecarHttpPorts = new ConcurrentHashMap<>();
  private volatile Integer primaryPort;
  private volatile List<Integer> replicaPorts = List.of();
  private Consumer<String> progress = s -> { };
  /** Restart back-off per process ("patroni-<member>", "sidecar-<member>"). */
  private final Map<String, RestartBackoff> backoffs = new ConcurrentHashMap<>();
  /** Members down on purpose (being fenced or removed): the supervisor leaves them alone. */
  private final java.util.Set<String> heldDown = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.AtomicBoolean supervising = new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean closing;
  private long supervisorTimer = -1;

  private final LocalMachine machine;

  /** The custom queries files every sidecar runs (monitoring.customQueries' paths, absolute). */
  public void customQueries(List<String> files) {
    this.customQueries = List.copyOf(files);
  }

  public LocalInfrastructure(Vertx vertx, LocalMachine machine, String namespace, PatroniCluster cluster,
                             CertificateAuthority ca, int bridgePort) {
    this.vertx = vertx;
    this.machine = machine;
    this.namespace = namespace;
    this.cluster = cluster;
    this.ca = ca;
    this.bridgePort = bridgePort;
    this.dir = cluster.dir();
  }

  public void progress(Consumer<String> progress) {
    this.progress = progress;
  }

  public String clusterKey() {
    return ClusterKey.text(namespace, cluster.scope());
  }

  public PatroniCluster cluster() {
    return cluster;
  }

  public List<Integer> primaryTargets() {
    Integer p = primaryPort;
    return p == null ? List.of() : List.of(p);
  }

  public List<Integer> replicaTargets() {
    return replicaPorts;
  }

  public Map<String, Integer> sidecarHttpPorts() {
    return sidecarHttpPorts;
  }

  /** Starts one sidecar process per member (blocking). */
  public void startSidecars() {
    for (PatroniMember m : cluster.members()) {
      startSidecar(m);
    }
  }

  public synchronized void startSidecar(PatroniMember m) {
    ManagedProcess old = sidecars.get(m.name());
    if (old != null && old.isAlive()) {
      return;
    }
    MemberId id = new MemberId(namespace, cluster.scope(), m.name());
    Path tls = ca.issue(id.toString(), List.of(), Duration.ofDays(365)).write(dir.resolve("tls").resolve(m.name()));
    Path pw = dir.resolve("secrets").resolve("superuser.password");
    io.pgtide.common.secrets.PrivateFiles.write(pw, cluster.secrets().superuserPassword());
    int http = sidecarHttpPorts.computeIfAbsent(m.name(), n -> machine.freePort());
    List<String> cmd = JavaCommand.of(io.pgtide.sidecar.SidecarMain.JVM_FLAGS, "io.pgtide.sidecar.SidecarMain");
    Map<String, String> env = new java.util.HashMap<>(Map.ofEntries(
        Map.entry("PGTIDE_NAMESPACE", namespace), Map.entry("PGTIDE_CLUSTER", cluster.scope()),
        Map.entry("PGTIDE_MEMBER", m.name()), Map.entry("PGTIDE_PG_HOST", "127.0.0.1"),
        Map.entry("PGTIDE_PG_PORT", Integer.toString(m.pgPort())),
        Map.entry("PGTIDE_PG_USER", cluster.secrets().superuser()),
        Map.entry("PGTIDE_PG_PASSWORD_FILE", pw.toString()),
        Map.entry("PGTIDE_PATRONI_URL", "http://127.0.0.1:" + m.restPort()),
        // Patroni's REST API takes changes only with these (loopback is every local user's)
        Map.entry("PGTIDE_PATRONI_USER", cluster.restCredentials().username()),
        Map.entry("PGTIDE_PATRONI_PASSWORD_FILE", cluster.restPasswordFile().toString()),
        Map.entry("PGTIDE_OPERATOR_HOST", "127.0.0.1"), Map.entry("PGTIDE_OPERATOR_PORT", Integer.toString(bridgePort)),
        Map.entry("PGTIDE_TLS_DIR", tls.toString()), Map.entry("PGTIDE_HTTP_PORT", Integer.toString(http)),
        // every member shares this machine's cgroup: measure each one's own PostgreSQL processes instead
        Map.entry("PGTIDE_RESOURCES", "process-tree"),
        // what `pgtide logs` shows: this member's csvlog and its Patroni's output
        Map.entry("PGTIDE_PG_LOG_DIR", PatroniMember.postgresLogDir(dir, m.name()).toString()),
        Map.entry("PGTIDE_PATRONI_LOG", PatroniMember.patroniLog(dir, m.name()).toString())));
    if (!customQueries.isEmpty()) {
      // the sidecar re-reads them when they change: an edit of a queries file needs no restart
      env.put(io.pgtide.common.contract.CustomQueries.ENV, io.pgtide.common.contract.CustomQueries.env(customQueries));
    }
    sidecars.put(m.name(), machine.start("sidecar-" + m.name(), cmd, env, dir,
        dir.resolve("logs").resolve("sidecar-" + m.name() + ".log")));
  }

  @Override
  public Future<Void> pointPrimary(String clusterKey, String member) {
    PatroniMember m = cluster.member(member);
    primaryPort = m.pgPort();
    progress.accept("primary endpoint -> " + member);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> pointReplicas(String clusterKey, List<String> members) {
    List<Integer> ports = new ArrayList<>();
    for (String name : members) {
      ports.add(cluster.member(name).pgPort());
    }
    replicaPorts = List.copyOf(ports);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> fence(String clusterKey, String member) {
    heldDown.add(member);
    return vertx.<Void>executeBlocking(() -> {
      PatroniMember m = cluster.member(member);
      // SIGKILL of both at once, not a graceful Patroni stop: Patroni 3.0.2 busy with a frozen postmaster does not
      // act on SIGTERM for seconds, restarts PostgreSQL meanwhile and would be killed in the middle of a pg_rewind
      progress.accept("fencing " + member + " (SIGKILL of Patroni and postmaster); it restarts once another "
          + "member leads");
      m.killHard();
      // Its Patroni is dead and cannot release the leader key, so the others would wait out the key's ttl: release
      // it for it (compare-and-delete: only while it still names this member), as a clean Patroni stop would.
      // Patroni still elects; the replicas watch the key and hold the election at once.
      if (cluster.etcd().releaseLeaderKey(cluster.scope(), member)) {
        progress.accept("released " + member + "'s leader key; Patroni elects among the others now");
      }
      // Restarted at once, its Patroni would find its own leader key still valid and resume as primary; like a
      // pod whose node is gone, it comes back only after the others elected a leader, and then rejoins as a replica.
      Duration wait = Duration.ofSeconds(3L * cluster.timing().ttl() + 30);
      try {
        Waits.until("a leader other than " + member, wait,
            () -> cluster.leader().map(l -> !l.name().equals(member)).orElse(false), () -> "");
      } catch (IllegalStateException e) {
        progress.accept("no other member took the lead within " + wait.toSeconds() + " s; restarting " + member);
      }
      m.start();
      return null;
    }, false).eventually(() -> {
      heldDown.remove(member);
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<Boolean> releaseIfDead(String clusterKey, String member) {
    return vertx.executeBlocking(() -> {
      PatroniMember m = cluster.member(member);
      // both PIDs are this process's to know: Patroni is our child, the postmaster's PID is in postmaster.pid and
      // checked alive (a live Patroni would restart its postmaster, a live postmaster still serves)
      if (m == null || m.patroniAlive() || m.postmasterPid().isPresent()) {
        return false;
      }
      boolean released = cluster.etcd().releaseLeaderKey(cluster.scope(), member);
      if (released) {
        progress.accept(member + "'s Patroni and postmaster are gone; released its leader key so Patroni elects now");
      }
      return released;
    }, false);
  }

  /**
   * Members down on purpose until {@link #release} (a major upgrade stops them all): the supervisor does not restart
   * them meanwhile.
   */
  public void holdDown(java.util.Collection<String> members) {
    heldDown.addAll(members);
  }

  public void release(java.util.Collection<String> members) {
    heldDown.removeAll(members);
  }

  private volatile boolean deleteRemovedData;

  /** {@code autoscaling.removedMemberStorage: Delete}: a member removed by scale-down loses its data directory. */
  public void deleteRemovedData(boolean delete) {
    this.deleteRemovedData = delete;
  }

  @Override
  public Future<Void> scale(String clusterKey, int members) {
    return vertx.executeBlocking(() -> {
      while (cluster.members().size() < members) {
        PatroniMember added = cluster.addMember();
        progress.accept("bootstrapping member " + added.name() + " (" + cluster.members().size() + "/" + members + ")");
        startSidecar(added);
      }
      while (cluster.members().size() > members) {
        List<PatroniMember> all = cluster.members();
        PatroniMember last = all.get(all.size() - 1);
        progress.accept("removing member " + last.name());
        heldDown.add(last.name());
        ManagedProcess sidecar = sidecars.remove(last.name());
        if (sidecar != null) {
          sidecar.stop(Duration.ofSeconds(10));
        }
        cluster.removeMember(last.name(), deleteRemovedData);
        heldDown.remove(last.name());
        backoffs.remove("patroni-" + last.name());
        backoffs.remove("sidecar-" + last.name());
      }
      return null;
    }, false);
  }

  @Override
  public Future<List<String>> members(String clusterKey) {
    return Future.succeededFuture(cluster.members().stream().map(PatroniMember::name).toList());
  }

  /**
   * Restarts what died on its own, as a kubelet would: a member's Patroni (which starts its PostgreSQL and rejoins
   * as a replica, with pg_rewind when needed) and its sidecar, with {@link RestartBackoff}. A dead member's Patroni
   * comes back only once another member leads (or when no Patroni runs at all): restarted earlier it would still
   * find its own leader key and carry on as the primary the others are about to replace.
   */
  public void superviseMembers() {
    supervisorTimer = vertx.setPeriodic(1_000, t -> {
      if (closing || !supervising.compareAndSet(false, true)) {
        return;
      }
      try {
        vertx.executeBlocking(() -> {
          superviseOnce(System.currentTimeMillis());
          return null;
        }, false).onComplete(ar -> {
          supervising.set(false);
          if (ar.failed()) {
            progress.accept("member supervision failed: " + ar.cause().getMessage());
          }
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // the worker pool is shutting down (a tick raced close()): nothing runs, so nothing is in flight; left set,
        // the flag made close() wait its full minute and fail (it failed a CI run)
        supervising.set(false);
      }
    });
  }

  /** Restarts per process so far ("patroni-<member>", "sidecar-<member>"). */
  public Map<String, Integer> restarts() {
    Map<String, Integer> out = new java.util.TreeMap<>();
    backoffs.forEach((k, b) -> out.put(k, b.restarts()));
    return out;
  }

  private void superviseOnce(long now) {
    List<PatroniMember> all = cluster.members();
    boolean anyPatroni = all.stream().anyMatch(PatroniMember::patroniAlive);
    java.util.Optional<PatroniMember> leader = null;
    for (PatroniMember m : all) {
      if (closing || heldDown.contains(m.name())) {
        continue;
      }
      RestartBackoff patroni = backoffs.computeIfAbsent("patroni-" + m.name(), k -> new RestartBackoff());
      if (m.patroniAlive()) {
        patroni.running(now);
      } else {
        if (patroni.dead(now)) {
          progress.accept(m.name() + "'s Patroni is not running; restart " + (patroni.waitMs(now) == 0
              ? "once another member leads" : "in " + patroni.waitMs(now) / 1000 + " s (back-off)"));
        }
        if (patroni.due(now)) {
          if (anyPatroni && leader == null) {
            leader = cluster.leader();
          }
          if (!anyPatroni || leader.map(l -> !l.name().equals(m.name())).orElse(false)) {
            m.start();
            patroni.restarted(now);
            progress.accept("restarted " + m.name() + "'s Patroni (restart " + patroni.restarts() + ")");
          }
        }
      }
      ManagedProcess sc = sidecars.get(m.name());
      RestartBackoff sidecar = backoffs.computeIfAbsent("sidecar-" + m.name(), k -> new RestartBackoff());
      if (sc != null && sc.isAlive()) {
        sidecar.running(now);
      } else if (sc != null) {
        if (sidecar.dead(now)) {
          progress.accept("the sidecar of " + m.name() + " is not running; restart in "
              + sidecar.waitMs(now) / 1000 + " s");
        }
        if (sidecar.due(now)) {
          startSidecar(m);
          sidecar.restarted(now);
        }
      }
    }
  }

  /** Stops sidecars, then the Patroni cluster and etcd (blocking). */
  public void close() {
    closing = true;
    if (supervisorTimer >= 0) {
      vertx.cancelTimer(supervisorTimer);
    }
    // a round in flight may be starting a process: let it finish before everything is stopped
    Waits.until("member supervision to finish", Duration.ofSeconds(60), () -> !supervising.get(), () -> "");
    sidecars.values().forEach(p -> p.stop(Duration.ofSeconds(10)));
    sidecars.clear();
    cluster.close();
  }
}
