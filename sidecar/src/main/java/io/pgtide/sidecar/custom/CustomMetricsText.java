package io.pgtide.sidecar.custom;

import io.pgtide.common.contract.CustomQueries;
import java.util.List;

/**
 * The last results of the custom queries in Prometheus' text format, as postgres_exporter writes them: one
 * {@code # HELP} (the column's description) and {@code # TYPE} (gauge or counter) per {@code <prefix>_<column>},
 * then one line per row with the LABEL columns as labels. Appended to the sidecar's own scrape, because Micrometer
 * cannot hold a name whose labels and help come from a file that changes while the sidecar runs. Pure.
 */
public final class CustomMetricsText {
  /** One result row: the LABEL columns' values and the exported columns' values, in the query's column order. */
  public record Row(List<String> labels, List<Double> values) {
  }

  /** One query's rows from its last successful run. */
  public record Result(CustomQueries.Query query, List<Row> rows) {
  }

  private CustomMetricsText() {
  }

  public static String render(List<Result> results) {
    StringBuilder out = new StringBuilder();
    for (Result r : results) {
      List<CustomQueries.Column> labels = r.query().labels();
      List<CustomQueries.Column> values = r.query().values();
      for (int v = 0; v < values.size(); v++) {
        CustomQueries.Column c = values.get(v);
        String name = r.query().metricName(c);
        out.append("# HELP ").append(name).append(' ').append(escapeHelp(c.description())).append('\n');
        out.append("# TYPE ").append(name).append(' ')
            .append(c.usage() == CustomQueries.Usage.COUNTER ? "counter" : "gauge").append('\n');
        for (Row row : r.rows()) {
          out.append(name);
          if (!labels.isEmpty()) {
            out.append('{');
            for (int l = 0; l < labels.size(); l++) {
              out.append(l == 0 ? "" : ",").append(labels.get(l).name()).append("=\"")
                  .append(escapeLabel(row.labels().get(l))).append('"');
            }
            out.append('}');
          }
          out.append(' ').append(number(row.values().get(v))).append('\n');
        }
      }
    }
    return out.toString();
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
