package io.pgtide.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CustomQueriesTest {
  static final String GOOD = """
      pg_table_size:
        query: "SELECT relname, pg_total_relation_size(oid) AS bytes, 0 AS ignored, n_tup AS rows FROM t"
        master: true
        metrics:
          - relname:
              usage: "LABEL"
              description: "table"
          - bytes:
              usage: "GAUGE"
              description: "size in bytes"
          - ignored:
              usage: "DISCARD"
              description: "not exported"
          - rows:
              usage: counter
              description: "rows inserted"
      pg_up_since:
        query: SELECT 1 AS one
        metrics:
          - one: {usage: GAUGE}
      """;

  @Test
  void everyUsageIsRead() {
    List<CustomQueries.Query> queries = CustomQueries.parse(GOOD, "q.yaml");
    assertThat(queries).extracting(CustomQueries.Query::prefix).containsExactly("pg_table_size", "pg_up_since");
    CustomQueries.Query q = queries.get(0);
    assertThat(q.primaryOnly()).isTrue();
    assertThat(q.sql()).startsWith("SELECT relname");
    assertThat(q.columns()).extracting(CustomQueries.Column::usage).containsExactly(CustomQueries.Usage.LABEL,
        CustomQueries.Usage.GAUGE, CustomQueries.Usage.DISCARD, CustomQueries.Usage.COUNTER);
    assertThat(q.labels()).extracting(CustomQueries.Column::name).containsExactly("relname");
    assertThat(q.values()).extracting(q::metricName).containsExactly("pg_table_size_bytes", "pg_table_size_rows");
    assertThat(q.columns().get(1).description()).isEqualTo("size in bytes");
    assertThat(queries.get(1).primaryOnly()).isFalse();
    assertThat(queries.get(1).columns().get(0).description()).isEmpty();
  }

  @Test
  void anEmptyFileHasNoQueries() {
    assertThat(CustomQueries.parse("", "q.yaml")).isEmpty();
    assertThat(CustomQueries.parse("# nothing yet\n", "q.yaml")).isEmpty();
  }

  @Test
  void debiansExampleLoadsUnchangedWithItsHistogram() throws Exception {
    Path example = Path.of("/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(example), "prometheus-postgres-exporter installed");
    List<CustomQueries.Query> queries = CustomQueries.parse(Files.readString(example), "queries.yaml");
    assertThat(queries).extracting(CustomQueries.Query::prefix)
        .containsExactly("pg_replication", "pg_postmaster", "pg_stat_user_tables", "pg_statio_user_tables",
            "pg_stat_statements", "pg_process_idle");
    CustomQueries.Query idle = queries.get(5);
    assertThat(idle.histograms()).extracting(idle::metricName).containsExactly("pg_process_idle_seconds");
    assertThat(idle.values()).isEmpty();
    assertThat(idle.labels()).extracting(CustomQueries.Column::name).containsExactly("application_name");
  }

  @Test
  void aHistogramOwnsItsBucketSumAndCountNames() {
    assertThatThrownBy(() -> CustomQueries.parse("""
        pg_h:
          query: SELECT 1 AS s
          metrics:
            - s: {usage: HISTOGRAM}
            - s_sum: {usage: GAUGE}
        """, "q.yaml")).hasMessage("q.yaml: query pg_h: metric pg_h_s_sum is exported twice (a histogram's _bucket,"
        + " _sum and _count are its own)");
    assertThatThrownBy(() -> CustomQueries.parse("""
        pg_h:
          query: SELECT 1 AS s
          metrics: [{s: {usage: HISTOGRAM}}]
        pg_h_s:
          query: SELECT 1 AS count
          metrics: [{count: {usage: COUNTER}}]
        """, "q.yaml")).hasMessage("q.yaml: query pg_h_s: metric pg_h_s_count is also exported by query pg_h");
  }

  @Test
  void badYamlIsRefusedWithTheFileName() {
    assertThatThrownBy(() -> CustomQueries.parse("pg_x:\n  query: [unclosed\n", "bad.yaml"))
        .isInstanceOf(CustomQueries.Invalid.class).hasMessageStartingWith("bad.yaml is not YAML");
    assertThatThrownBy(() -> CustomQueries.parse("- a\n- b\n", "list.yaml"))
        .hasMessageContaining("expected a map of metric prefix to query, got a list");
  }

  @Test
  void anUnknownUsageIsRefused() {
    assertThatThrownBy(() -> CustomQueries.parse("""
        pg_x:
          query: SELECT 1 AS a
          metrics:
            - a: {usage: MAPPEDMETRIC, description: d}
        """, "q.yaml")).hasMessage("q.yaml: query pg_x: column a: unknown usage MAPPEDMETRIC (pgtide supports "
        + "LABEL, GAUGE, COUNTER, HISTOGRAM and DISCARD)");
    assertThatThrownBy(() -> CustomQueries.parse("pg_x:\n  query: SELECT 1 AS a\n  metrics:\n    - a: {description: d}\n",
        "q.yaml")).hasMessageContaining("column a: usage is required");
  }

  @Test
  void duplicateMetricNamesAreRefused() {
    // pg_a + b_c and pg_a_b + c both export pg_a_b_c
    assertThatThrownBy(() -> CustomQueries.parse("""
        pg_a:
          query: SELECT 1 AS b_c
          metrics: [{b_c: {usage: GAUGE}}]
        pg_a_b:
          query: SELECT 1 AS c
          metrics: [{c: {usage: COUNTER}}]
        """, "q.yaml")).hasMessage("q.yaml: query pg_a_b: metric pg_a_b_c is also exported by query pg_a");
    assertThatThrownBy(() -> CustomQueries.parse("""
        pg_a:
          query: SELECT 1 AS b
          metrics: [{b: {usage: GAUGE}}, {b: {usage: COUNTER}}]
        """, "q.yaml")).hasMessage("q.yaml: query pg_a: column b is listed twice");
    // one prefix twice in a file is a duplicate key
    assertThatThrownBy(() -> CustomQueries.parse("""
        pg_a:
          query: SELECT 1 AS b
          metrics: [{b: {usage: GAUGE}}]
        pg_a:
          query: SELECT 2 AS b
          metrics: [{b: {usage: GAUGE}}]
        """, "q.yaml")).hasMessage("q.yaml is not YAML: found duplicate key pg_a, line 4");
  }

  @Test
  void duplicatesAcrossFilesAreRefused() {
    List<CustomQueries.Query> one = CustomQueries.parse("pg_a:\n  query: SELECT 1 AS b\n  metrics: [{b: {usage: GAUGE}}]\n", "one.yaml");
    List<CustomQueries.Query> two = CustomQueries.parse("pg_a:\n  query: SELECT 2 AS b\n  metrics: [{b: {usage: GAUGE}}]\n", "two.yaml");
    List<CustomQueries.Query> all = new java.util.ArrayList<>(one);
    all.addAll(two);
    assertThatThrownBy(() -> CustomQueries.check(all)).hasMessage("two.yaml: query pg_a is also defined in one.yaml");
  }

  @Test
  void namesThatAreNotPrometheusNamesAreRefused() {
    assertThatThrownBy(() -> CustomQueries.parse("pg-x:\n  query: SELECT 1 AS a\n  metrics: [{a: {usage: GAUGE}}]\n",
        "q.yaml")).hasMessageContaining("query pg-x: the prefix is not a valid Prometheus metric name");
    assertThatThrownBy(() -> CustomQueries.parse("pg_x:\n  query: SELECT 1 AS a\n  metrics: [{\"a b\": {usage: GAUGE}}]\n",
        "q.yaml")).hasMessageContaining("column a b is not a valid Prometheus metric name");
    assertThatThrownBy(() -> CustomQueries.parse("pg_x:\n  query: SELECT 1 AS a\n  metrics: [{__a: {usage: LABEL}}, {b: {usage: GAUGE}}]\n",
        "q.yaml")).hasMessageContaining("column __a is not a valid Prometheus label name");
    assertThatThrownBy(() -> CustomQueries.parse("pgtide_x:\n  query: SELECT 1 AS a\n  metrics: [{a: {usage: GAUGE}}]\n",
        "q.yaml")).hasMessageContaining("the prefix pgtide_ is for pgtide's own metrics");
  }

  @Test
  void shapeErrorsAreNamed() {
    assertThatThrownBy(() -> CustomQueries.parse("pg_x:\n  metrics: [{a: {usage: GAUGE}}]\n", "q.yaml"))
        .hasMessage("q.yaml: query pg_x: query must be a non-empty string");
    assertThatThrownBy(() -> CustomQueries.parse("pg_x:\n  query: SELECT 1 AS a\n  master: yes please\n  metrics: [{a: {usage: GAUGE}}]\n", "q.yaml"))
        .hasMessageContaining("master must be true or false");
    assertThatThrownBy(() -> CustomQueries.parse("pg_x:\n  query: SELECT 1 AS a\n  mater: true\n  metrics: [{a: {usage: GAUGE}}]\n", "q.yaml"))
        .hasMessageContaining("unknown key mater");
    assertThatThrownBy(() -> CustomQueries.parse("pg_x:\n  query: SELECT 1 AS a\n  metrics: [{a: {usage: LABEL}}]\n", "q.yaml"))
        .hasMessageContaining("no GAUGE, COUNTER or HISTOGRAM column");
  }

  @Test
  void theEnvironmentListsFiles() {
    assertThat(CustomQueries.files(null)).isEmpty();
    assertThat(CustomQueries.files("/a/q.yaml::/b/q.yaml")).containsExactly("/a/q.yaml", "/b/q.yaml");
    assertThat(CustomQueries.env(List.of("/a", "/b"))).isEqualTo("/a:/b");
  }
}
