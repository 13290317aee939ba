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
    assertThat(CustomQueryRunner.number("a", OffsetDateTime.parse("2026-01-01T00:00:01.5Z"))).isEqualTo(1767225601.5);
    assertThat(CustomQueryRunner.number("a", " 42 ")).isEqualTo(42.0);
    assertThatThrownBy(() -> CustomQueryRunner.number("a", "many")).hasMessage("column a is not a number: 'many'");
    assertThat(CustomMetricsText.number(Double.POSITIVE_INFINITY)).isEqualTo("+Inf");
  }
}
