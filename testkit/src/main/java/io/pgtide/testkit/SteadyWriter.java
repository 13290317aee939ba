package io.pgtide.testkit;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client that writes one row per statement through an endpoint and remembers every commit the server
 * acknowledged, so a test can count acknowledged writes lost across a failover. Reconnects on any error.
 */
public final class SteadyWriter implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final PgConnectOptions options;
  private final Set<Long> acknowledged = new ConcurrentSkipListSet<>();
  private final java.util.List<Long> ackTimes = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
  private final AtomicLong next = new AtomicLong(1);
  private final AtomicLong errors = new AtomicLong();
  private final java.util.List<Long> errorTimes = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
  private final AtomicBoolean running = new AtomicBoolean(true);
  /** id -> {sent at, acknowledged at} (ms) of every acknowledged insert: what a point-in-time restore must keep. */
  private final java.util.Map<Long, long[]> timeline = new java.util.concurrent.ConcurrentSkipListMap<>();
  private volatile long lastAckAt;
  private final Thread thread;
  private final String table;

  public SteadyWriter(int port, String user, String password) {
    this(new PgConnectOptions().setHost("127.0.0.1").setPort(port).setUser(user).setPassword(password)
        .setDatabase("postgres"), "writer_log");
  }

  /**
   * A second writer next to another one, into its own table: e.g. sessions opened straight to one member (not
   * through an endpoint) that keep writing to it whatever happens to it.
   */
  public static SteadyWriter intoTable(int port, String user, String password, String table) {
    if (!table.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException("not a plain table name: " + table);
    }
    return new SteadyWriter(new PgConnectOptions().setHost("127.0.0.1").setPort(port).setUser(user)
        .setPassword(password).setDatabase("postgres"), table);
  }

  /**
   * Through {@code host:port} over SSL, as a client in a Kubernetes cluster reaches Spilo (its pg_hba refuses
   * remote connections without it); the server's self-signed certificate is accepted.
   */
  public static SteadyWriter overSsl(String host, int port, String user, String password) {
    return overSslIntoTable(host, port, user, password, "writer_log");
  }

  /** The same over SSL into a table of its own: e.g. straight to one member's pod next to a writer through a Service. */
  public static SteadyWriter overSslIntoTable(String host, int port, String user, String password, String table) {
    if (!table.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException("not a plain table name: " + table);
    }
    return new SteadyWriter(new PgConnectOptions().setHost(host).setPort(port).setUser(user).setPassword(password)
        .setDatabase("postgres").setSslMode(io.vertx.pgclient.SslMode.REQUIRE)
        .setSslOptions(new io.vertx.core.net.ClientSSLOptions().setTrustAll(true)), table);
  }

  private SteadyWriter(PgConnectOptions options, String table) {
    this.options = options;
    this.table = table;
    PgConnection setup = get(PgConnection.connect(vertx, options), 30);
    get(setup.query("CREATE TABLE IF NOT EXISTS " + table + "(id bigint PRIMARY KEY, at timestamptz DEFAULT now())")
        .execute(), 30);
    get(setup.query("TRUNCATE " + table).execute(), 30);
    get(setup.close(), 30);
    thread = new Thread(this::loop, "steady-writer");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    PgConnection conn = null;
    while (running.get()) {
      try {
        if (conn == null) {
          conn = get(PgConnection.connect(vertx, options), 2);
        }
        long id = next.getAndIncrement();
        long sentAt = System.currentTimeMillis();
        get(conn.preparedQuery("INSERT INTO " + table + "(id) VALUES ($1)").execute(Tuple.of(id)), 5);
        acknowledged.add(id);
        lastAckAt = System.currentTimeMillis();
        ackTimes.add(lastAckAt);
        timeline.put(id, new long[] {sentAt, lastAckAt});
        Thread.sleep(10);
      } catch (Exception e) {
        errors.incrementAndGet();
        errorTimes.add(System.currentTimeMillis());
        if (conn != null) {
          try {
            conn.close();
          } catch (RuntimeException ignored) {
            // already broken
          }
          conn = null;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
    if (conn != null) {
      conn.close();
    }
  }

  private static <T> T get(io.vertx.core.Future<T> future, int seconds) {
    try {
      return future.await(seconds, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("no answer within " + seconds + " s", e);
    }
  }

  /** Every acknowledged insert: id -> {sent at, acknowledged at} in ms, ids ascending. */
  public java.util.Map<Long, long[]> timeline() {
    return java.util.Collections.unmodifiableMap(timeline);
  }

  public int acknowledgedCount() {
    return acknowledged.size();
  }

  public long errors() {
    return errors.get();
  }

  /** When each failed attempt (write or connect) happened, epoch ms. */
  public List<Long> errorTimes() {
    synchronized (errorTimes) {
      return List.copyOf(errorTimes);
    }
  }

  /**
   * When writes were acknowledged again after {@code since}: the first acknowledgement that follows a gap of more
   * than 500 ms (the outage), or the first one after {@code since} when there was no gap.
   */
  public long firstAckAfterGap(long since) {
    synchronized (ackTimes) {
      long previous = since;
      for (long t : ackTimes) {
        if (t < since) {
          continue;
        }
        if (t - previous > 500) {
          return t;
        }
        previous = t;
      }
      return since; // no outage
    }
  }

  /**
   * When writes were acknowledged again after a fault inflicted at {@code since}: the first acknowledgement after
   * the last failed attempt of the following {@code windowMs} (an outage may be short enough to leave no gap of
   * 500 ms between acknowledgements, but a dropped connection always fails an attempt); without a failure, as
   * {@link #firstAckAfterGap}.
   */
  public long writableAgainAfter(long since, long windowMs) {
    long lastError = errorTimes().stream().filter(t -> t >= since && t <= since + windowMs).mapToLong(Long::longValue)
        .max().orElse(-1);
    if (lastError < 0) {
      return firstAckAfterGap(since);
    }
    synchronized (ackTimes) {
      return ackTimes.stream().filter(t -> t > lastError).findFirst().orElse(Long.MAX_VALUE);
    }
  }

  public long lastAckAt() {
    return lastAckAt;
  }

  /** Acknowledged ids missing from the table as the server this writer writes to sees it now. */
  public long lost() {
    return lost(options.getPort(), options.getUser(), options.getPassword());
  }

  /** Acknowledged ids missing from the table as the server at {@code port} sees it now. */
  public long lost(int port, String user, String password) {
    return lost(options.getHost(), port, user, password);
  }

  /** Acknowledged ids missing from the table as the server at {@code host:port} sees it now. */
  public long lost(String host, int port, String user, String password) {
    PgConnectOptions o = new PgConnectOptions(options).setHost(host).setPort(port).setUser(user)
        .setPassword(password);
    PgConnection conn = get(PgConnection.connect(vertx, o), 30);
    try {
      Set<Long> present = new HashSet<>();
      for (Row r : get(conn.query("SELECT id FROM " + table).execute(), 30)) {
        present.add(r.getLong(0));
      }
      return acknowledged.stream().filter(id -> !present.contains(id)).count();
    } finally {
      conn.close();
    }
  }

  /** Writes acknowledged at or after {@code since} (epoch ms, as seen by this process). */
  public long acknowledgedSince(long since) {
    synchronized (ackTimes) {
      return ackTimes.stream().filter(t -> t >= since).count();
    }
  }

  public List<Long> acknowledged() {
    return List.copyOf(acknowledged);
  }

  public void stop() {
    running.set(false);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops writing and closes Vert.x. Its close waits for every connection to close, and one to a member whose node was
   * frozen or cut may take a TLS close and a TCP time-out to go (past 10 s in a loaded CI run): 60 s, then the failure.
   */
  @Override
  public void close() {
    stop();
    get(vertx.close(), 60);
  }
}
