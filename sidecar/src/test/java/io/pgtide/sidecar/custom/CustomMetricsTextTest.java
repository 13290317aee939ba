package io.pgtide.sidecar.custom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtide.common.contract.CustomQueries;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CustomMetricsTextTest {
  static final CustomQueries.Query TABLES = CustomQueries.parse("""
      pg_tables:
        query: SELECT schemaname, relname, 1 AS skip, n_live_tup, seq_scan FROM pg_stat_user_tables
        metrics:
          - schemaname: {usage: LABEL, description: schema}
          - relname: {usage: LABEL, description: table}
          - skip: {usage: DISCARD, description: not exported}
          - n_live_tup: {usage: GAUGE, description: "Estimated number of live rows"}
          - seq_scan: {usage: COUNTER, description: "Sequential scans\\\\ \\"started\\""}
      """, "q.yaml").get(0);

  @Test
  void rendersLikePostgresExporter() {
    String text = CustomMetricsText.render(List.of(new CustomMetricsText.Result(TABLES, List.of(
        new CustomMetricsText.Row(List.of("public", "orders"), List.of(1234.0, 7.0)),
        new CustomMetricsText.Row(List.of("app", "we\"ird\\name\n"), Arrays.asList(null, 0.5))))));
    assertThat(text).isEqualTo("""
        # HELP pg_tables_n_live_tup Estimated number of live rows
        # TYPE pg_tables_n_live_tup gauge
        pg_tables_n_live_tup{schemaname="public",relname="orders"} 1234
        pg_tables_n_live_tup{schemaname="app",relname="we\\"ird\\\\name\\n"} NaN
        # HELP pg_tables_seq_scan Sequential scans\\\\ "started"
        # TYPE pg_tables_seq_scan counter
        pg_tables_seq_scan{schemaname="public",relname="orders"} 7
        pg_tables_seq_scan{schemaname="app",relname="we\\"ird\\\\name\\n"} 0.5
        """);
  }

  @Test
  void aQueryWithoutLabelsOrRowsStillSaysWhatItIs() {
    CustomQueries.Query up = CustomQueries.parse("pg_up:\n  query: SELECT 1 AS one\n  metrics: [{one: {usage: GAUGE}}]\n",
        "q.yaml").get(0);
    assertThat(CustomMetricsText.render(List.of(new CustomMetricsText.Result(up,
        List.of(new CustomMetricsText.Row(List.of(), List.of(1e20))))))).isEqualTo("""
        # HELP pg_up_one\s
        # TYPE pg_up_one gauge
        pg_up_one 1.0E20
        """);
    assertThat(CustomMetricsText.render(List.of(new CustomMetricsText.Result(up, List.of()))))
        .isEqualTo("# HELP pg_up_one \n# TYPE pg_up_one gauge\n");
    assertThat(CustomMetricsText.render(List.of())).isEmpty();
  }

  @Test
  void valuesConvertAsTheExporterDoes() {
    assertThat(CustomQueryRunner.number("a", 3L)).isEqualTo(3.0);
    assertThat(CustomQueryRunner.number("a", new java.math.BigDecimal("2.5"))).isEqualTo(2.5);
    assertThat(CustomQueryRunner.number("a", true)).isEqualTo(1.0);
    assertThat(CustomQueryRunner.number("a", null)).isNaN();
    // whole seconds, as Go's Time.Unix() in the exporter
    assertThat(CustomQueryRunner.number("a", OffsetDateTime.parse("2026-01-01T00:00:01.5Z"))).isEqualTo(1767225601.0);
    assertThat(CustomQueryRunner.number("a", " 42 ")).isEqualTo(42.0);
    assertThatThrownBy(() -> CustomQueryRunner.number("a", "many")).hasMessage("column a is not a number: 'many'");
    assertThat(CustomMetricsText.number(Double.POSITIVE_INFINITY)).isEqualTo("+Inf");
  }

  @Test
  void aHistogramRendersAsTheExporterDoes() {
    CustomQueries.Query idle = CustomQueries.parse("""
        pg_process_idle:
          query: SELECT 1
          metrics:
            - application_name: {usage: LABEL, description: "Application Name"}
            - seconds: {usage: HISTOGRAM, description: "Idle time of server processes"}
        """, "q.yaml").get(0);
    java.util.Map<String, Object> columns = java.util.Map.of("seconds", new Integer[] {5, 1, 2},
        "seconds_bucket", new Long[] {3L, 1L, 2L}, "seconds_sum", 7.5, "seconds_count", 4L);
    CustomMetricsText.Histogram h = CustomQueryRunner.histogram("seconds", columns::get);
    String text = CustomMetricsText.render(List.of(new CustomMetricsText.Result(idle,
        List.of(new CustomMetricsText.Row(List.of("psql"), List.of(), List.of(h))))));
    assertThat(text).isEqualTo("""
        # HELP pg_process_idle_seconds Idle time of server processes
        # TYPE pg_process_idle_seconds histogram
        pg_process_idle_seconds_bucket{application_name="psql",le="1"} 1
        pg_process_idle_seconds_bucket{application_name="psql",le="2"} 2
        pg_process_idle_seconds_bucket{application_name="psql",le="5"} 3
        pg_process_idle_seconds_bucket{application_name="psql",le="+Inf"} 4
        pg_process_idle_seconds_sum{application_name="psql"} 7.5
        pg_process_idle_seconds_count{application_name="psql"} 4
        """);
    // a wrong shape fails the query, with the column named
    assertThatThrownBy(() -> CustomQueryRunner.histogram("seconds", java.util.Map.<String, Object>of("seconds", 1,
        "seconds_bucket", new Long[] {1L}, "seconds_sum", 1.0, "seconds_count", 1L)::get))
        .hasMessage("column seconds is not an array (a HISTOGRAM reads one)");
    assertThatThrownBy(() -> CustomQueryRunner.histogram("seconds", java.util.Map.<String, Object>of("seconds",
        new Integer[] {1}, "seconds_bucket", new Long[] {1L}, "seconds_sum", 1.0, "seconds_count", 1.5)::get))
        .hasMessage("column seconds_count is not a count: '1.5'");
  }

  @Test
  void leIsWrittenAsGoWritesAFloat() {
    assertThat(CustomMetricsText.goFloat(300)).isEqualTo("300");
    assertThat(CustomMetricsText.goFloat(0.5)).isEqualTo("0.5");
    assertThat(CustomMetricsText.goFloat(1e6)).isEqualTo("1e+06");
    assertThat(CustomMetricsText.goFloat(1.5e6)).isEqualTo("1.5e+06");
    assertThat(CustomMetricsText.goFloat(999999)).isEqualTo("999999");
    assertThat(CustomMetricsText.goFloat(2.5e-5)).isEqualTo("2.5e-05");
    assertThat(CustomMetricsText.goFloat(0.0001)).isEqualTo("0.0001");
    assertThat(CustomMetricsText.goFloat(-2)).isEqualTo("-2");
    assertThat(CustomMetricsText.goFloat(1e21)).isEqualTo("1e+21");
  }
}
