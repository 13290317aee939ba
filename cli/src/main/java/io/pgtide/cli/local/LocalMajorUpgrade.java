package io.pgtide.cli.local;

import io.pgtide.common.process.OsUser;
import io.pgtide.local.process.LocalMachine;
import io.pgtide.local.process.PatroniCluster;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.local.process.Signal;
import io.pgtide.local.process.Signals;
import io.pgtide.local.process.Waits;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.k8s.model.MajorUpgrade;
import io.pgtide.operator.state.ClusterView;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Local mode's in-place major upgrade of a running cluster, as Spilo's {@code inplace_upgrade.py} does it in a pod,
 * with pgtide's own steps: checked first (the same preconditions as on Kubernetes, the new major's programs, the
 * disk, {@code pg_upgrade --check} against the live primary), then the replicas and the primary stopped cleanly,
 * {@code pg_upgrade} in copy mode into a new directory, the directories swapped (the point of no return), Patroni's
 * recorded system identifier replaced, every member's Patroni pointed at the new programs, the primary started and
 * the replicas cloned from it again, statistics rebuilt. Until the swap the old directory is untouched: a failure
 * there starts the old cluster again as it was. The state is written to {@code upgrade.json} before each step.
 * Blocking: run it on a worker thread.
 */
final class LocalMajorUpgrade {
  static final String FILE = "upgrade.json";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  private final LocalMachine machine;
  private final PatroniCluster cluster;
  private final LocalInfrastructure infra;
  private final FailoverCoordinator failover;
  private final ClusterEvents events;
  private final String key;
  private final Consumer<String> progress;
  private final JsonObject status = new JsonObject();

  LocalMajorUpgrade(LocalMachine machine, PatroniCluster cluster, LocalInfrastructure infra,
                    FailoverCoordinator failover, ClusterEvents events, String key, Consumer<String> progress) {
    this.machine = machine;
    this.cluster = cluster;
    this.infra = infra;
    this.failover = failover;
    this.events = events;
    this.key = key;
    this.progress = progress;
  }

  /** Where it stands: phase, from, to, step, the steps with their times, downtime, error. A copy. */
  synchronized JsonObject status() {
    return status.copy();
  }

  /**
   * Upgrades from {@code from} (the programs the cluster runs) to {@code to}, whose programs are in {@code newBinDir}.
   * {@code blocked} is what the operator's view says stops it (null: nothing). Returns the final status.
   */
  JsonObject run(int from, int to, String newBinDir, String blocked) {
    begin(from, to);
    String oldBinDir = cluster.binDir();
    String refusal = blocked != null ? blocked : io.pgtide.common.process.PgBin.missing(newBinDir, to);
    PatroniMember primary = refusal == null ? cluster.leader().orElse(null) : null;
    if (refusal == null && primary == null) {
      refusal = "no running Patroni leader";
    }
    if (refusal == null) {
      refusal = diskShort(primary);
    }
    if (refusal != null) {
      return finish(MajorUpgrade.BLOCKED, "not started: " + refusal);
    }
    List<PatroniMember> replicas = cluster.members().stream().filter(m -> m != primary).toList();
    Path work = OsUser.ownedDirectory(primary.dir().resolve("upgrade"), true);
    Path newData = primary.dir().resolve("data." + to);
    OsUser.deleteTree(newData);
    try {
      step("check");
      initdb(primary, oldBinDir, newBinDir, newData, work);
      pgUpgrade(primary, oldBinDir, newBinDir, newData, work, true);
    } catch (RuntimeException e) {
      OsUser.deleteTree(newData);
      return finish(MajorUpgrade.FAILED, "pg_upgrade --check refused it; the cluster runs on " + from
          + ", untouched: " + e.getMessage());
    }
    List<String> names = cluster.members().stream().map(PatroniMember::name).toList();
    failover.hold(key, true);
    infra.holdDown(names);
    long stoppedAt = 0;
    try {
      step("stopping");
      // replicas first: a replica whose Patroni runs while the primary stops takes the lead
      replicas.forEach(PatroniMember::stopSoft);
      stoppedAt = System.currentTimeMillis();
      primary.stopSoft();
      awaitStopped(primary);
      step("pgUpgrade");
      pgUpgrade(primary, oldBinDir, newBinDir, newData, work, false);
    } catch (RuntimeException e) {
      progress.accept("upgrade of " + key + " failed before its point of no return: " + e.getMessage()
          + "; starting it again on " + from);
      // pg_upgrade starts each cluster's server itself (the old one in binary-upgrade mode): one it left running
      // must not be what Patroni finds and adopts
      stopLeftover(primary.dataDir());
      stopLeftover(newData);
      OsUser.deleteTree(newData);
      String back = restartAsItWas(primary, replicas);
      failover.hold(key, false);
      infra.release(names);
      return finish(MajorUpgrade.FAILED, "failed before the data directories were swapped, " + back + ": "
          + e.getMessage());
    }
    try {
      step("switched");
      String oldId = systemIdentifier(oldBinDir, primary.dataDir(), work);
      String newId = systemIdentifier(newBinDir, newData, work);
      moveAside(primary.dataDir(), from);
      Files.move(newData, primary.dataDir(), StandardCopyOption.ATOMIC_MOVE);
      for (PatroniMember r : replicas) {
        moveAside(r.dataDir(), from); // cloned again from the upgraded primary
      }
      if (!cluster.etcd().replaceSystemIdentifier(cluster.scope(), oldId, newId)) {
        throw new IllegalStateException("Patroni's recorded system identifier was not " + oldId);
      }
      cluster.switchBinDir(newBinDir);
      step("starting");
      PatroniMember upgraded = cluster.member(primary.name());
      upgraded.start();
      cluster.awaitLeader(START_TIMEOUT);
      double downtime = Math.round((System.currentTimeMillis() - stoppedAt) / 100.0) / 10.0;
      synchronized (this) {
        status.put("downtimeSeconds", downtime);
      }
      progress.accept(key + " runs on " + to + " after " + downtime + " s of downtime; cloning the replicas");
      step("replicasCloning");
      infra.release(names);
      failover.hold(key, false);
      replicas.forEach(r -> cluster.member(r.name()).start());
      cluster.awaitReady(START_TIMEOUT.multipliedBy(2));
      step("analyzing");
      analyze(upgraded, newBinDir, work);
      for (PatroniMember m : cluster.members()) {
        OsUser.deleteTree(m.dir().resolve("data." + from + ".old"));
      }
      OsUser.deleteTree(work);
      return finish(MajorUpgrade.SUCCEEDED, null);
    } catch (IOException | RuntimeException e) {
      infra.release(names);
      failover.hold(key, false);
      return finish(MajorUpgrade.FAILED, "failed after the data directories were swapped (the " + from + " data is "
          + "in each member's data." + from + ".old): " + e.getMessage());
    }
  }

  /** Records the upgrade as started: called before {@link #run} is handed to a worker, so no reader sees none. */
  synchronized void begin(int from, int to) {
    if (!(MajorUpgrade.UPGRADING.equals(status.getString("phase")) && status.getInteger("from") == from
        && status.getInteger("to") == to)) {
      status.clear();
      status.put("from", from).put("to", to).put("phase", MajorUpgrade.UPGRADING).put("steps", new JsonArray());
    }
  }

  /** A copy of the primary's data needs its size again on the same file system (with a tenth to spare). */
  private static String diskShort(PatroniMember primary) {
    try (Stream<Path> files = Files.walk(primary.dataDir())) {
      long size = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
      long free = Files.getFileStore(primary.dir()).getUsableSpace();
      return free > size + size / 10 ? null : "pg_upgrade copies the data (" + size / (1 << 20) + " MiB) and "
          + primary.dir() + " has " + free / (1 << 20) + " MiB free";
    } catch (IOException | UncheckedIOException e) {
      return "cannot measure " + primary.dataDir() + ": " + e.getMessage();
    }
  }

  /** The new major's data directory with the old one's superuser, encoding, locale and checksums. */
  private void initdb(PatroniMember primary, String oldBin, String newBin, Path newData, Path work) {
    String[] t0 = sql(primary, oldBin, work, "SELECT pg_encoding_to_char(encoding), datcollate, datctype, "
        + "current_setting('data_checksums') FROM pg_database WHERE datname = 'template0'").strip().split("\\|");
    List<String> cmd = new ArrayList<>(List.of(newBin + "/initdb", "-D", newData.toString(), "-U",
        cluster.secrets().superuser(), "--encoding=" + t0[0], "--lc-collate=" + t0[1], "--lc-ctype=" + t0[2],
        "--auth=trust"));
    if ("on".equals(t0[3])) {
      cmd.add("--data-checksums");
    }
    run(cmd, work, Duration.ofMinutes(5));
  }

  private void pgUpgrade(PatroniMember primary, String oldBin, String newBin, Path newData, Path work,
                         boolean check) {
    List<String> cmd = new ArrayList<>(List.of(newBin + "/pg_upgrade", "-b", oldBin, "-B", newBin,
        "-d", primary.dataDir().toString(), "-D", newData.toString(), "-U", cluster.secrets().superuser(),
        "-s", primary.dir().toString(), "-p", Integer.toString(primary.pgPort()),
        "-P", Integer.toString(machine.freePort()), "--copy"));
    if (check) {
      cmd.add("--check");
    }
    run(cmd, work, Duration.ofMinutes(30));
  }

  private String systemIdentifier(String bin, Path data, Path work) {
    return run(List.of(bin + "/pg_controldata", "-D", data.toString()), work, Duration.ofMinutes(1)).lines()
        .filter(l -> l.startsWith("Database system identifier:")).map(l -> l.substring(l.indexOf(':') + 1).strip())
        .findFirst().orElseThrow(() -> new IllegalStateException("pg_controldata of " + data + " names no identifier"));
  }

  private static void moveAside(Path data, int from) throws IOException {
    Path aside = data.resolveSibling("data." + from + ".old");
    OsUser.deleteTree(aside);
    if (Files.exists(data)) {
      Files.move(data, aside, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /** Statistics for the planner (pg_upgrade carries none), and the extensions' updates pg_upgrade wrote out. */
  private void analyze(PatroniMember primary, String newBin, Path work) {
    run(List.of(newBin + "/vacuumdb", "--all", "--analyze-in-stages", "-h", primary.dir().toString(), "-p",
        Integer.toString(primary.pgPort()), "-U", cluster.secrets().superuser()), work, Duration.ofMinutes(30));
    Path updates = work.resolve("update_extensions.sql");
    if (Files.exists(updates)) {
      run(List.of(newBin + "/psql", "-X", "-v", "ON_ERROR_STOP=0", "-h", primary.dir().toString(), "-p",
          Integer.toString(primary.pgPort()), "-U", cluster.secrets().superuser(), "-d", "postgres", "-f",
          updates.toString()), work, Duration.ofMinutes(5));
    }
  }

  private String sql(PatroniMember m, String bin, Path work, String query) {
    return run(List.of(bin + "/psql", "-X", "-At", "-h", m.dir().toString(), "-p", Integer.toString(m.pgPort()),
        "-U", cluster.secrets().superuser(), "-d", "postgres", "-c", query), work, Duration.ofMinutes(1));
  }

  private static void awaitStopped(PatroniMember m) {
    Waits.until(m.name() + "'s postmaster to stop", Duration.ofSeconds(90), () -> m.postmasterPid().isEmpty(),
        () -> m.logTail(10));
  }

  /** Stops (fast, then SIGKILL) a postmaster that {@code data}'s postmaster.pid names and that still runs. */
  private static void stopLeftover(Path data) {
    long pid;
    try {
      pid = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).strip());
    } catch (IOException | RuntimeException e) {
      return; // no server ran there
    }
    if (!Signals.alive(pid)) {
      return;
    }
    Signals.send(pid, Signal.INT);
    try {
      Waits.until("the postmaster pg_upgrade left on " + data + " to stop", Duration.ofSeconds(30),
          () -> !Signals.alive(pid), () -> "");
    } catch (IllegalStateException e) {
      Signals.send(pid, Signal.KILL);
    }
  }

  /** Before the swap nothing of the old cluster changed: its members start again, the primary first. */
  private String restartAsItWas(PatroniMember primary, List<PatroniMember> replicas) {
    try {
      primary.start();
      cluster.awaitLeader(START_TIMEOUT);
      replicas.forEach(PatroniMember::start);
      cluster.awaitReady(START_TIMEOUT);
      return "back on its old major with its data";
    } catch (RuntimeException e) {
      return "and did not come back on its old major within " + START_TIMEOUT.toSeconds() + " s (" + e.getMessage()
          + ")";
    }
  }

  /** A program as the postgres user in {@code work}; its output, or the failure with the output's tail. */
  private static String run(List<String> command, Path work, Duration timeout) {
    Path log = work.resolve("commands.log");
    try {
      Path out = Files.createTempFile(work, "out", ".log");
      Process p = new ProcessBuilder(OsUser.asPostgres(command)).directory(work.toFile()).redirectErrorStream(true)
          .redirectOutput(out.toFile()).start();
      boolean done = p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS);
      if (!done) {
        p.destroyForcibly().waitFor();
      }
      String text = Files.readString(out);
      Files.delete(out);
      Files.writeString(log, "$ " + String.join(" ", command) + "\n" + text, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      if (!done || p.exitValue() != 0) {
        String tail = text.lines().skip(Math.max(0, text.lines().count() - 6)).reduce((a, b) -> a + " / " + b)
            .orElse("");
        throw new IllegalStateException(Path.of(command.get(0)).getFileName() + (done ? " exited " + p.exitValue()
            : " did not finish within " + timeout.toSeconds() + " s") + ": " + tail);
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private void step(String name) {
    synchronized (this) {
      status.put("step", name);
      status.getJsonArray("steps").add(new JsonObject().put("step", name).put("at", Instant.now().toString()));
      save();
    }
    progress.accept("upgrade of " + key + " " + status.getInteger("from") + " -> " + status.getInteger("to") + ": "
        + name);
  }

  private JsonObject finish(String phase, String error) {
    synchronized (this) {
      status.put("phase", phase).put("error", error);
      save();
    }
    String what = status.getInteger("from") + " -> " + status.getInteger("to");
    if (MajorUpgrade.SUCCEEDED.equals(phase)) {
      events.emit(key, "Normal", "UpgradeSucceeded", what + ", downtime " + status.getDouble("downtimeSeconds")
          + " s");
    } else {
      events.emit(key, "Warning", "Upgrade" + phase, what + ": " + error);
    }
    return status();
  }

  /** The intent and each step on disk before it happens, as on Kubernetes in the resource's status. */
  private void save() {
    try {
      Files.writeString(cluster.dir().resolve(FILE), status.encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What {@code upgrade.json} in a cluster directory records, null when there is none. */
  static JsonObject recorded(Path clusterDir) {
    try {
      Path file = clusterDir.resolve(FILE);
      return Files.exists(file) ? new JsonObject(Files.readString(file)) : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * An upgrade the end of pgtide's process interrupted: before the swap the old data is untouched, so the half-made
   * new directories go and the record says it failed; after it, the record says so and the cluster resumes on what
   * cluster.json names. What was done, or null when nothing was interrupted.
   */
  static String tidyInterrupted(Path clusterDir) {
    JsonObject r = recorded(clusterDir);
    if (r == null || !MajorUpgrade.UPGRADING.equals(r.getString("phase"))) {
      return null;
    }
    boolean swapped = List.of("switched", "starting", "replicasCloning", "analyzing").contains(r.getString("step"));
    if (!swapped) {
      try (Stream<Path> members = Files.list(clusterDir)) {
        members.map(m -> m.resolve("data." + r.getInteger("to"))).filter(Files::isDirectory)
            .forEach(OsUser::deleteTree);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    String what = "the upgrade " + r.getInteger("from") + " -> " + r.getInteger("to") + " was interrupted at "
        + r.getString("step") + (swapped ? ", after the data directories were swapped: the cluster resumes on "
        + r.getInteger("to") + " (the " + r.getInteger("from") + " data is in each member's data."
        + r.getInteger("from") + ".old)" : ", before the data directories were swapped: the cluster resumes on "
        + r.getInteger("from") + " as it was; apply again to retry");
    r.put("phase", MajorUpgrade.FAILED).put("error", what);
    try {
      Files.writeString(clusterDir.resolve(FILE), r.encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return what;
  }

  /** A view's refusal, in the words of the Kubernetes path (backups, standbys, members, lag). */
  static String blocked(ClusterView view, int members, boolean backups) {
    return MajorUpgrade.blocked(view, members, true, List.of(), backups);
  }
}
