package io.pgtide.operator.pooler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PoolStatsTest {
  /** A row as a client reads one: the header's columns with the line's values. */
  static Map<String, String> row(String header, String values) {
    String[] h = header.split(",");
    String[] v = values.split(",", -1);
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < h.length; i++) {
      out.put(h[i], v[i]);
    }
    return out;
  }

  // PgBouncer 1.18's SHOW POOLS and SHOW STATS, as psql --csv prints them
  static final String POOLS = "database,user,cl_active,cl_waiting,cl_active_cancel_req,cl_waiting_cancel_req,"
      + "sv_active,sv_active_cancel,sv_being_canceled,sv_idle,sv_used,sv_tested,sv_login,maxwait,maxwait_us,pool_mode";
  static final String STATS = "database,total_xact_count,total_query_count,total_received,total_sent,"
      + "total_xact_time,total_query_time,total_wait_time,avg_xact_count,avg_query_count,avg_recv,avg_sent,"
      + "avg_xact_time,avg_query_time,avg_wait_time";

  static double value(List<PoolStats.Sample> samples, String name, String database) {
    return samples.stream().filter(s -> s.name().equals(name) && s.labels().get("database").equals(database))
        .findFirst().orElseThrow(() -> new AssertionError(name + " of " + database + " missing")).value();
  }

  @Test
  void poolsAndStatsOf118BecomeTheirSeries() {
    List<PoolStats.Sample> samples = PoolStats.samples(
        List.of(row(POOLS, "app,alice,12,3,0,0,12,0,0,5,1,0,0,2,250000,transaction"),
            row(POOLS, "pgbouncer,pgbouncer,1,0,0,0,0,0,0,0,0,0,0,0,0,statement")),
        List.of(row(STATS, "app,1200,3400,100000,200000,5000000,4000000,1500000,20,56,1000,2000,4000,1100,75000"),
            row(STATS, "pgbouncer,3,3,0,0,0,0,0,0,0,0,0,0,0,0")));
    assertThat(value(samples, PoolStats.CLIENTS_ACTIVE, "app")).isEqualTo(12);
    assertThat(value(samples, PoolStats.CLIENTS_WAITING, "app")).isEqualTo(3);
    assertThat(value(samples, PoolStats.SERVERS_ACTIVE, "app")).isEqualTo(12);
    assertThat(value(samples, PoolStats.SERVERS_IDLE, "app")).isEqualTo(5);
    assertThat(value(samples, PoolStats.SERVERS_USED, "app")).isEqualTo(1);
    assertThat(value(samples, PoolStats.MAX_WAIT, "app")).isEqualTo(2.25);
    assertThat(value(samples, PoolStats.TRANSACTIONS, "app")).isEqualTo(1200);
    assertThat(value(samples, PoolStats.QUERIES, "app")).isEqualTo(3400);
    assertThat(value(samples, PoolStats.WAIT_TIME, "app")).isEqualTo(1.5);
    assertThat(value(samples, PoolStats.AVERAGE_WAIT, "app")).isEqualTo(0.075);
    assertThat(samples).as("the admin console's own rows are no client load")
        .noneMatch(s -> s.labels().get("database").equals("pgbouncer"));
    assertThat(samples.stream().filter(s -> s.name().equals(PoolStats.CLIENTS_ACTIVE)).findFirst().orElseThrow()
        .labels()).isEqualTo(Map.of("database", "app", "user", "alice"));
    assertThat(samples.stream().filter(s -> s.name().equals(PoolStats.TRANSACTIONS)).findFirst().orElseThrow()
        .kind()).isEqualTo(PoolStats.Kind.COUNTER);
    assertThat(samples.stream().filter(s -> s.name().equals(PoolStats.CLIENTS_WAITING)).findFirst().orElseThrow()
        .kind()).isEqualTo(PoolStats.Kind.GAUGE);
  }

  @Test
  void aMissingOrBrokenColumnLeavesOnlyItsSeriesOut() {
    // an older PgBouncer: no maxwait_us, no cancel columns, no sv_used; and one value that is not a number
    String oldPools = "database,user,cl_active,cl_waiting,sv_active,sv_idle,maxwait,pool_mode";
    List<PoolStats.Sample> samples = PoolStats.samples(List.of(row(oldPools, "app,bob,4,x,2,1,7,session")),
        List.of(row("database,total_xact_count,extra_column", "app,10,whatever")));
    assertThat(value(samples, PoolStats.CLIENTS_ACTIVE, "app")).isEqualTo(4);
    assertThat(value(samples, PoolStats.MAX_WAIT, "app")).isEqualTo(7);
    assertThat(value(samples, PoolStats.TRANSACTIONS, "app")).isEqualTo(10);
    assertThat(samples).extracting(PoolStats.Sample::name).doesNotContain(PoolStats.CLIENTS_WAITING,
        PoolStats.SERVERS_USED, PoolStats.QUERIES, PoolStats.AVERAGE_WAIT, PoolStats.WAIT_TIME);
  }

  @Test
  void totalsSumOverPoolsAndAreAbsentWithoutSamples() {
    List<PoolStats.Sample> samples = PoolStats.samples(List.of(
        row(POOLS, "app,alice,2,0,0,0,1,0,0,0,0,0,0,0,0,transaction"),
        row(POOLS, "app,bob,3,1,0,0,1,0,0,0,0,0,0,0,0,transaction")), List.of());
    assertThat(PoolStats.total(samples, PoolStats.CLIENTS_ACTIVE)).hasValue(5);
    assertThat(PoolStats.total(samples, PoolStats.TRANSACTIONS)).isEmpty();
    assertThat(PoolStats.samples(List.of(), List.of())).isEmpty();
  }
}
