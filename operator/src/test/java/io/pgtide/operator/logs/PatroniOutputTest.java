package io.pgtide.operator.logs;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.LogLine;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PatroniOutputTest {
  /** What the kubelet gives for Spilo's postgres container with timestamps: Patroni in its zone, a traceback. */
  static final String KUBELET = """
      2026-12-04T10:00:00.100000000Z 2026-12-04 11:00:00,099 INFO: no action. I am (fo-0), the leader with the lock
      2026-12-04T10:00:10.200000000Z 2026-12-04 11:00:10,198 ERROR: Failed to get list of machines
      2026-12-04T10:00:10.200000001Z Traceback (most recent call last):
      2026-12-04T10:00:10.200000002Z   File "/usr/lib/python3/dist-packages/patroni/dcs/kubernetes.py", line 1, in x
      2026-12-04T10:00:20.300000000Z 2026-12-04 10:00:20.300 UTC [42] LOG:  database system is ready to accept connections
      not a kubelet line
      """;

  static long at(String rfc3339) {
    return Instant.parse(rfc3339).toEpochMilli();
  }

  @Test
  void readsTheKubeletsTimesPatronisSeveritiesAndKeepsATracebackWithItsError() {
    List<LogLine> lines = PatroniOutput.lines(KUBELET, new CommandPayload.Logs(null, 0, null, 100));
    assertThat(lines).extracting(LogLine::time).containsExactly(at("2026-12-04T10:00:00.100Z"),
        at("2026-12-04T10:00:10.200Z"), at("2026-12-04T10:00:10.200Z"), at("2026-12-04T10:00:10.200Z"),
        at("2026-12-04T10:00:20.300Z"));
    assertThat(lines).extracting(LogLine::severity).containsExactly("INFO", "ERROR", "ERROR", "ERROR", "LOG");
    assertThat(lines).allSatisfy(l -> assertThat(l.source()).isEqualTo(LogLine.PATRONI));
    assertThat(lines.get(2).message()).startsWith("Traceback");
    // one line read twice has one seq (a follower prints it once); two lines of one millisecond have two
    assertThat(PatroniOutput.lines(KUBELET, new CommandPayload.Logs(null, 0, null, 100)))
        .extracting(LogLine::seq).isEqualTo(lines.stream().map(LogLine::seq).toList());
    assertThat(lines.get(1).seq()).isNotEqualTo(lines.get(2).seq());
  }

  @Test
  void keepsWhatTheRequestAsksFor() {
    assertThat(PatroniOutput.lines(KUBELET, new CommandPayload.Logs(null, at("2026-12-04T10:00:05Z"), "ERROR", 100)))
        .extracting(LogLine::message).containsExactly("Failed to get list of machines",
            "Traceback (most recent call last):",
            "  File \"/usr/lib/python3/dist-packages/patroni/dcs/kubernetes.py\", line 1, in x");
    assertThat(PatroniOutput.lines(KUBELET, new CommandPayload.Logs(null, 0, null, 2))).extracting(LogLine::message)
        .containsExactly("  File \"/usr/lib/python3/dist-packages/patroni/dcs/kubernetes.py\", line 1, in x",
            "database system is ready to accept connections");
  }

  @Test
  void aSidecarWithoutPatronisOutputGetsItFromThePodLog() {
    CommandResult sidecar = CommandResult.ok("c", new JsonObject().put("lines", new io.vertx.core.json.JsonArray())
        .put("sources", new JsonObject().put("postgres", "ok").put("patroni", "not configured (PGTIDE_PATRONI_LOG)")));
    CommandPayload.Logs both = new CommandPayload.Logs(null, 0, null, 100);
    assertThat(LogMerge.lacksPatroni(sidecar, both)).isTrue();
    assertThat(LogMerge.lacksPatroni(sidecar, new CommandPayload.Logs("postgres", 0, null, 100))).isFalse();
    assertThat(LogMerge.lacksPatroni(CommandResult.error("c", "unreachable", "no", null), both)).isFalse();

    CommandResult completed = LogMerge.withPatroni(sidecar, PatroniOutput.lines(KUBELET, both), null);
    assertThat(LogMerge.lacksPatroni(completed, both)).isFalse();
    JsonObject merged = LogMerge.merge(Map.of("fo-0", completed), 100);
    assertThat(merged.getJsonArray("lines")).hasSize(5);
    assertThat(merged.getJsonObject("members").getJsonObject("fo-0").getJsonObject("sources").getString("patroni"))
        .isEqualTo("ok");

    CommandResult failed = LogMerge.withPatroni(sidecar, List.of(), "the pod's log could not be read: Forbidden");
    assertThat(failed.detail().getJsonObject("sources").getString("patroni")).contains("Forbidden");
  }
}
