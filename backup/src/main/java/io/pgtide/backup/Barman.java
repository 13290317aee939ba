package io.pgtide.backup;

import io.pgtide.common.process.PgBin;
import io.pgtide.common.backup.BackupPolicy;
import io.pgtide.common.process.OsUser;
import io.pgtide.common.secrets.PrivateFiles;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One cluster's backup repository, kept by Debian's Barman in streaming mode: WAL arrives through
 * {@code pg_receivewal} on a replication slot and base backups through {@code pg_basebackup}, so nothing runs or is
 * installed on the database side. Everything (configuration, catalogue, WAL, log) lives under one directory and
 * Barman runs as the user PostgreSQL runs as. Blocking: call off the event loop.
 */
public final class Barman {
  /** The replication slot Barman streams from on the primary. */
  public static final String SLOT = BackupPolicy.SLOT;

  private final Path repository;
  private final String server;
  /** How Barman is started: {@code barman} as the user PostgreSQL runs as (a test's stand-in in tests). */
  private final List<String> program;
  /** The calls in progress, so that {@link #abortCalls} can end a hung one. */
  private final java.util.Set<Process> running = new java.util.HashSet<>();
  private volatile boolean aborted;

  public Barman(Path repository, String server) {
    this(repository, server, OsUser.asPostgres(List.of("barman")));
  }

  Barman(Path repository, String server, List<String> program) {
    this.repository = repository.toAbsolutePath();
    this.server = server;
    this.program = List.copyOf(program);
  }

  public Path repository() {
    return repository;
  }

  public String server() {
    return server;
  }

  /** Where one cluster in local mode keeps its repository: under its own directory. */
  public static Path localRepository(Path clusterDir) {
    return clusterDir.resolve("backups");
  }

  /**
   * Writes the configuration: the server reached through {@code host:port} (the primary endpoint, which follows
   * failovers), the superuser for the control connection, the replication user for streaming; passwords in a
   * 0600 pgpass file, never on a command line.
   */
  public void configure(String host, int port, String superuser, String superuserPassword, String replicationUser,
                        String replicationPassword, BackupPolicy policy) {
    configure(host, port, superuser, superuserPassword, replicationUser, replicationPassword, policy, null);
  }

  /**
   * As above, checking the server's certificate as {@code tls} says on both connections (null: libpq's defaults).
   */
  public void configure(String host, int port, String superuser, String superuserPassword, String replicationUser,
                        String replicationPassword, BackupPolicy policy, io.pgtide.common.process.PgClientTls tls) {
    OsUser.ownedDirectory(repository, true);
    Path pgpass = repository.resolve("pgpass");
    PrivateFiles.write(pgpass, "*:*:*:" + escape(superuser) + ":" + escape(superuserPassword) + "\n"
        + "*:*:*:" + escape(replicationUser) + ":" + escape(replicationPassword) + "\n");
    String user = OsUser.isRoot() ? OsUser.POSTGRES : System.getProperty("user.name");
    write("barman.conf", """
        [barman]
        barman_home = %s
        barman_user = %s
        log_file = %s
        log_level = INFO
        configuration_files_directory = %s
        """.formatted(repository.resolve("home"), user, repository.resolve("barman.log"), repository.resolve("conf.d")));
    write("conf.d/" + server + ".conf", serverConfig(server, host, port, superuser, replicationUser, pgpass, tls,
        policy));
    OsUser.ownedDirectory(repository.resolve("home"), true);
    OsUser.ownedDirectory(repository, true);
  }

  /** Barman's configuration of one server (passwords stay in {@code pgpass}). Pure. */
  static String serverConfig(String server, String host, int port, String superuser, String replicationUser,
                             Path pgpass, io.pgtide.common.process.PgClientTls tls, BackupPolicy policy) {
    String ssl = tls == null ? "" : tls.conninfo();
    return """
        [%s]
        description = pgtide cluster %s
        conninfo = host=%s port=%d user=%s dbname=postgres passfile=%s connect_timeout=10%s
        streaming_conninfo = host=%s port=%d user=%s passfile=%s connect_timeout=10%s
        backup_method = postgres
        streaming_archiver = on
        slot_name = %s
        create_slot = auto
        path_prefix = %s
        retention_policy = %s
        retention_policy_mode = auto
        wal_retention_policy = main
        minimum_redundancy = %d
        """.formatted(server, server, host, port, superuser, pgpass, ssl, host, port, replicationUser, pgpass, ssl,
        SLOT, PgBin.dir(), policy.barmanRetention(), policy.minimumRedundancy());
  }

  private void write(String name, String text) {
    Path file = repository.resolve(name);
    try {
      Files.createDirectories(file.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    PrivateFiles.write(file, text);
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace(":", "\\:");
  }

  public boolean configured() {
    return Files.exists(repository.resolve("conf.d").resolve(server + ".conf"));
  }

  /** Barman's maintenance pass: (re)starts the WAL receiver, files streamed WAL, applies the retention policy. */
  public void cron() {
    run(Duration.ofSeconds(60), "cron");
  }

  /**
   * Takes a base backup and waits until the WAL it needs is in the repository; returns its id. Barman's own
   * {@code --wait} only waits for that WAL: a backup that ends exactly on a segment boundary (PostgreSQL 17's
   * {@code pg_backup_stop} can end it there) names a segment that an idle server never closes, and it would wait
   * until its timeout. So the segment is closed here, as often as needed, until the backup is complete.
   */
  public String backup() {
    String out = run(Duration.ofMinutes(60), "backup", server);
    String id = null;
    for (String line : out.split("\n")) {
      int at = line.indexOf("Starting backup using postgres method for server " + server + " in ");
      if (at >= 0) {
        id = line.substring(line.lastIndexOf('/') + 1).strip();
      }
    }
    if (id == null) {
      id = backups().stream().reduce((a, b) -> b).map(BackupInfo::id)
          .orElseThrow(() -> new IllegalStateException("barman backup reported no backup: " + tail(out)));
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
    while (true) {
      String wanted = id;
      BackupInfo backup = backups().stream().filter(b -> b.id().equals(wanted)).findFirst()
          .orElseThrow(() -> new IllegalStateException("backup " + wanted + " is not in the catalogue"));
      if (backup.done()) {
        return id;
      }
      if (!"WAITING_FOR_WALS".equals(backup.status())) {
        throw new IllegalStateException("backup " + id + " ended " + backup.status());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("backup " + id + " still waits for its WAL after 300 s");
      }
      switchWal();
      cron();
    }
  }

  /** Closes the current WAL segment and waits until it is archived, so everything up to now is recoverable. */
  public void switchWal() {
    run(Duration.ofSeconds(90), "switch-wal", "--force", "--archive", "--archive-timeout", "60", server);
  }

  /**
   * Files what the WAL receiver completed and Barman has not filed yet (what {@code barman cron} does, without
   * starting a receiver): a repository whose agent is gone is otherwise short of its last segments. A partial
   * segment stays where it is.
   */
  public void archiveWal() {
    run(Duration.ofMinutes(5), "archive-wal", server);
  }

  /** Every backup in the catalogue, oldest first. */
  public List<BackupInfo> backups() {
    String out = run(Duration.ofSeconds(60), "-f", "json", "list-backups", server);
    JsonArray list = new JsonObject(out.substring(out.indexOf('{'))).getJsonArray(server, new JsonArray());
    List<BackupInfo> backups = new ArrayList<>();
    for (Object o : list) {
      JsonObject b = (JsonObject) o;
      String end = b.getString("end_time_timestamp");
      backups.add(new BackupInfo(b.getString("backup_id"), b.getString("status"),
          end == null || end.isBlank() ? null : Instant.ofEpochSecond(Long.parseLong(end)),
          b.getLong("size_bytes", 0L)));
    }
    backups.sort(Comparator.comparing(BackupInfo::id));
    return backups;
  }

  /** When the newest complete WAL segment reached the repository (its file time), if any. */
  public Optional<Instant> lastArchivedWalAt() {
    Path wals = repository.resolve("home").resolve(server).resolve("wals");
    if (!Files.isDirectory(wals)) {
      return Optional.empty();
    }
    try (var walk = Files.walk(wals, 2)) {
      return walk.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}(\\.[a-z0-9]+)?"))
          .map(p -> p.toFile().lastModified()).max(Long::compare).map(Instant::ofEpochMilli);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Restores {@code backupId} into {@code destination} (which must not exist yet) with every archived WAL after it
   * up to the newest timeline; the caller sets where the recovery stops. (Barman's own time target chooses the WAL
   * to copy by when each segment was archived, and stops at the first one archived after the target: after a
   * failover that is the old timeline's partial segment, and the new timeline's WAL that holds the target is left
   * out. So no target is given to Barman.)
   */
  public void recover(String backupId, Path destination) {
    List<String> args = new ArrayList<>(List.of("recover"));
    latestTimeline().ifPresent(tli -> args.addAll(List.of("--target-tli", Integer.toString(tli))));
    args.addAll(List.of(server, backupId, destination.toString()));
    run(Duration.ofMinutes(60), args.toArray(String[]::new));
  }

  /**
   * Copies the archived WAL file {@code name} (a segment or a timeline history file) into {@code directory}, through
   * Barman's get-wal: from the archive, or from the streaming directory when pg_receivewal completed it and Barman
   * has not filed it yet (never a partial segment). False when Barman has no such file; any other failure throws.
   */
  public boolean getWal(String name, Path directory) {
    try {
      run(Duration.ofMinutes(2), "get-wal", "--output-directory", directory.toString(), server, name);
      return true;
    } catch (IllegalStateException e) {
      if (String.valueOf(e.getMessage()).contains("not found in server")) {
        return false;
      }
      throw e;
    }
  }

  /** The newest timeline whose history file is in the repository (a failover or a switchover started it). */
  Optional<Integer> latestTimeline() {
    Path wals = repository.resolve("home").resolve(server).resolve("wals");
    if (!Files.isDirectory(wals)) {
      return Optional.empty();
    }
    try (var list = Files.list(wals)) {
      return list.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{8}\\.history"))
          .map(n -> Integer.parseInt(n.substring(0, 8), 16)).max(Integer::compare);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + wals, e);
    }
  }

  /** A time as recovery_target_time takes it (PostgreSQL refuses ISO 8601's T and Z, and nanoseconds). */
  static String postgresTime(Instant t) {
    return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'")
        .withZone(java.time.ZoneOffset.UTC).format(t);
  }

  /** What pg_receivewal says when its position lies on a timeline the server it streams from never had. */
  static final String NOT_IN_HISTORY = "is not in this server's history";

  /**
   * Whether the WAL receiver was refused since {@code since} because its position is on an abandoned timeline: after a
   * failover that lost WAL (asynchronous replication, the old primary ahead of the one promoted), every restart of
   * pg_receivewal asks the new primary for a point it never had, and nothing is archived again. Reads Barman's log.
   */
  public boolean receiverOnAbandonedTimeline(long since) {
    try {
      return onAbandonedTimeline(Files.readAllLines(repository.resolve("barman.log")), since);
    } catch (IOException e) {
      return false;
    }
  }

  /** The same on the log's lines (timestamps in local time, as Barman writes them). Pure. */
  static boolean onAbandonedTimeline(List<String> log, long since) {
    String from = java.time.LocalDateTime.ofInstant(Instant.ofEpochMilli(since), java.time.ZoneId.systemDefault())
        .format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
    return log.subList(Math.max(0, log.size() - 500), log.size()).stream()
        .anyMatch(l -> l.length() > 19 && l.substring(0, 19).compareTo(from) >= 0 && l.contains(NOT_IN_HISTORY));
  }

  /**
   * Restarts the WAL receiver at the server's current WAL file ({@code receive-wal --reset}, Barman's remedy for a
   * receiver ahead of its server). The abandoned timeline's WAL stays in the repository; the new timeline's WAL from
   * the fork to now is not streamed, so the caller takes a base backup at once.
   */
  public void resetReceiver() {
    try {
      stopReceiver();
    } catch (IllegalStateException e) {
      // refused on every start, it is usually not running: nothing to stop
    }
    run(Duration.ofSeconds(60), "receive-wal", "--reset", server);
  }

  /**
   * Stops the WAL receiver Barman started (it outlives each {@code barman cron}); returns when it is gone. Runs even
   * after {@link #abortCalls}: stopping the receiver is what an abort leads to.
   */
  public void stopReceiver() {
    if (configured()) {
      run(Duration.ofSeconds(60), true, "receive-wal", "--stop", server);
    }
  }

  /**
   * Kills every Barman call in progress (and what it started) and refuses new ones except {@link #stopReceiver}: how
   * a controller that must stop within a bound ends a call that hangs. For good: a stopped controller's repository
   * is not touched again through this object.
   */
  public void abortCalls() {
    List<Process> calls;
    synchronized (running) {
      aborted = true;
      calls = List.copyOf(running);
    }
    calls.forEach(Barman::kill);
  }

  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }

  private String run(Duration timeout, String... args) {
    return run(timeout, false, args);
  }

  private String run(Duration timeout, boolean evenAborted, String... args) {
    List<String> command = new ArrayList<>(program);
    command.addAll(List.of("-c", repository.resolve("barman.conf").toString()));
    command.addAll(List.of(args));
    Path output = null;
    Process p = null;
    try {
      output = Files.createTempFile("pgtide-barman", ".out");
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(output.toFile()).directory(repository.toFile());
      pb.environment().put("HOME", repository.toString());
      long started = System.currentTimeMillis();
      p = start(pb, evenAborted, args[0]);
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        kill(p);
        throw new IllegalStateException("barman " + args[0] + " did not finish within " + timeout.toSeconds() + " s");
      }
      String out = Files.readString(output, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException("barman " + String.join(" ", args) + " failed (exit " + p.exitValue() + ")"
            + (aborted ? ": aborted, the backup controller is stopping" : ": " + tail(out) + loggedErrors(started)));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run barman " + args[0], e);
    } catch (InterruptedException e) {
      // whoever interrupts wants this thread back: the call must not outlive it
      kill(p);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while barman " + args[0] + " ran", e);
    } finally {
      if (p != null) {
        synchronized (running) {
          running.remove(p);
        }
      }
      if (output != null) {
        output.toFile().delete();
      }
    }
  }

  /** Starts a call unless calls were aborted; registered before an abort can look, so none escapes it. */
  private Process start(ProcessBuilder pb, boolean evenAborted, String what) throws IOException {
    synchronized (running) {
      if (aborted && !evenAborted) {
        throw new IllegalStateException("barman " + what + " refused: the backup controller is stopping");
      }
      Process p = pb.start();
      running.add(p);
      return p;
    }
  }

  /** The ERROR lines Barman logged since {@code since} (its console says only "check the log"). */
  private String loggedErrors(long since) {
    try {
      List<String> lines = Files.readAllLines(repository.resolve("barman.log"));
      java.time.format.DateTimeFormatter f = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
      String from = java.time.LocalDateTime.ofInstant(Instant.ofEpochMilli(since - 1000),
          java.time.ZoneId.systemDefault()).format(f);
      List<String> errors = lines.subList(Math.max(0, lines.size() - 200), lines.size()).stream()
          .filter(l -> l.length() > 19 && l.substring(0, 19).compareTo(from) >= 0 && l.contains(" ERROR: ")
              && !l.contains("Impossible to start the backup"))
          .map(l -> l.substring(l.indexOf(" ERROR: ") + 8)).distinct().toList();
      return errors.isEmpty() ? "" : " (" + String.join("; ", errors) + ")";
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static String tail(String out) {
    String s = out.strip();
    return s.length() > 600 ? "…" + s.substring(s.length() - 600) : s;
  }

  /** One entry of the catalogue. */
  public record BackupInfo(String id, String status, Instant endedAt, long sizeBytes) {
    public boolean done() {
      return "DONE".equals(status);
    }
  }
}
