package io.pgtide.backup;

import io.pgtide.common.process.PgBin;
import io.pgtide.common.backup.RecoveryTarget;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.secrets.ClusterSecrets;
import io.pgtide.common.process.OsUser;
import io.pgtide.common.process.Psql;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * Point-in-time recovery from a cluster's Barman repository (local mode's new cluster, the restore Job on Kubernetes,
 * a verification's scratch copy): checks the target against the source's repository, restores
 * the chosen base backup with Barman into the new first member's data directory, runs PostgreSQL on it once (on a
 * private port) until the recovery reaches the target and promotes, then hands the directory to Patroni. The source
 * cluster is only read: its repository, and a WAL switch so what it wrote up to now is archived.
 */
public final class Restore {

  private final PostgresClusterSpec.RecoverySpec spec;
  private final Consumer<String> progress;
  private final Path sourceDir;
  private final Barman source;
  private final RecoveryTarget target;

  /** The loopback port the restored PostgreSQL runs on until it promotes (the caller's: it knows what else runs). */
  private final IntSupplier freePort;
  /** Where the restored instance's socket is while it runs ({@link #replayToTarget}). */
  private volatile Path replaySocketDir;
  /** The source's segment closed for this restore, to wait for in the repository; null: none. */
  private String awaitedSegment;
  static final Duration SEGMENT_WAIT = Duration.ofSeconds(120);

  /** Checks everything that can be checked before anything is created; {@link IllegalArgumentException} if bad. */
  public Restore(IntSupplier freePort, PostgresClusterSpec.RecoverySpec spec, Consumer<String> progress) {
    this.freePort = freePort;
    this.spec = spec;
    this.progress = progress;
    this.target = RecoveryTarget.from(spec);
    if (spec.repository == null || spec.repository.isBlank()) {
      throw new IllegalArgumentException("bootstrap.recovery.repository is required in local mode: the directory "
          + "cluster " + spec.source + " runs from");
    }
    this.sourceDir = Path.of(spec.repository).toAbsolutePath();
    this.source = new Barman(Barman.localRepository(sourceDir), spec.source);
    if (!Files.isDirectory(sourceDir) || !source.configured()) {
      throw new IllegalArgumentException("no backups of cluster " + spec.source + " under " + sourceDir
          + " (does it declare spec.backup, and is that its directory?)");
    }
  }

  /**
   * Waits (before a restore to the latest point) for {@code segment}, the source's segment that was closed for it
   * elsewhere (on Kubernetes the operator has the source's primary switch WAL: the restore cannot reach it), until
   * the backups' receiver completed it and it is filed; null waits for nothing. A file name is checked here.
   */
  public Restore awaiting(String segment) {
    if (segment != null && !WalServing.NAME.matcher(segment).matches()) {
      throw new IllegalArgumentException("not a WAL segment name: " + segment);
    }
    this.awaitedSegment = segment;
    return this;
  }

  /** The source's credentials: the restored database has its roles, so the new cluster logs in as they do. */
  public ClusterSecrets sourceSecrets() {
    try {
      return ClusterSecrets.load(sourceDir.resolve("secrets.json"));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the credentials of " + spec.source + " in " + sourceDir, e);
    }
  }

  /**
   * Gives the restored roles {@code wanted}'s passwords, on the restored instance at {@code port} (logged in with
   * the source's): a cluster restored from a deleted cluster's backups gets passwords of its own. Sent on psql's
   * standard input with statement logging off, so they are in no command line and no log.
   */
  public void setPasswords(int port, ClusterSecrets wanted) {
    Login login = login(replaySocketDir);
    Psql.script(login.host(), port, login.user(), login.password(), "postgres", passwordsSql(wanted));
    progress.accept("set the new cluster's passwords of " + wanted.superuser() + " and " + wanted.replicationUser());
  }

  /**
   * How the restore logs in to the restored instance: as the source's superuser with its password (kept with its
   * repository), or, for a copy that carries no password (S3), over the private socket the restored pg_hba.conf
   * trusts (Spilo's and local mode's both do).
   */
  private record Login(String host, String user, String password) {
  }

  private Login login(Path socketDir) {
    if (Files.exists(sourceDir.resolve("secrets.json"))) {
      ClusterSecrets s = sourceSecrets();
      return new Login("127.0.0.1", s.superuser(), s.superuserPassword());
    }
    return new Login(socketDir.toString(), "postgres", null);
  }

  static String passwordsSql(ClusterSecrets wanted) {
    return "SET standard_conforming_strings = on;\nSET log_statement = 'none';\n"
        + "SET log_min_duration_statement = -1;\nSET log_min_error_statement = panic;\n"
        // a source in synchronous mode left synchronous_standby_names behind: there is no standby to wait for
        + "SET synchronous_commit = local;\n"
        + "SET password_encryption = 'scram-sha-256';\n"
        + "ALTER ROLE " + identifier(wanted.superuser()) + " PASSWORD " + literal(wanted.superuserPassword()) + ";\n"
        + "ALTER ROLE " + identifier(wanted.replicationUser()) + " PASSWORD "
        + literal(wanted.replicationPassword()) + ";\n";
  }

  private static String identifier(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** A standard-conforming literal (PostgreSQL's default since 9.1): only the quote is special. */
  private static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  /**
   * Chooses the base backup: for a time, the newest that ended before it (a second of margin, Barman's catalogue
   * keeps whole seconds); for an LSN, the oldest (it replays forward from there); for the latest, the newest.
   */
  static Barman.BackupInfo choose(List<Barman.BackupInfo> backups, RecoveryTarget target) {
    List<Barman.BackupInfo> done = backups.stream().filter(Barman.BackupInfo::done).toList();
    if (done.isEmpty()) {
      throw new IllegalArgumentException("the source has no completed base backup");
    }
    if (target.time() != null) {
      return done.stream().filter(b -> b.endedAt() != null && !b.endedAt().plusSeconds(1).isAfter(target.time()))
          .reduce((a, b) -> b).orElseThrow(() -> new IllegalArgumentException("the target time " + target.time()
              + " is before the first recoverable point " + done.get(0).endedAt()));
    }
    return target.lsn() != null ? done.get(0) : done.get(done.size() - 1);
  }

  /**
   * Checks the target against the source's catalogue and returns the base backup to restore; {@link
   * IllegalArgumentException} with the reason when it cannot be reached. Nothing is created.
   */
  public Barman.BackupInfo check() {
    List<Barman.BackupInfo> backups = source.backups();
    Instant first = backups.stream().filter(Barman.BackupInfo::done).map(Barman.BackupInfo::endedAt).findFirst()
        .orElse(null);
    String why = target.unreachable(first, Instant.now());
    if (why != null) {
      throw new IllegalArgumentException("cannot restore " + spec.source + " to " + target + ": " + why);
    }
    return choose(backups, target);
  }

  /** Fills {@code dataDir} (which must not exist) with the source's data at the target, promoted. */
  public void restoreInto(Path dataDir) {
    restoreInto(dataDir, port -> { });
  }

  /**
   * As {@link #restoreInto(Path)}, running {@code whileUp} with the port of the restored instance once it has
   * promoted and before it stops (verification checks it there). Returns the base backup restored.
   */
  public Barman.BackupInfo restoreInto(Path dataDir, java.util.function.IntConsumer whileUp) {
    Barman.BackupInfo chosen = check();
    if (awaitedSegment != null) {
      awaitSegment(awaitedSegment);
    } else {
      closeSourceSegment();
    }
    progress.accept("restoring base backup " + chosen.id() + " of " + spec.source + " to " + target);
    OsUser.ownedDirectory(dataDir.getParent(), false);
    source.recover(chosen.id(), dataDir);
    privateDirectory(dataDir);
    emptyDirectories(dataDir);
    tidy(dataDir, false);
    stopAtTarget(dataDir);
    replayToTarget(dataDir, whileUp);
    tidy(dataDir, true);
    return chosen;
  }

  /**
   * Has the source close its current WAL segment and waits until it is archived (local mode reaches it); when it
   * cannot (a stopped source, or one out of reach), files what the receiver completed: that is what there is.
   */
  private void closeSourceSegment() {
    try {
      source.switchWal();
    } catch (RuntimeException e) {
      // a stopped source: what it archived before it stopped is what there is (a target past it fails below)
      progress.accept("could not close the source's current WAL segment (" + e.getMessage()
          + "); restoring from the WAL already archived");
      // a source that is gone left no agent to file the segments its receiver completed last: file them now
      try {
        source.archiveWal();
      } catch (RuntimeException x) {
        progress.accept("could not file the receiver's last segments (" + x.getMessage() + ")");
      }
    }
  }

  /**
   * Files what the receiver completed until {@code segment} is in the archive, at most {@link #SEGMENT_WAIT}; then
   * restores all the same, saying so (the agent's receiver may be down: what was archived is what there is).
   */
  private void awaitSegment(String segment) {
    long started = System.nanoTime();
    long deadline = started + SEGMENT_WAIT.toNanos();
    Path file = source.repository().resolve("home").resolve(source.server()).resolve("wals")
        .resolve(segment.substring(0, 16)).resolve(segment);
    while (true) {
      try {
        source.archiveWal();
      } catch (RuntimeException e) {
        progress.accept("could not file the receiver's last segments (" + e.getMessage() + ")");
      }
      if (Files.exists(file)) {
        progress.accept("the source's segment " + segment + ", closed for this restore, is archived (after "
            + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s)");
        return;
      }
      if (System.nanoTime() > deadline) {
        progress.accept("the source's segment " + segment + ", closed for this restore, is not archived after "
            + SEGMENT_WAIT.toSeconds() + " s: restoring from the WAL already archived");
        return;
      }
      try {
        Thread.sleep(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for segment " + segment, e);
      }
    }
  }

  /**
   * A standby's start: the newest base backup laid down in {@code dataDir} (which must not exist) and not replayed,
   * without Barman's recovery settings and staged WAL, and with {@code patroniDynamic} as Patroni's cached dynamic
   * configuration ({@code patroni.dynamic.json}). The standby's first member adopts the directory: Patroni reads that
   * file (it reads no bootstrap configuration for a directory it adopts), so it starts PostgreSQL as the standby
   * leader with the configuration's {@code standby_cluster.restore_command}, which fetches every WAL segment from the
   * backup on. The source is not reached. Returns the base backup laid down.
   */
  public Barman.BackupInfo standbyInto(Path dataDir, String patroniDynamic) {
    Barman.BackupInfo chosen = check();
    progress.accept("laying down base backup " + chosen.id() + " of " + spec.source + " for a standby");
    OsUser.ownedDirectory(dataDir.getParent(), false);
    source.recover(chosen.id(), dataDir);
    privateDirectory(dataDir);
    emptyDirectories(dataDir);
    tidy(dataDir, true);
    try {
      Files.deleteIfExists(dataDir.resolve("recovery.signal")); // Patroni writes standby.signal itself
      Path cache = dataDir.resolve("patroni.dynamic.json");
      Files.writeString(cache, patroniDynamic);
      Files.setPosixFilePermissions(cache, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the standby's directory " + dataDir, e);
    }
    progress.accept("laid down " + spec.source + "'s base backup " + chosen.id() + " for a standby");
    return chosen;
  }

  /**
   * What a Patroni-managed data directory must not carry into a new cluster: the source's cached dynamic
   * configuration, its standby marker and start options; after the recovery also the recovery settings Barman
   * wrote and the WAL it staged.
   */
  private static void tidy(Path dataDir, boolean afterRecovery) {
    try {
      for (String f : List.of("patroni.dynamic.json", "standby.signal", "postmaster.opts")) {
        Files.deleteIfExists(dataDir.resolve(f));
      }
      if (afterRecovery) {
        Path auto = dataDir.resolve("postgresql.auto.conf");
        List<String> kept = Files.readAllLines(auto).stream()
            .filter(l -> !l.strip().matches("(?i)(restore_command|recovery_target\\w*|recovery_end_command)\\s*=.*"))
            .toList();
        Files.write(auto, kept);
        OsUser.deleteTree(dataDir.resolve("barman_wal"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the restored directory " + dataDir, e);
    }
  }

  /**
   * PostgreSQL starts only on a data directory of mode 0700 or 0750; Barman gives it the mode of the backup's copy,
   * which a repository fetched from S3 does not keep (rclone writes 0755).
   */
  private static void privateDirectory(Path dataDir) {
    try {
      Files.setPosixFilePermissions(dataDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make " + dataDir + " private", e);
    }
  }

  /**
   * The directories PostgreSQL expects and a base backup may hold empty (initdb makes them all). Object storage
   * keeps no empty directory, so a repository fetched from S3 lacks them, and PostgreSQL would not start ("could
   * not open directory pg_notify"). Made where missing, by the user the restore runs as (PostgreSQL's on Kubernetes).
   */
  static final List<String> EMPTY_DIRECTORIES = List.of("global", "pg_commit_ts", "pg_dynshmem", "pg_logical",
      "pg_logical/mappings", "pg_logical/snapshots", "pg_multixact", "pg_multixact/members", "pg_multixact/offsets",
      "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots", "pg_stat", "pg_stat_tmp", "pg_subtrans", "pg_tblspc",
      "pg_twophase", "pg_wal", "pg_wal/archive_status", "pg_xact");

  static void emptyDirectories(Path dataDir) {
    var mode = java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    try {
      for (String d : EMPTY_DIRECTORIES) {
        Path dir = dataDir.resolve(d);
        if (!Files.isDirectory(dir)) {
          Files.createDirectory(dir, mode);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make PostgreSQL's directories in " + dataDir, e);
    }
  }

  /** Where the recovery stops, and that it promotes there (the latest point: the end of the archived WAL). */
  private void stopAtTarget(Path dataDir) {
    String settings = target.time() != null
        ? "recovery_target_time = '" + Barman.postgresTime(target.time()) + "'\n"
        : target.lsn() != null ? "recovery_target_lsn = '" + target.lsn() + "'\n" : "";
    if (settings.isEmpty()) {
      return;
    }
    try {
      Files.writeString(dataDir.resolve("postgresql.auto.conf"), "# pgtide restore target\n" + settings
          + "recovery_target_action = 'promote'\n", java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot set the recovery target in " + dataDir, e);
    }
  }

  /** Runs PostgreSQL on the restored directory until it has replayed to the target and promoted, then stops it. */
  private void replayToTarget(Path dataDir, java.util.function.IntConsumer whileUp) {
    int port = freePort.getAsInt();
    Path log = dataDir.getParent().resolve("restore-postgres.log");
    Path socketDir = dataDir.getParent();
    replaySocketDir = socketDir;
    Login login = login(socketDir);
    // the source's Patroni wrote paths and a port of its own member into postgresql.conf: override them all
    String options = "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + socketDir
        // the restored pg_hba.conf trusts the socket: the owner's only (local mode: in its 0700 cluster directory)
        + " -c unix_socket_permissions=0700"
        + " -c hba_file=" + dataDir.resolve("pg_hba.conf") + " -c ident_file=" + dataDir.resolve("pg_ident.conf")
        + " -c archive_mode=off -c primary_conninfo= -c primary_slot_name= -c cluster_name=restore"
        // Patroni's synchronous mode wrote the source's standbys here: a commit would wait for them forever
        + " -c synchronous_standby_names="
        // the source's server certificate is not restored with the data (Spilo keeps it outside): loopback only
        + " -c ssl=off"
        // Spilo preloads libraries (bg_mon, timescaledb, ...) this image does not have; replaying WAL needs none
        + " -c shared_preload_libraries=";
    try {
      pgCtl(List.of("start", "-D", dataDir.toString(), "-l", log.toString(), "-o", options, "-w", "-t", "600"),
          Duration.ofMinutes(11));
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + ": " + logTail(log), e);
    }
    try {
      long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
      while (!promoted(port, login)) {
        if (!Files.exists(dataDir.resolve("postmaster.pid"))) {
          // PostgreSQL 14+ stops with a FATAL when the WAL ends before the target
          throw new IllegalStateException("the restore stopped before reaching " + target + ": " + logTail(log));
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the restored instance did not reach " + target + " within 30 min: "
              + logTail(log));
        }
        sleep();
      }
      whileUp.accept(port);
    } finally {
      pgCtl(List.of("stop", "-D", dataDir.toString(), "-m", "fast", "-w", "-t", "120"), Duration.ofMinutes(3));
    }
    progress.accept("restored " + spec.source + " to " + target);
  }

  private static boolean promoted(int port, Login login) {
    try {
      return "f".equals(Psql.query(login.host(), port, login.user(), login.password(), "postgres",
          "SELECT pg_is_in_recovery()"));
    } catch (RuntimeException e) {
      return false; // not accepting connections yet
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the restore ran", e);
    }
  }

  private static void pgCtl(List<String> args, Duration timeout) {
    List<String> command = new ArrayList<>(List.of(PgBin.program("pg_ctl")));
    command.addAll(args);
    try {
      Process p = new ProcessBuilder(OsUser.asPostgres(command)).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("pg_ctl " + args.get(0) + " did not finish within " + timeout.toSeconds()
            + " s");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("pg_ctl " + args.get(0) + " failed (exit " + p.exitValue() + ")");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static String logTail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }
}
