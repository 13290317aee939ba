package io.pgtide.operator.pooler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Function;

/**
 * PgBouncer's {@code SHOW POOLS} and {@code SHOW STATS} (admin console, PgBouncer 1.18 and later) as values for
 * Prometheus series. Rows are column name to text, as any client reads them. A column that is missing or not a number
 * leaves its series out instead of failing: the columns changed between PgBouncer versions (maxwait_us came in 1.8,
 * the cancel-request columns in 1.18) and an exporter must not go dark over one of them. Pure.
 */
public final class PoolStats {
  /** The admin console's own pseudo-database: its rows count console sessions, not client load. */
  static final String ADMIN_DATABASE = "pgbouncer";

  public enum Kind { GAUGE, COUNTER }

  /** One value of one series; {@code labels} are database (and user, for pool series). */
  public record Sample(String name, Kind kind, Map<String, String> labels, double value) {
  }

  public static final String CLIENTS_ACTIVE = "pgtide_pooler_clients_active";
  public static final String CLIENTS_WAITING = "pgtide_pooler_clients_waiting";
  public static final String SERVERS_ACTIVE = "pgtide_pooler_server_connections_active";
  public static final String SERVERS_IDLE = "pgtide_pooler_server_connections_idle";
  public static final String SERVERS_USED = "pgtide_pooler_server_connections_used";
  public static final String MAX_WAIT = "pgtide_pooler_max_wait_seconds";
  public static final String AVERAGE_WAIT = "pgtide_pooler_average_wait_seconds";
  public static final String TRANSACTIONS = "pgtide_pooler_transactions_total";
  public static final String QUERIES = "pgtide_pooler_queries_total";
  public static final String WAIT_TIME = "pgtide_pooler_wait_seconds_total";

  private static final double MICROS = 1_000_000.0;

  private PoolStats() {
  }

  /** The samples of both commands' rows (either list may be empty). */
  public static List<Sample> samples(List<Map<String, String>> pools, List<Map<String, String>> stats) {
    List<Sample> out = new ArrayList<>();
    for (Map<String, String> row : pools) {
      if (ADMIN_DATABASE.equals(row.get("database"))) {
        continue;
      }
      Map<String, String> labels = labels(row, "database", "user");
      gauge(out, CLIENTS_ACTIVE, labels, number(row, "cl_active"));
      gauge(out, CLIENTS_WAITING, labels, number(row, "cl_waiting"));
      gauge(out, SERVERS_ACTIVE, labels, number(row, "sv_active"));
      gauge(out, SERVERS_IDLE, labels, number(row, "sv_idle"));
      gauge(out, SERVERS_USED, labels, number(row, "sv_used"));
      gauge(out, MAX_WAIT, labels, maxWait(row));
    }
    for (Map<String, String> row : stats) {
      if (ADMIN_DATABASE.equals(row.get("database"))) {
        continue;
      }
      Map<String, String> labels = labels(row, "database");
      add(out, TRANSACTIONS, Kind.COUNTER, labels, number(row, "total_xact_count"));
      add(out, QUERIES, Kind.COUNTER, labels, number(row, "total_query_count"));
      add(out, WAIT_TIME, Kind.COUNTER, labels, scaled(number(row, "total_wait_time"), v -> v / MICROS));
      // the average over PgBouncer's last stats period (stats_period, 60 s by default), in microseconds
      gauge(out, AVERAGE_WAIT, labels, scaled(number(row, "avg_wait_time"), v -> v / MICROS));
    }
    return out;
  }

  /** The sum of one series over all its label sets, when any sample has it. */
  public static OptionalDouble total(List<Sample> samples, String name) {
    return samples.stream().filter(s -> s.name().equals(name)).mapToDouble(Sample::value)
        .reduce(Double::sum);
  }

  /**
   * How long the oldest waiting client has waited: {@code maxwait} (whole seconds) plus {@code maxwait_us} (the
   * microseconds past them); without {@code maxwait_us} (PgBouncer before 1.8) the whole seconds.
   */
  private static OptionalDouble maxWait(Map<String, String> row) {
    OptionalDouble seconds = number(row, "maxwait");
    if (seconds.isEmpty()) {
      return seconds;
    }
    OptionalDouble micros = number(row, "maxwait_us");
    return OptionalDouble.of(seconds.getAsDouble() + (micros.isPresent() ? micros.getAsDouble() / MICROS : 0));
  }

  private static OptionalDouble number(Map<String, String> row, String column) {
    String text = row.get(column);
    if (text == null || text.isBlank()) {
      return OptionalDouble.empty();
    }
    try {
      double v = Double.parseDouble(text.trim());
      return Double.isFinite(v) ? OptionalDouble.of(v) : OptionalDouble.empty();
    } catch (NumberFormatException e) {
      return OptionalDouble.empty();
    }
  }

  private static OptionalDouble scaled(OptionalDouble v, Function<Double, Double> f) {
    return v.isPresent() ? OptionalDouble.of(f.apply(v.getAsDouble())) : v;
  }

  private static Map<String, String> labels(Map<String, String> row, String... columns) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String c : columns) {
      out.put(c, row.getOrDefault(c, ""));
    }
    return Map.copyOf(out);
  }

  private static void gauge(List<Sample> out, String name, Map<String, String> labels, OptionalDouble v) {
    add(out, name, Kind.GAUGE, labels, v);
  }

  private static void add(List<Sample> out, String name, Kind kind, Map<String, String> labels, OptionalDouble v) {
    if (v.isPresent()) {
      out.add(new Sample(name, kind, labels, v.getAsDouble()));
    }
  }
}
