package io.pgtide.local.process;

import io.pgtide.common.process.OsUser;
import io.pgtide.common.secrets.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Debian's PgBouncer as a local process (issue #32): run in the foreground (its PID is the one we hold, no pidfile),
 * as the postgres user when we are root, from a directory that is its only (it holds the pooler role's password).
 * The configuration is written by the caller; {@link #reconfigure} replaces it atomically and reloads it with SIGHUP,
 * which keeps every client connection.
 */
public final class PgBouncerProcess {
  public static final String BINARY = "/usr/sbin/pgbouncer";
  static final String INI = "pgbouncer.ini";
  static final String AUTH_FILE = "userlist.txt";

  private final Path dir;
  private final int port;
  private final ManagedProcess process;

  private PgBouncerProcess(Path dir, int port, ManagedProcess process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
  }

  /** Where the ini and auth file of a PgBouncer in {@code dir} are: PgBouncerConfig needs the auth file's path. */
  public static Path authFile(Path dir) {
    return dir.resolve(AUTH_FILE);
  }

  /**
   * Writes {@code ini} and {@code authFile} into {@code dir} (0700, the postgres user's), starts PgBouncer on them
   * and waits until it accepts connections on {@code port} of 127.0.0.1.
   */
  public static PgBouncerProcess start(LocalMachine machine, Path dir, int port, String ini, String authFile,
                                       Path log) {
    if (!Files.isExecutable(Path.of(BINARY))) {
      throw new IllegalStateException("spec.pooler needs PgBouncer, and " + BINARY + " is missing: apt-get install "
          + "pgbouncer (or bash scripts/setup.sh)");
    }
    OsUser.makeTraversable(dir.getParent());
    OsUser.ownedDirectory(dir, true);
    PrivateFiles.write(authFile(dir), authFile);
    replace(dir, INI, ini);
    ManagedProcess p = machine.start("pgbouncer", OsUser.asPostgres(List.of(BINARY, dir.resolve(INI).toString())),
        Map.of("HOME", dir.toString()), dir, log);
    PgBouncerProcess bouncer = new PgBouncerProcess(dir, port, p);
    try {
      Waits.until("PgBouncer to listen on 127.0.0.1:" + port, Duration.ofSeconds(30), () -> {
        if (!p.isAlive()) {
          throw new IllegalStateException("PgBouncer exited");
        }
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
          return true;
        }
      }, () -> p.isAlive() ? p.tail(20) : "PgBouncer exited: " + p.tail(20));
    } catch (RuntimeException e) {
      p.stop(Duration.ofSeconds(5));
      throw e;
    }
    return bouncer;
  }

  /** Replaces the ini (never half-written: a new file moved over the old one) and reloads it (SIGHUP). */
  public void reconfigure(String ini) {
    replace(dir, INI, ini);
    process.signal(Signal.HUP);
  }

  private static void replace(Path dir, String name, String content) {
    Path next = dir.resolve(name + ".next");
    PrivateFiles.write(next, content);
    OsUser.ownedDirectory(dir, true); // PgBouncer runs as postgres: the new file must be its own
    try {
      Files.move(next, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot replace " + dir.resolve(name), e);
    }
  }

  public long pid() {
    return process.pid();
  }

  public int port() {
    return port;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String logTail(int lines) {
    return process.tail(lines);
  }

  /** Immediate shutdown (SIGTERM: PgBouncer closes every connection), SIGKILL after 10 s. */
  public void close() {
    process.stop(Duration.ofSeconds(10));
  }
}
