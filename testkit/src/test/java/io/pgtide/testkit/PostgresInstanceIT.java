package io.pgtide.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.local.process.Signals;
import org.junit.jupiter.api.Test;

class PostgresInstanceIT {
  @Test
  void startsAndStopsARealPostgres() {
    long pid;
    try (PostgresInstance pg = PostgresInstance.start(TestDirs.create("single-pg"))) {
      assertThat(pg.query("select current_setting('server_version_num')::int / 10000")).isEqualTo("15");
      assertThat(pg.port()).isNotEqualTo(5432);
      pid = pg.postmaster().pid();
      assertThat(Signals.alive(pid)).isTrue();
    }
    assertThat(Signals.alive(pid)).isFalse();
  }
}
