package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalPoolerTest {
  @Test
  void psqlCsvBecomesRowsByColumnName() {
    String csv = """
        database,user,cl_active,cl_waiting,maxwait,pool_mode
        app,alice,3,0,0,transaction
        pgbouncer,pgbouncer,1,0,0,statement
        """;
    assertThat(LocalPooler.rows(csv)).containsExactly(
        Map.of("database", "app", "user", "alice", "cl_active", "3", "cl_waiting", "0", "maxwait", "0",
            "pool_mode", "transaction"),
        Map.of("database", "pgbouncer", "user", "pgbouncer", "cl_active", "1", "cl_waiting", "0", "maxwait", "0",
            "pool_mode", "statement"));
    assertThat(LocalPooler.rows("database,total_xact_count\n")).isEmpty();
    assertThat(LocalPooler.rows("")).isEqualTo(List.of());
  }
}
