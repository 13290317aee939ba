package io.pgtide.local.process;

import io.pgtide.common.process.OsUser;
import io.pgtide.common.secrets.BasicCredentials;
import io.pgtide.common.secrets.ClusterSecrets;
import io.pgtide.common.secrets.PrivateFiles;
import java.io.IOException;
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
  /** Local mode's default PostgreSQL (Debian 12's 15); a cluster may run another major's (PatroniCluster). */
  public static final String BIN_DIR = io.pgtide.common.process.PgBin.LOCAL_DIR;

  private final String name;
  private final Path dir;
  private final int pgPort;
  private final int restPort;
  private final Path config;
  private final BasicCredentials restCredentials;
  private final String binDir;
  private ManagedProcess patroni;

  private final LocalMachine machine;

  PatroniMember(LocalMachine machine, String name, Path dir, int pgPort, int restPort, Path config,
                BasicCredentials restCredentials, String binDir) {
    this.machine = machine;
    this.binDir = binDir;
    this.name = name;
    this.dir = dir;
    this.pgPort = pgPort;
    this.restPort = restPort;
    this.config = config;
    this.restCredentials = restCredentials;
  }

  /**
   * A member on {@code pgPort} and {@code restPort} in {@code <clusterDir>/<name>}: a new one, or one of a resumed
   * cluster (its data directory stays; its {@code patroni.yml} is written again, so it names this run's etcd
   * certificate and what this version configures). The directory is the owner's only: it holds the socket PostgreSQL
   * trusts and the {@code patroni.yml} with every password, which is 0600 from its first byte.
   */
  static PatroniMember create(LocalMachine machine, String scope, String name, Path clusterDir, int pgPort,
                              int restPort, EtcdProcess etcd, PatroniTiming timing, Map<String, String> parameters,
                              ClusterSecrets secrets, BasicCredentials restCredentials, String binDir) {
    Path dir = OsUser.ownedDirectory(clusterDir.resolve(name), true);
    Path config = dir.resolve("patroni.yml");
    PrivateFiles.write(config, PatroniConfig.yaml(scope, name, dir, pgPort, restPort, etcd.hosts(), etcd.clientTls(),
        timing, parameters, secrets, restCredentials, binDir));
    OsUser.ownedDirectory(dir, true);
    return new PatroniMember(machine, name, dir, pgPort, restPort, config, restCredentials, binDir);
  }

  /** Where this member's PostgreSQL writes its csvlog (the logging collector creates it). */
  public static Path postgresLogDir(Path clusterDir, String member) {
    return clusterDir.resolve("logs").resolve("postgresql-" + member);
  }

  /** Patroni's output (and PostgreSQL's, before its logging collector starts). */
  public static Path patroniLog(Path clusterDir, String member) {
    return clusterDir.resolve("logs").resolve("patroni-" + member + ".log");
  }

  public synchronized void start() {
    if (patroni != null && patroni.isAlive()) {
      return;
    }
    patroni = machine.start("patroni-" + name, OsUser.asPostgres(List.of("/usr/bin/patroni", config.toString())),
        Map.of("HOME", dir.toString(), "PATH", binDir + ":/usr/bin:/bin", "PYTHONUNBUFFERED", "1"),
        dir, patroniLog(dir.getParent(), name));
  }

  public String name() {
    return name;
  }

  /** The PostgreSQL programs this member's Patroni runs. */
  public String binDir() {
    return binDir;
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
    return new PatroniRest(restPort, restCredentials);
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
