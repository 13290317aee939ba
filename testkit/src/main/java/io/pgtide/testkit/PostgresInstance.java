package io.pgtide.testkit;

import io.pgtide.common.secrets.ClusterSecrets;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.common.process.OsUser;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.local.process.Waits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A single real PostgreSQL 15 (initdb + postmaster) on a free loopback port, password auth over TCP. */
public final class PostgresInstance implements AutoCloseable {
  private final Path dir;
  private final int port;
  private final String password;
  private ManagedProcess postmaster;

  private PostgresInstance(Path dir, int port, String password) {
    this.dir = dir;
    this.port = port;
    this.password = password;
  }

  public static PostgresInstance start(Path dir) {
    String password = ClusterSecrets.password(20);
    PostgresInstance pg = new PostgresInstance(dir, TestMachine.freePort(), password);
    pg.init();
    pg.startPostmaster();
    return pg;
  }

  private void init() {
    try {
      OsUser.ownedDirectory(dir, false);
      Path pwfile = dir.resolve("pwfile");
      Files.writeString(pwfile, password + "\n");
      OsUser.runChecked(OsUser.asPostgres(List.of(PatroniMember.BIN_DIR + "/initdb", "-D", dataDir().toString(),
          "-U", "postgres", "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8")),
          dir.resolve("initdb.log"));
      Files.delete(pwfile);
      Files.writeString(dataDir().resolve("postgresql.auto.conf"),
          "shared_preload_libraries = 'pg_stat_statements'\nlisten_addresses = '127.0.0.1'\n",
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void startPostmaster() {
    postmaster = TestMachine.get().start("postgres", OsUser.asPostgres(List.of(PatroniMember.BIN_DIR + "/postgres",
        "-D", dataDir().toString(), "-p", Integer.toString(port), "-k", dir.toString())), Map.of(), dir,
        dir.resolve("postgres.log"));
    Waits.until("PostgreSQL on port " + port, Duration.ofSeconds(60),
        () -> "1".equals(Psql.query(port, "postgres", password, "postgres", "select 1")), () -> postmaster.tail(20));
  }

  public Path dataDir() {
    return dir.resolve("data");
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

  /** Fast shutdown (SIGINT), waiting until the postmaster is gone. */
  public void stop() {
    if (postmaster != null && postmaster.isAlive()) {
      postmaster.signal(io.pgtide.local.process.Signal.INT);
      Waits.until("postmaster to stop", Duration.ofSeconds(30), () -> !postmaster.isAlive(), () -> "");
    }
  }

  @Override
  public void close() {
    if (postmaster != null) {
      postmaster.stop(Duration.ofSeconds(20));
    }
  }
}
