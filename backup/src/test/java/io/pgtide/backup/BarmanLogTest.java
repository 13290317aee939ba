package io.pgtide.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A WAL receiver refused for a point on an abandoned timeline is told from its other failures. */
class BarmanLogTest {
  static long at(String localTime) {
    return LocalDateTime.parse(localTime).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
  }

  // as Barman logged it in a fresh-clone CI run, after a hard-kill failover in asynchronous mode
  static final List<String> LOG = List.of(
      "2026-12-03 15:44:42,900 [23566] barman.server ERROR: ArchiverFailure:failed opening the PostgreSQL streaming "
          + "connection for server metrics",
      "2026-12-03 15:44:50,548 [23649] barman.command_wrappers INFO: metrics: pg_receivewal: error: replication "
          + "stream was terminated before stop point",
      "2026-12-03 15:45:52,928 [23997] barman.command_wrappers INFO: metrics: pg_receivewal: error: could not send "
          + "replication command \"START_REPLICATION\": ERROR:  requested starting point 0/4000000 on timeline 1 is "
          + "not in this server's history",
      "2026-12-03 15:45:52,933 [23997] barman.server ERROR: ArchiverFailure:pg_receivewal terminated with error code: 1");

  @Test
  void onlyTheAbandonedTimelineSinceTheLastCheckCounts() {
    assertThat(Barman.onAbandonedTimeline(LOG, at("2026-12-03T15:45:00"))).isTrue();
    assertThat(Barman.onAbandonedTimeline(LOG, at("2026-12-03T15:46:00"))).as("already handled").isFalse();
    // a receiver that could not connect, or lost its stream, is restarted by barman cron: nothing to reset
    assertThat(Barman.onAbandonedTimeline(LOG.subList(0, 2), at("2026-12-03T15:40:00"))).isFalse();
    assertThat(Barman.onAbandonedTimeline(List.of(), at("2026-12-03T15:40:00"))).isFalse();
  }
}
