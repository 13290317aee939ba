package io.pgtide.sidecar.custom;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pgtide.common.contract.CustomQueries;
import io.pgtide.common.contract.QueryFailure;
import io.pgtide.sidecar.Deadline;
import io.pgtide.sidecar.PgCollector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the custom queries of the files {@link CustomQueries#ENV} names every interval, one after another on a
 * connection of their own (so a slow one never delays the built-in sample, and its statement_timeout is theirs),
 * and keeps the last results as Prometheus text. The files are read again every round, off the event loop: the
 * kubelet swaps a mounted ConfigMap's files in place, and an edit takes effect without a restart. A file that does
 * not parse keeps the queries that ran before it; a query that fails loses its series until it works again,
 * counts in {@code pgtide_custom_query_errors_total{query}} and is logged, and the others go on.
 */
public final class CustomQueryRunner {
  private static final Logger LOG = LoggerFactory.getLogger(CustomQueryRunner.class);

  /**
   * From the environment: {@link CustomQueries#ENV} (the files), PGTIDE_CUSTOM_QUERIES_INTERVAL_MS (default 15 s, as
   * a usual scrape interval) and PGTIDE_CUSTOM_QUERIES_TIMEOUT_MS (each query's statement_timeout, default 10 s).
   */
  public record Settings(List<Path> files, long intervalMs, long timeoutMs) {
    public static final Settings NONE = new Settings(List.of(), 15_000, 10_000);

    public Settings {
      files = List.copyOf(files);
      if (intervalMs < 1_000 || timeoutMs < 100) {
        throw new IllegalArgumentException("PGTIDE_CUSTOM_QUERIES_INTERVAL_MS must be at least 1000 and "
            + "PGTIDE_CUSTOM_QUERIES_TIMEOUT_MS at least 100");
      }
    }

    public static Settings fromEnv(Map<String, String> env) {
      return new Settings(CustomQueries.files(env.get(CustomQueries.ENV)).stream().map(Path::of).toList(),
          millis(env, "PGTIDE_CUSTOM_QUERIES_INTERVAL_MS", NONE.intervalMs),
          millis(env, "PGTIDE_CUSTOM_QUERIES_TIMEOUT_MS", NONE.timeoutMs));
    }

    private static long millis(Map<String, String> env, String name, long fallback) {
      String value = env.get(name);
      try {
        return value == null || value.isBlank() ? fallback : Long.parseLong(value.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + " must be a whole number of milliseconds, got '" + value + "'");
      }
    }
  }

  private final Vertx vertx;
  private final PgCollector pg;
  private final List<Path> files;
  private final long timeoutMs;
  private final MeterRegistry registry;
  private final Tags tags;
  private final String member;
  private final AtomicInteger configValid = new AtomicInteger(1);
  private Map<Path, String> lastTexts = Map.of();
  private List<CustomQueries.Query> queries = List.of();
  private String configProblem;
  /** The last successful result of each query (by prefix); absent while it fails or on a replica (master: true). */
  private final Map<String, CustomMetricsText.Result> results = new HashMap<>();
  /** The last failure of each query, so a query failing the same way every round is logged once. */
  private final Map<String, String> failures = new HashMap<>();
  private PgConnection connection;
  private boolean running;
  private String roundProblem;
  private volatile String text = "";
  /** The queries whose last run failed, as of the last round; read by the report (see {@link #failures}). */
  private volatile List<QueryFailure> failed = List.of();

  public CustomQueryRunner(Vertx vertx, PgCollector pg, List<Path> files, long timeoutMs, MeterRegistry registry,
                           Tags tags, String member) {
    this.vertx = vertx;
    this.pg = pg;
    this.files = List.copyOf(files);
    this.timeoutMs = timeoutMs;
    this.registry = registry;
    this.tags = tags;
    this.member = member;
    Gauge.builder("pgtide_custom_queries_config_valid", configValid, AtomicInteger::get)
        .description("1 when every custom queries file was read and parsed (0: the queries that ran before go on)")
        .tags(tags).register(registry);
  }

  /** Starts the rounds: the first soon after start, then every {@code intervalMs}. */
  public void start(long intervalMs) {
    vertx.setPeriodic(1_000, intervalMs, t -> round());
  }

  /**
   * The loaded queries whose last run failed (an error, a timeout, a wrong shape), in file order, with the reason:
   * what the sidecar's report carries, so the operator tells of a query that starts failing (an event).
   */
  public List<QueryFailure> failures() {
    return failed;
  }

  /** The custom series of the last rounds, in Prometheus' text format. */
  public String text() {
    return text;
  }

  public Future<Void> close() {
    PgConnection c = connection;
    connection = null;
    return c == null ? Future.succeededFuture() : c.close();
  }

  /** One round; the next one waits for it. Runs on the event loop; only the file reads block, on a worker. */
  Future<Void> round() {
    if (running) {
      return Future.succeededFuture();
    }
    running = true;
    return vertx.executeBlocking(this::readFiles, false)
        .map(texts -> {
          reload(texts);
          return null;
        })
        .compose(v -> queries.isEmpty() ? Future.succeededFuture() : runAll())
        .onSuccess(v -> roundProblem = null)
        .recover(e -> {
          // no connection: every query's series goes, as a missing figure is absent, never stale
          if (!Objects.equals(e.getMessage(), roundProblem)) {
            LOG.warn("[{}] custom queries not run: {}", member, e.getMessage());
          }
          roundProblem = e.getMessage();
          results.clear();
          return Future.succeededFuture();
        })
        .onComplete(ar -> {
          text = CustomMetricsText.render(queries.stream().map(q -> results.get(q.prefix()))
              .filter(Objects::nonNull).toList());
          failed = queries.stream().filter(q -> failures.containsKey(q.prefix()))
              .map(q -> new QueryFailure(q.prefix(), failures.get(q.prefix()))).toList();
          running = false;
        }).mapEmpty();
  }

  private Map<Path, String> readFiles() {
    Map<Path, String> out = new LinkedHashMap<>();
    for (Path file : files) {
      try {
        out.put(file, Files.readString(file));
      } catch (NoSuchFileException e) {
        out.put(file, null);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private void reload(Map<Path, String> texts) {
    if (texts.equals(lastTexts)) {
      return;
    }
    lastTexts = texts;
    try {
      List<CustomQueries.Query> loaded = new ArrayList<>();
      for (Map.Entry<Path, String> e : texts.entrySet()) {
        if (e.getValue() == null) {
          throw new CustomQueries.Invalid(e.getKey() + " does not exist (is the ConfigMap there, with that key?)");
        }
        loaded.addAll(CustomQueries.parse(e.getValue(), e.getKey().toString()));
      }
      CustomQueries.check(loaded);
      queries = List.copyOf(loaded);
      configValid.set(1);
      configProblem = null;
      List<String> prefixes = queries.stream().map(CustomQueries.Query::prefix).toList();
      results.keySet().retainAll(prefixes);
      failures.keySet().retainAll(prefixes);
      for (CustomQueries.Query q : queries) {
        errors(q.prefix()); // every query's counter from 0, so rate() sees its first error
      }
      LOG.info("[{}] custom queries: {} loaded from {}", member, queries.size(), files);
    } catch (CustomQueries.Invalid e) {
      configValid.set(0);
      if (!e.getMessage().equals(configProblem)) {
        LOG.warn("[{}] custom queries not reloaded, {} still run: {}", member, queries.size(), e.getMessage());
      }
      configProblem = e.getMessage();
    }
  }

  private Future<Void> runAll() {
    pg.ownStatements(1);
    return connection()
        .compose(conn -> conn.query(PgCollector.IN_RECOVERY).execute()
            .map(rs -> rs.iterator().next().getBoolean(0))
            .compose(inRecovery -> {
              Future<Void> chain = Future.succeededFuture();
              for (CustomQueries.Query q : queries) {
                if (q.primaryOnly() && inRecovery) {
                  results.remove(q.prefix());
                  failures.remove(q.prefix()); // not run here: not failing here
                  continue;
                }
                chain = chain.compose(v -> runOne(conn, q));
              }
              return chain;
            }));
  }

  private Future<Void> runOne(PgConnection conn, CustomQueries.Query q) {
    pg.ownStatements(1);
    Future<List<CustomMetricsText.Row>> rows = conn.query(q.sql()).execute().map(rs -> {
      List<CustomMetricsText.Row> out = new ArrayList<>();
      for (Row row : rs) {
        out.add(convert(q, row));
      }
      return out;
    });
    // the server's statement_timeout ends a slow query; this ends a connection that stopped answering at all
    return Deadline.within(vertx, rows, timeoutMs + 2_000, () -> new IllegalStateException(
            "no answer within " + (timeoutMs + 2_000) + " ms"), this::dropConnection)
        .map(list -> {
          results.put(q.prefix(), new CustomMetricsText.Result(q, list));
          if (failures.remove(q.prefix()) != null) {
            LOG.info("[{}] custom query {} works again", member, q.prefix());
          }
          return (Void) null;
        })
        .recover(e -> {
          results.remove(q.prefix());
          errors(q.prefix()).increment();
          String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
          if (!why.equals(failures.put(q.prefix(), why))) {
            LOG.warn("[{}] custom query {} ({}) failed: {}", member, q.prefix(), q.source(), why);
          }
          return Future.succeededFuture();
        });
  }

  /** One result row as labels and values; a column the query does not return, or not a number, fails the query. */
  static CustomMetricsText.Row convert(CustomQueries.Query q, Row row) {
    List<String> labels = new ArrayList<>();
    for (CustomQueries.Column c : q.labels()) {
      Object value = row.getValue(index(row, c.name()));
      labels.add(value == null ? "" : value.toString());
    }
    List<Double> values = new ArrayList<>();
    for (CustomQueries.Column c : q.values()) {
      values.add(number(c.name(), row.getValue(index(row, c.name()))));
    }
    List<CustomMetricsText.Histogram> histograms = new ArrayList<>();
    for (CustomQueries.Column c : q.histograms()) {
      histograms.add(histogram(c.name(), name -> row.getValue(index(row, name))));
    }
    return new CustomMetricsText.Row(labels, values, histograms);
  }

  /**
   * A HISTOGRAM column {@code c} as postgres_exporter reads it: {@code c} the upper bounds (an array),
   * {@code c_bucket} their cumulative counts (an array), {@code c_sum} and {@code c_count}.
   */
  static CustomMetricsText.Histogram histogram(String c, java.util.function.Function<String, Object> column) {
    List<Double> bounds = new ArrayList<>();
    for (Object o : array(c, column.apply(c))) {
      bounds.add(number(c, o));
    }
    List<Long> counts = new ArrayList<>();
    for (Object o : array(c + "_bucket", column.apply(c + "_bucket"))) {
      counts.add(whole(c + "_bucket", o));
    }
    return new CustomMetricsText.Histogram(bounds, counts, number(c + "_sum", column.apply(c + "_sum")),
        whole(c + "_count", column.apply(c + "_count")));
  }

  private static Object[] array(String column, Object value) {
    if (value instanceof Object[] a) {
      return a;
    }
    throw new IllegalStateException("column " + column + " is not an array (a HISTOGRAM reads one)");
  }

  private static long whole(String column, Object value) {
    Double d = number(column, value);
    if (d.isNaN() || d < 0 || d != Math.rint(d)) {
      throw new IllegalStateException("column " + column + " is not a count: '" + value + "'");
    }
    return d.longValue();
  }

  private static int index(Row row, String column) {
    int i = row.getColumnIndex(column);
    if (i < 0) {
      throw new IllegalStateException("the result has no column " + column + " (metrics lists it)");
    }
    return i;
  }

  /**
   * As postgres_exporter converts: numbers, booleans (1/0), times (whole Unix seconds: Go's {@code Time.Unix()}),
   * NULL (NaN), numeric text.
   */
  static Double number(String column, Object value) {
    if (value == null) {
      return Double.NaN;
    }
    if (value instanceof Number n) {
      return n.doubleValue();
    }
    if (value instanceof Boolean b) {
      return b ? 1.0 : 0.0;
    }
    if (value instanceof OffsetDateTime t) {
      return (double) t.toEpochSecond();
    }
    if (value instanceof LocalDateTime t) {
      return (double) t.toEpochSecond(ZoneOffset.UTC);
    }
    try {
      return Double.parseDouble(value.toString().strip());
    } catch (NumberFormatException e) {
      throw new IllegalStateException("column " + column + " is not a number: '" + value + "'");
    }
  }

  private Counter errors(String prefix) {
    return Counter.builder("pgtide_custom_query_errors")
        .description("custom query runs that failed (an error, a timeout, a column missing or not a number)")
        .tags(tags).tag("query", prefix).register(registry);
  }

  private Future<PgConnection> connection() {
    if (connection != null) {
      return Future.succeededFuture(connection);
    }
    PgConnectOptions options = new PgConnectOptions(pg.options())
        .addProperty("application_name", "pgtide-sidecar-custom")
        .addProperty("statement_timeout", String.valueOf(timeoutMs));
    return pg.connectWithin(options).map(conn -> {
      connection = conn;
      conn.closeHandler(v -> {
        if (connection == conn) {
          connection = null;
        }
      });
      return conn;
    });
  }

  private void dropConnection() {
    PgConnection c = connection;
    connection = null;
    if (c != null) {
      c.close();
    }
  }
}
