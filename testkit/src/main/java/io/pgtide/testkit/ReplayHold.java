package io.pgtide.testkit;

import io.pgtide.common.process.Psql;
import io.pgtide.local.process.Waits;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Holds a replica's WAL replay back for as long as a test needs, by a mechanism Patroni leaves alone.
 *
 * <p>Why not {@code pg_wal_replay_pause()}: on PostgreSQL 14+ every Patroni HA loop of a replica resumes a paused
 * replay ("Resuming paused WAL replay for PostgreSQL 14+"), so a pause lasts at most one {@code loop_wait}.
 *
 * <p>How: a transaction on the replica reads a table (holding its ACCESS SHARE lock) and stays open; the primary
 * then drops that table. Replaying the drop needs the conflicting lock, so the startup process waits for the
 * reader while WAL keeps arriving: received minus replayed grows. It waits for ever when the replica runs with
 * {@code max_standby_streaming_delay = -1} (otherwise it cancels the reader after that delay). {@link #close()}
 * ends the reader and replay catches up.
 */
public final class ReplayHold implements AutoCloseable {
  private final Process reader;
  private final OutputStream stdin;

  private ReplayHold(Process reader) {
    this.reader = reader;
    this.stdin = reader.getOutputStream();
  }

  /**
   * Creates {@code table} on the primary, waits until the replica has it, opens the reading transaction on the
   * replica and waits until the replica's {@code pg_locks} shows its lock; then drops the table on the primary.
   * From then on the replica replays nothing until {@link #close()}.
   */
  public static ReplayHold on(int primaryPort, int replicaPort, String user, String password, String table) {
    Psql.query(primaryPort, user, password, "postgres",
        "DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + "(x int); INSERT INTO " + table + " VALUES (1)");
    Waits.until("replica has " + table, Duration.ofSeconds(60), () -> "t".equals(
        Psql.query(replicaPort, user, password, "postgres", "SELECT to_regclass('" + table + "') IS NOT NULL")),
        () -> "the table never replicated");
    ReplayHold hold = new ReplayHold(startReader(replicaPort, user, password));
    try {
      hold.send("BEGIN; SELECT count(*) FROM " + table + ";\n");
      Waits.until("the replica's reader holds its lock on " + table, Duration.ofSeconds(30), () -> !"0".equals(
          Psql.query(replicaPort, user, password, "postgres", "SELECT count(*) FROM pg_locks l JOIN pg_class c"
              + " ON c.oid = l.relation WHERE c.relname = '" + table + "' AND l.granted AND l.pid <> pg_backend_pid()")),
          () -> "reader alive: " + hold.holding());
      Psql.query(primaryPort, user, password, "postgres", "DROP TABLE " + table);
      return hold;
    } catch (RuntimeException e) {
      hold.close();
      throw e;
    }
  }

  private static Process startReader(int port, String user, String password) {
    try {
      ProcessBuilder pb = new ProcessBuilder(List.of("psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p",
          Integer.toString(port), "-U", user, "-d", "postgres")).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("PGPASSWORD", password);
      pb.environment().put("PGCONNECT_TIMEOUT", "5");
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void send(String sql) {
    try {
      stdin.write(sql.getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("the replica's reading psql is gone", e);
    }
  }

  /** Whether the reading session still runs (a cancelled or terminated reader would let replay go on). */
  public boolean holding() {
    return reader.isAlive();
  }

  /** Ends the reading transaction and the psql; replay continues. */
  @Override
  public void close() {
    try {
      if (reader.isAlive()) {
        send("ROLLBACK;\n");
        stdin.close();
      }
      if (!reader.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        reader.destroyForcibly().waitFor();
      }
    } catch (IOException | UncheckedIOException e) {
      reader.destroyForcibly();
    } catch (InterruptedException e) {
      reader.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
