package io.pgtide.common.contract;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Custom metric queries in postgres_exporter's {@code queries.yaml} format: a metric prefix, its {@code query},
 * {@code master: true} (pgtide: run on the primary only) and {@code metrics}, one column each with a {@code usage}
 * (LABEL, GAUGE, COUNTER, HISTOGRAM or DISCARD) and a {@code description}. Every GAUGE, COUNTER or HISTOGRAM column
 * is exported as {@code <prefix>_<column>}, labelled by the LABEL columns; a HISTOGRAM column {@code c} holds the
 * upper bounds (an array) and reads its cumulative counts (an array), sum and count from the result's columns
 * {@code c_bucket}, {@code c_sum} and {@code c_count}, as postgres_exporter does. Part of the contract because both sides read the same
 * file the same way: the CLI and the operator refuse a file the sidecar would refuse. Pure.
 */
public final class CustomQueries {
  /** The sidecar's environment variable: the queries files, separated by ':' (as PATH). */
  public static final String ENV = "PGTIDE_CUSTOM_QUERIES";
  /** The ConfigMap key read when none is named. */
  public static final String DEFAULT_KEY = "queries.yaml";
  /** Where the operator mounts the n-th ConfigMap in the sidecar container ({@code <dir>/<n>/<key>}). */
  public static final String MOUNT_DIR = "/etc/pgtide/custom-queries";

  /** Prometheus' metric name grammar (no colons: those are for recording rules). */
  private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  /** The keys postgres_exporter knows for a query; cache_seconds and runonserver are accepted and not used. */
  private static final Set<String> QUERY_KEYS = Set.of("query", "master", "metrics", "cache_seconds", "runonserver");

  public enum Usage { LABEL, GAUGE, COUNTER, HISTOGRAM, DISCARD }

  public record Column(String name, Usage usage, String description) {
    /** Exported as a metric (GAUGE, COUNTER or HISTOGRAM). */
    public boolean exported() {
      return usage == Usage.GAUGE || usage == Usage.COUNTER || usage == Usage.HISTOGRAM;
    }

    /** The names in the exposition: a histogram's {@code _bucket}, {@code _sum} and {@code _count} series. */
    List<String> seriesSuffixes() {
      return usage == Usage.HISTOGRAM ? List.of("", "_bucket", "_sum", "_count") : List.of("");
    }
  }

  /** One query: {@code prefix} names it (in errors and the error counter), {@code source} is the file it came from. */
  public record Query(String prefix, String sql, boolean primaryOnly, List<Column> columns, String source) {
    public Query {
      columns = List.copyOf(columns);
    }

    public List<Column> labels() {
      return columns.stream().filter(c -> c.usage() == Usage.LABEL).toList();
    }

    /** The GAUGE and COUNTER columns: one number per row each. */
    public List<Column> values() {
      return columns.stream().filter(c -> c.usage() == Usage.GAUGE || c.usage() == Usage.COUNTER).toList();
    }

    /** The HISTOGRAM columns. */
    public List<Column> histograms() {
      return columns.stream().filter(c -> c.usage() == Usage.HISTOGRAM).toList();
    }

    public String metricName(Column c) {
      return prefix + "_" + c.name();
    }
  }

  /** The file is not a queries.yaml pgtide can run; the message names the file, the query and the rule. */
  public static final class Invalid extends RuntimeException {
    public Invalid(String message) {
      super(message);
    }
  }

  private CustomQueries() {
  }

  /** Parses one file's text; {@code source} names it in messages. Throws {@link Invalid}. */
  public static List<Query> parse(String yaml, String source) {
    Object root;
    try {
      // duplicate keys (two queries with one prefix) are an error, not the last one winning
      root = new Load(LoadSettings.builder().setAllowDuplicateKeys(false).setLabel(source).build())
          .loadFromString(yaml);
    } catch (RuntimeException e) {
      throw new Invalid(source + " is not YAML: " + yamlProblem(e));
    }
    if (root == null) {
      return List.of();
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw new Invalid(source + ": expected a map of metric prefix to query, got " + kind(root));
    }
    List<Query> out = new ArrayList<>();
    for (Map.Entry<?, ?> e : top.entrySet()) {
      out.add(query(String.valueOf(e.getKey()), e.getValue(), source));
    }
    check(out);
    return List.copyOf(out);
  }

  /**
   * Checks queries from several files together: every exported name and every prefix once. Throws {@link Invalid}.
   */
  public static void check(List<Query> queries) {
    Map<String, Query> names = new HashMap<>();
    Map<String, Query> prefixes = new HashMap<>();
    for (Query q : queries) {
      Query before = prefixes.putIfAbsent(q.prefix(), q);
      if (before != null) {
        throw new Invalid(q.source() + ": query " + q.prefix() + " is also defined in " + before.source());
      }
      Map<String, Query> own = new HashMap<>();
      for (Column c : q.columns()) {
        if (!c.exported()) {
          continue;
        }
        for (String suffix : c.seriesSuffixes()) {
          String name = q.metricName(c) + suffix;
          if (own.putIfAbsent(name, q) != null) {
            throw new Invalid(q.source() + ": query " + q.prefix() + ": metric " + name + " is exported twice"
                + " (a histogram's _bucket, _sum and _count are its own)");
          }
          Query other = names.putIfAbsent(name, q);
          if (other != null) {
            throw new Invalid(q.source() + ": query " + q.prefix() + ": metric " + name
                + " is also exported by query " + other.prefix() + (other.source().equals(q.source()) ? ""
                : " in " + other.source()));
          }
        }
      }
    }
  }

  private static Query query(String prefix, Object body, String source) {
    String where = source + ": query " + prefix;
    if (!METRIC_NAME.matcher(prefix).matches()) {
      throw new Invalid(where + ": the prefix is not a valid Prometheus metric name ([a-zA-Z_][a-zA-Z0-9_]*)");
    }
    if (prefix.startsWith("pgtide_")) {
      throw new Invalid(where + ": the prefix pgtide_ is for pgtide's own metrics");
    }
    if (!(body instanceof Map<?, ?> map)) {
      throw new Invalid(where + ": expected query, master and metrics, got " + kind(body));
    }
    for (Object key : map.keySet()) {
      if (!QUERY_KEYS.contains(String.valueOf(key))) {
        throw new Invalid(where + ": unknown key " + key + " (expected query, master, metrics)");
      }
    }
    if (!(map.get("query") instanceof String sql) || sql.isBlank()) {
      throw new Invalid(where + ": query must be a non-empty string");
    }
    Object master = map.get("master");
    if (master != null && !(master instanceof Boolean)) {
      throw new Invalid(where + ": master must be true or false, got " + master);
    }
    if (!(map.get("metrics") instanceof List<?> metrics) || metrics.isEmpty()) {
      throw new Invalid(where + ": metrics must be a list of columns");
    }
    List<Column> columns = new ArrayList<>();
    Set<String> seen = new java.util.HashSet<>();
    for (Object item : metrics) {
      if (!(item instanceof Map<?, ?> one) || one.size() != 1) {
        throw new Invalid(where + ": each item of metrics is one column: {usage, description}, got " + kind(item));
      }
      Map.Entry<?, ?> col = one.entrySet().iterator().next();
      Column c = column(String.valueOf(col.getKey()), col.getValue(), where);
      if (!seen.add(c.name())) {
        throw new Invalid(where + ": column " + c.name() + " is listed twice");
      }
      columns.add(c);
    }
    if (columns.stream().noneMatch(Column::exported)) {
      throw new Invalid(where + ": no GAUGE, COUNTER or HISTOGRAM column, so it would export nothing");
    }
    return new Query(prefix, sql.strip(), Boolean.TRUE.equals(master), columns, source);
  }

  private static Column column(String name, Object body, String where) {
    if (!(body instanceof Map<?, ?> map)) {
      throw new Invalid(where + ": column " + name + ": expected usage and description, got " + kind(body));
    }
    Object usageText = map.get("usage");
    if (usageText == null) {
      throw new Invalid(where + ": column " + name + ": usage is required (LABEL, GAUGE, COUNTER, HISTOGRAM or "
          + "DISCARD)");
    }
    Usage usage;
    try {
      usage = Usage.valueOf(String.valueOf(usageText).strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new Invalid(where + ": column " + name + ": unknown usage " + usageText
          + " (pgtide supports LABEL, GAUGE, COUNTER, HISTOGRAM and DISCARD)");
    }
    // a label name must not start with __ (reserved by Prometheus); a value column becomes part of a metric name
    if (!METRIC_NAME.matcher(name).matches() || (usage == Usage.LABEL && name.startsWith("__"))) {
      throw new Invalid(where + ": column " + name + " is not a valid Prometheus "
          + (usage == Usage.LABEL ? "label" : "metric") + " name ([a-zA-Z_][a-zA-Z0-9_]*)");
    }
    Object description = map.get("description");
    return new Column(name, usage, description == null ? "" : String.valueOf(description).strip());
  }

  private static String kind(Object o) {
    return o == null ? "nothing" : o instanceof Map ? "a map" : o instanceof List ? "a list" : "'" + o + "'";
  }

  /** The parser's problem and where ("found duplicate key pg_a, line 4") rather than its multi-line report. */
  private static String yamlProblem(RuntimeException e) {
    if (e instanceof org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException m && m.getProblem() != null) {
      return m.getProblem() + m.getProblemMark().map(mark -> ", line " + (mark.getLine() + 1)).orElse("");
    }
    return firstLine(e);
  }

  private static String firstLine(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.lines().findFirst().orElse(m);
  }

  /** The files the sidecar's {@link #ENV} names; none when unset or blank. */
  public static List<String> files(String env) {
    if (env == null || env.isBlank()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String part : env.split(":")) {
      if (!part.isBlank()) {
        out.add(part.strip());
      }
    }
    return out;
  }

  /** The value of {@link #ENV} for these files. */
  public static String env(List<String> files) {
    return String.join(":", files);
  }
}
