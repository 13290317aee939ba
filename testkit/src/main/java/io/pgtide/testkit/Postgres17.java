package io.pgtide.testkit;

import io.pgtide.common.secrets.ClusterSecrets;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.common.process.OsUser;
import io.pgtide.common.process.Psql;
import io.pgtide.local.process.Signal;
import io.pgtide.local.process.Waits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A single real PostgreSQL 17 (initdb + postmaster) on a free loopback port, password auth over TCP, like
 * {@link PostgresInstance} for 15. This machine is Debian 12, which packages 15 only: PostgreSQL 17 is Debian 13's,
 * run with {@code chroot} from the root filesystem {@code scripts/pg17-root.sh} builds once (and caches outside the
 * repository). The chroot shares the network namespace, so clients connect on 127.0.0.1 as to any other instance.
 * Needs root (chroot); PostgreSQL itself runs as the root filesystem's {@code postgres} user. The data directory
 * lives inside the root filesystem ({@code /tmp/pgtide-…}) and is removed on {@link #close()}; the logs stay in the
 * test's directory.
 */
public final class Postgres17 implements AutoCloseable {
  public static final String BIN_DIR = "/usr/lib/postgresql/17/bin";
  /** The first build of the root filesystem downloads and installs Debian 13's packages. */
  static final Duration ROOT_BUILD_TIMEOUT = Duration.ofMinutes(20);
  /** Directories of instances whose test died without closing them are removed by a later start after this. */
  static final Duration STALE_AFTER = Duration.ofHours(6);
  private static Path rootFilesystem;

  private final Path root;
  private final String inside;
  private final Path logs;
  private final int port;
  private final String password;
  private ManagedProcess postmaster;

  private Postgres17(Path root, String inside, Path logs, int port, String password) {
    this.root = root;
    this.inside = inside;
    this.logs = logs;
    this.port = port;
    this.password = password;
  }

  /** Starts one; {@code dir} (a {@link TestDirs} directory) receives its logs. */
  public static Postgres17 start(Path dir) {
    if (!OsUser.isRoot()) {
      throw new IllegalStateException("PostgreSQL 17 runs with chroot from a Debian 13 root filesystem: run as root");
    }
    Path root = rootFilesystem(dir);
    removeStale(root);
    Postgres17 pg = new Postgres17(root, "/tmp/pgtide-" + dir.getFileName(), dir, TestMachine.freePort(),
        ClusterSecrets.password(20));
    try {
      pg.init();
      pg.startPostmaster();
      return pg;
    } catch (RuntimeException e) {
      pg.close();
      throw e;
    }
  }

  /** The root filesystem's directory: built by {@code scripts/pg17-root.sh} on first use, then reused. */
  public static synchronized Path rootFilesystem(Path logDir) {
    if (rootFilesystem == null) {
      rootFilesystem = script("pg17-root", logDir);
    }
    return rootFilesystem;
  }

  /**
   * PostgreSQL 17's bin directory as any user runs it on this machine, without chroot ({@code
   * scripts/pg17-any-user.sh}: Debian 13's loader starts each program): local mode's 17 in the tests.
   */
  public static synchronized Path anyUserBinDir(Path logDir) {
    if (anyUserBinDir == null) {
      anyUserBinDir = script("pg17-any-user", logDir);
    }
    return anyUserBinDir;
  }

  private static Path anyUserBinDir;

  /** Runs {@code scripts/<name>.sh} (building what it builds, once) and takes the path it prints last. */
  private static Path script(String name, Path logDir) {
    Path script = repositoryRoot().resolve("scripts/" + name + ".sh");
    Path out = logDir.resolve(name + ".out");
    Path err = logDir.resolve(name + ".log");
    try {
      Process p = new ProcessBuilder("bash", script.toString()).redirectOutput(out.toFile())
          .redirectError(err.toFile()).start();
      if (!p.waitFor(ROOT_BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        stopTree(p);
        throw new IllegalStateException(script + " did not finish within " + ROOT_BUILD_TIMEOUT + "; see " + err);
      }
      List<String> printed = Files.readAllLines(out);
      if (p.exitValue() != 0 || printed.isEmpty()) {
        throw new IllegalStateException(script + " exited " + p.exitValue() + ": " + Files.readString(err).trim());
      }
      return Path.of(printed.get(printed.size() - 1).trim());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while building the PostgreSQL 17 root filesystem", e);
    }
  }

  /** The directory holding {@code scripts/pg17-root.sh}: the working directory or one above it. */
  static Path repositoryRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts/pg17-root.sh"))) {
        return p;
      }
    }
    throw new IllegalStateException("no scripts/pg17-root.sh in " + Path.of("").toAbsolutePath() + " or above");
  }

  /** The build (bash, mmdebstrap, apt) and everything under it: SIGTERM (mmdebstrap unmounts), then SIGKILL. */
  private static void stopTree(Process p) throws InterruptedException {
    List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
    all.add(p.toHandle());
    all.forEach(ProcessHandle::destroy);
    for (ProcessHandle h : all) {
      try {
        h.onExit().get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        h.destroyForcibly();
      }
    }
  }

  /** Instance directories a killed test left in the root filesystem: old, and no live postmaster in them. */
  private static void removeStale(Path root) {
    try (var dirs = Files.list(root.resolve("tmp"))) {
      Instant before = Instant.now().minus(STALE_AFTER);
      for (Path d : dirs.filter(d -> d.getFileName().toString().startsWith("pgtide-")).toList()) {
        Path pid = d.resolve("data/postmaster.pid");
        boolean live = Files.exists(pid) && ProcessHandle.of(Long.parseLong(Files.readAllLines(pid).get(0).trim()))
            .map(ProcessHandle::isAlive).orElse(false);
        if (!live && Files.getLastModifiedTime(d).toInstant().isBefore(before)) {
          OsUser.deleteTree(d);
        }
      }
    } catch (IOException | RuntimeException e) {
      // best effort: a directory left over costs disk space only
    }
  }

  /** A command run inside the root filesystem as root. */
  private List<String> inRoot(String... command) {
    List<String> out = new ArrayList<>(List.of("/usr/sbin/chroot", root.toString()));
    out.addAll(List.of(command));
    return out;
  }

  /** A command run inside the root filesystem as its postgres user; setpriv execs in place (the PID stays). */
  private List<String> asPostgres(String... command) {
    // the parent-death signal is set again after the change of user, which clears it
    return inRoot(concat(List.of("setpriv", "--pdeathsig=TERM", "--reuid=postgres", "--regid=postgres",
        "--init-groups", "--"), command));
  }

  private static String[] concat(List<String> head, String... tail) {
    List<String> all = new ArrayList<>(head);
    all.addAll(List.of(tail));
    return all.toArray(String[]::new);
  }

  private void init() {
    Path log = logs.resolve("initdb.log");
    OsUser.runChecked(inRoot("install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0700", inside), log);
    try {
      Path pwfile = hostPath().resolve("pwfile");
      Files.writeString(pwfile, password + "\n");
      OsUser.runChecked(inRoot("chown", "postgres:postgres", inside + "/pwfile"), log);
      OsUser.runChecked(asPostgres(BIN_DIR + "/initdb", "-D", dataDir(), "-U", "postgres", "--pwfile=" + inside
          + "/pwfile", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"), ENV, log);
      Files.delete(pwfile);
      Files.writeString(hostPath().resolve("data/postgresql.auto.conf"),
          "shared_preload_libraries = 'pg_stat_statements'\n", StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The root filesystem has the C locale only; the host's locale settings would not resolve in it. */
  private static final Map<String, String> ENV = Map.of("LANG", "C", "LC_ALL", "C");

  private void startPostmaster() {
    postmaster = TestMachine.get().start("postgres-17", asPostgres(BIN_DIR + "/postgres", "-D", dataDir(), "-p",
        Integer.toString(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + inside), ENV,
        logs, logs.resolve("postgres.log"));
    Waits.until("PostgreSQL 17 on port " + port, Duration.ofSeconds(60),
        () -> "1".equals(Psql.query(port, "postgres", password, "postgres", "select 1")), () -> postmaster.tail(20));
  }

  /** The data directory as PostgreSQL sees it (inside the root filesystem). */
  public String dataDir() {
    return inside + "/data";
  }

  /** This instance's directory (data, socket) as seen from the host. */
  public Path hostPath() {
    return root.resolve(inside.substring(1));
  }

  public int port() {
    return port;
  }

  public String password() {
    return password;
  }

  public ManagedProcess postmaster() {
    return postmaster;
  }

  public String query(String sql) {
    return Psql.query(port, "postgres", password, "postgres", sql);
  }

  /** Fast shutdown (SIGINT), SIGTERM then SIGKILL if it does not end; then its directory is removed. */
  @Override
  public void close() {
    try {
      if (postmaster != null && postmaster.isAlive()) {
        postmaster.signal(Signal.INT);
        try {
          Waits.until("PostgreSQL 17 to stop", Duration.ofSeconds(20), () -> !postmaster.isAlive(), () -> "");
        } catch (RuntimeException e) {
          // stop() below ends it
        }
      }
    } finally {
      if (postmaster != null) {
        postmaster.stop(Duration.ofSeconds(5));
      }
      OsUser.deleteTree(hostPath());
    }
  }
}
