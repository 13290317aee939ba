package io.pgtide.operator.logs;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.LogLine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogMergeTest {
  static LogLine line(long time, String source, long seq, String severity, String message) {
    return new LogLine(time, source, seq, severity, "ERROR".equals(severity) ? "42P01" : null, "app", "shop", 7L,
        message, null);
  }

  static CommandResult answer(LogLine... lines) {
    JsonArray out = new JsonArray();
    for (LogLine l : lines) {
      out.add(ContractCodec.encode(l));
    }
    return CommandResult.ok("c", new JsonObject().put("lines", out)
        .put("sources", new JsonObject().put("postgres", "ok")).put("dropped", 3));
  }

  @Test
  void oneTimeOrderedStreamWithMemberNamesAndTheNewestKept() {
    Map<String, CommandResult> answers = new LinkedHashMap<>();
    answers.put("c-1", answer(line(20, "postgres", 1, "ERROR", "b"), line(40, "patroni", 1, "INFO", "d")));
    answers.put("c-0", answer(line(10, "postgres", 1, "LOG", "a"), line(20, "postgres", 2, "ERROR", "b0"),
        line(30, "postgres", 3, "ERROR", "c")));
    answers.put("c-2", CommandResult.error("c", "unreachable", "sidecar of c-2: no handlers", null));
    JsonObject merged = LogMerge.merge(answers, 100);
    JsonArray lines = merged.getJsonArray("lines");
    assertThat(lines.stream().map(o -> ((JsonObject) o).getString("member") + ":" + ((JsonObject) o)
        .getString("message")).toList()).containsExactly("c-0:a", "c-0:b0", "c-1:b", "c-0:c", "c-1:d");
    assertThat(merged.getJsonObject("members").getJsonObject("c-2").getString("error")).startsWith("unreachable");
    assertThat(merged.getJsonObject("members").getJsonObject("c-0").getLong("dropped")).isEqualTo(3L);

    JsonArray newest = LogMerge.merge(answers, 2).getJsonArray("lines");
    assertThat(newest.stream().map(o -> ((JsonObject) o).getString("message")).toList()).containsExactly("c", "d");
  }

  @Test
  void theDashboardsErrorsCarryNoMessage() {
    Map<String, CommandResult> answers = new LinkedHashMap<>();
    answers.put("c-0", answer(line(10, "postgres", 1, "ERROR", "secret 1"), line(20, "postgres", 2, "ERROR",
        "secret 2"), line(30, "postgres", 3, "ERROR", "secret 3")));
    answers.put("c-1", answer());
    JsonObject errors = LogMerge.recentErrors(LogMerge.merge(answers, 100), 2);
    assertThat(errors.getJsonArray("c-0").stream().map(o -> ((JsonObject) o).getLong("time")).toList())
        .isEqualTo(List.of(30L, 20L));
    assertThat(errors.getJsonArray("c-0").getJsonObject(0).getString("sqlstate")).isEqualTo("42P01");
    assertThat(errors.encode()).doesNotContain("secret");
    assertThat(errors.getJsonArray("c-1")).isEmpty();
  }
}
