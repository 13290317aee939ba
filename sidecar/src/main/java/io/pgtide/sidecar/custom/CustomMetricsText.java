package io.pgtide.sidecar.custom;

import io.pgtide.common.contract.CustomQueries;
import java.util.List;

/**
 * The last results of the custom queries in Prometheus' text format, as postgres_exporter writes them: one
 * {@code # HELP} (the column's description) and {@code # TYPE} (gauge, counter or histogram) per
 * {@code <prefix>_<column>}, then one line per row with the LABEL columns as labels (a histogram: its cumulative
 * {@code _bucket} lines by {@code le}, ending with {@code +Inf}, then {@code _sum} and {@code _count}). Appended to the sidecar's own scrape, because Micrometer
 * cannot hold a name whose labels and help come from a file that changes while the sidecar runs. Pure.
 */
public final class CustomMetricsText {
  /**
   * One result row: the LABEL columns' values, the GAUGE and COUNTER columns' values and the HISTOGRAM columns'
   * histograms, each in the query's column order.
   */
  public record Row(List<String> labels, List<Double> values, List<Histogram> histograms) {
    public Row(List<String> labels, List<Double> values) {
      this(labels, values, List.of());
    }
  }

  /**
   * One histogram of a row, as postgres_exporter reads it: the upper bounds and their cumulative counts (pairs up to
   * the shorter of the two arrays), the sum and the count (the {@code +Inf} bucket).
   */
  public record Histogram(List<Double> bounds, List<Long> counts, double sum, long count) {
    public Histogram {
      bounds = List.copyOf(bounds);
      counts = List.copyOf(counts);
    }
  }

  /** One query's rows from its last successful run. */
  public record Result(CustomQueries.Query query, List<Row> rows) {
  }

  private CustomMetricsText() {
  }

  public static String render(List<Result> results) {
    StringBuilder out = new StringBuilder();
    for (Result r : results) {
      CustomQueries.Query q = r.query();
      List<CustomQueries.Column> values = q.values();
      List<CustomQueries.Column> histograms = q.histograms();
      for (CustomQueries.Column c : q.columns()) {
        if (!c.exported()) {
          continue;
        }
        String name = q.metricName(c);
        out.append("# HELP ").append(name).append(' ').append(escapeHelp(c.description())).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(switch (c.usage()) {
          case COUNTER -> "counter";
          case HISTOGRAM -> "histogram";
          default -> "gauge";
        }).append('\n');
        if (c.usage() == CustomQueries.Usage.HISTOGRAM) {
          int h = histograms.indexOf(c);
          for (Row row : r.rows()) {
            histogram(out, name, q, row, row.histograms().get(h));
          }
          continue;
        }
        int v = values.indexOf(c);
        for (Row row : r.rows()) {
          out.append(name);
          labels(out, q, row, null);
          out.append(' ').append(number(row.values().get(v))).append('\n');
        }
      }
    }
    return out.toString();
  }

  private static void histogram(StringBuilder out, String name, CustomQueries.Query q, Row row, Histogram h) {
    java.util.TreeMap<Double, Long> buckets = new java.util.TreeMap<>();
    for (int i = 0; i < Math.min(h.bounds().size(), h.counts().size()); i++) {
      buckets.put(h.bounds().get(i), h.counts().get(i));
    }
    buckets.putIfAbsent(Double.POSITIVE_INFINITY, h.count());
    buckets.forEach((le, n) -> {
      out.append(name).append("_bucket");
      labels(out, q, row, le);
      out.append(' ').append(n).append('\n');
    });
    out.append(name).append("_sum");
    labels(out, q, row, null);
    out.append(' ').append(number(h.sum())).append('\n');
    out.append(name).append("_count");
    labels(out, q, row, null);
    out.append(' ').append(h.count()).append('\n');
  }

  /** The row's labels, and {@code le} when not null (as the exporter's Go client writes it). */
  private static void labels(StringBuilder out, CustomQueries.Query q, Row row, Double le) {
    List<CustomQueries.Column> labels = q.labels();
    if (labels.isEmpty() && le == null) {
      return;
    }
    out.append('{');
    for (int l = 0; l < labels.size(); l++) {
      out.append(l == 0 ? "" : ",").append(labels.get(l).name()).append("=\"")
          .append(escapeLabel(row.labels().get(l))).append('"');
    }
    if (le != null) {
      out.append(labels.isEmpty() ? "" : ",").append("le=\"").append(goFloat(le)).append('"');
    }
    out.append('}');
  }

  /**
   * A float as Go's {@code strconv.FormatFloat(f, 'g', -1, 64)} writes it (client_golang's {@code le}): the shortest
   * digits, an exponent from 1e+06 up and below 1e-04 ({@code 300}, {@code 0.5}, {@code 1e+06}, {@code 2.5e-05}).
   */
  static String goFloat(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    if (value == 0) {
      return "0";
    }
    java.math.BigDecimal d = new java.math.BigDecimal(Double.toString(Math.abs(value))).stripTrailingZeros();
    String digits = d.unscaledValue().toString();
    int exp = digits.length() - 1 - d.scale();
    String sign = value < 0 ? "-" : "";
    if (exp < -4 || exp >= 6) {
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
    return sign + d.toPlainString();
  }

  /** Whole numbers without an exponent (counters of bytes read as written); NULL reads NaN, as the exporter has it. */
  static String number(Double value) {
    if (value == null || value.isNaN()) {
      return "NaN";
    }
    if (value.isInfinite()) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      return Long.toString(value.longValue());
    }
    return Double.toString(value);
  }

  static String escapeLabel(String value) {
    return value == null ? "" : value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  static String escapeHelp(String value) {
    return value.replace("\\", "\\\\").replace("\n", "\\n");
  }
}
