package io.pgtide.local.process;

import io.pgtide.common.secrets.ClusterSecrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * One Patroni + PostgreSQL member on loopback. Patroni runs as the unprivileged user when we are root and starts
 * the postmaster itself; faults act on the real PIDs (Patroni's and the postmaster's from {@code postmaster.pid}).
 */
public final class PatroniMember {
  public static final String BIN_DIR = "/usr/lib/postgresql/15/bin";

  private final String name;
  private final Path dir;
  private final int pgPort;
  private final int restPort;
  private final Path config;
  private ManagedProcess patroni;

  private final LocalMachine machine;

  PatroniMember(LocalMachine machine, String name, Path dir, int pgPort, int restPort, Path config) {
    this.machine = machine;
    this.name = name;
    this.dir = dir;
    this.pgPort = pgPort;
    this.restPort = restPort;
    this.config = config;
  }

  static PatroniMember create(LocalMachine machine, String scope, String name, Path clusterDir, String etcdHosts, PatroniTiming timing,
                              Map<String, String> parameters, ClusterSecrets secrets) {
    Path dir = OsUser.ownedDirectory(clusterDir.resolve(name), false);
    int pgPort = machine.freePort();
    int restPort = machine.freePort();
    Path config = dir.resolve("patroni.yml");
    try {
      Files.writeString(config, PatroniConfig.yaml(scope, name, dir, pgPort, restPort, etcdHosts, timing,
          parameters, secrets));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    OsUser.ownedDirectory(dir, false);
    return new PatroniMember(machine, name, dir, pgPort, restPort, config);
  }

  /** A member whose directory and {@code patroni.yml} already exist (a resumed cluster). */
  static PatroniMember existing(LocalMachine machine, String name, Path clusterDir, int pgPort, int restPort) {
    Path dir = clusterDir.resolve(name);
    return new PatroniMember(machine, name, dir, pgPort, restPort, dir.resolve("patroni.yml"));
  }

  public synchronized void start() {
    if (patroni != null && patroni.isAlive()) {
      return;
    }
    patroni = machine.start("patroni-" + name, OsUser.asPostgres(List.of("/usr/bin/patroni", config.toString())),
        Map.of("HOME", dir.toString(), "PATH", BIN_DIR + ":/usr/bin:/bin", "PYTHONUNBUFFERED", "1"),
        dir, dir.getParent().resolve("logs/patroni-" + name + ".log"));
  }

  public String name() {
    return name;
  }

  public Path dir() {
    return dir;
  }

  public Path dataDir() {
    return dir.resolve("data");
  }

  public int pgPort() {
    return pgPort;
  }

  public int restPort() {
    return restPort;
  }

  public PatroniRest rest() {
    return new PatroniRest(restPort);
  }

  public boolean patroniAlive() {
    return patroni != null && patroni.isAlive();
  }

  public OptionalLong patroniPid() {
    return patroni == null || !patroni.isAlive() ? OptionalLong.empty() : OptionalLong.of(patroni.pid());
  }

  /** The postmaster's PID from {@code postmaster.pid}, when a live postmaster wrote one. */
  public OptionalLong postmasterPid() {
    Path pidFile = dataDir().resolve("postmaster.pid");
    try {
      if (!Files.exists(pidFile)) {
        return OptionalLong.empty();
      }
      long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
      return Signals.alive(pid) ? OptionalLong.of(pid) : OptionalLong.empty();
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** The hard way: SIGKILL of Patroni and its postmaster at once (a crashed pod). */
  public void killHard() {
    OptionalLong pm = postmasterPid();
    if (patroni != null) {
      patroni.kill();
    }
    pm.ifPresent(pid -> Signals.send(pid, Signal.KILL));
    pm.ifPresent(pid -> Waits.until("postmaster " + pid + " to die", Duration.ofSeconds(10),
        () -> !Signals.alive(pid), () -> ""));
  }

  /** The soft way: SIGTERM to Patroni, which stops PostgreSQL cleanly and releases the leader key. */
  public void stopSoft() {
    if (patroni != null) {
      patroni.stop(Duration.ofSeconds(60));
    }
  }

  /** A zombie: the postmaster stops (SIGSTOP); open sessions keep working, new connections hang. */
  public void freeze() {
    long pid = postmasterPid().orElseThrow(() -> new IllegalStateException(name + " has no running postmaster"));
    Signals.send(pid, Signal.STOP);
  }

  public void thaw() {
    postmasterPid().ifPresent(pid -> Signals.send(pid, Signal.CONT));
  }

  /** Stops everything of this member, thawing first; waits until Patroni and the postmaster are gone. */
  public void close() {
    thaw();
    OptionalLong before = postmasterPid();
    if (patroni != null) {
      patroni.stop(Duration.ofSeconds(30));
    }
    OptionalLong after = postmasterPid();
    OptionalLong pm = after.isPresent() ? after : before;
    pm.ifPresent(pid -> {
      if (Signals.alive(pid)) {
        Signals.send(pid, Signal.INT); // fast shutdown of an orphaned postmaster
        try {
          Waits.until("postmaster " + pid + " to stop", Duration.ofSeconds(20), () -> !Signals.alive(pid), () -> "");
        } catch (IllegalStateException e) {
          Signals.send(pid, Signal.KILL);
        }
      }
    });
  }

  public String logTail(int lines) {
    return patroni == null ? "(not started)" : patroni.tail(lines);
  }
}
