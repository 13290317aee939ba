package io.pgtide.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.local.process.Signals;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class Postgres17IT {
  @Test
  void startsAndStopsARealPostgres17AndRemovesItsDirectory() throws Exception {
    long pid;
    Path dir;
    try (Postgres17 pg = Postgres17.start(TestDirs.create("single-pg17"))) {
      assertThat(pg.query("select current_setting('server_version_num')::int / 10000")).isEqualTo("17");
      assertThat(pg.query("select count(*) from pg_stat_checkpointer")).isEqualTo("1");
      pid = pg.postmaster().pid();
      assertThat(Signals.alive(pid)).isTrue();
      // the PID held is the postmaster's own (chroot and setpriv exec in place)
      assertThat(Files.readAllLines(pg.hostPath().resolve("data/postmaster.pid")).get(0)).isEqualTo(Long.toString(pid));
      dir = pg.hostPath();
    }
    assertThat(Signals.alive(pid)).isFalse();
    assertThat(dir).doesNotExist();
  }
}
