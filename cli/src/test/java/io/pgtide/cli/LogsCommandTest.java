package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LogsCommandTest {
  @Test
  void sinceTakesDurationsAndTimes() {
    long now = 1_000_000_000L;
    assertThat(LogsCommand.sinceMillis("30s", now)).isEqualTo(now - 30_000);
    assertThat(LogsCommand.sinceMillis("10m", now)).isEqualTo(now - 600_000);
    assertThat(LogsCommand.sinceMillis("2h", now)).isEqualTo(now - 7_200_000);
    assertThat(LogsCommand.sinceMillis("1d", now)).isEqualTo(now - 86_400_000);
    assertThat(LogsCommand.sinceMillis("2024-05-01T12:00:00Z", now)).isEqualTo(1714564800000L);
    assertThatThrownBy(() -> LogsCommand.sinceMillis("yesterday", now)).hasMessageContaining("--since");
  }

  @Test
  void aLineReadsLikeALogWithItsDetailIndented() {
    JsonObject l = new JsonObject().put("time", 1714564800123L).put("member", "c-0").put("source", "postgres")
        .put("severity", "ERROR").put("sqlstate", "23505").put("user", "app").put("database", "shop")
        .put("message", "duplicate key").put("detail", "Key (id)=(1) already exists.\nmore");
    assertThat(LogsCommand.text(l)).isEqualTo("2024-05-01T12:00:00.123Z c-0 postgres ERROR 23505 app@shop: "
        + "duplicate key\n    DETAIL: Key (id)=(1) already exists.\n    more");
    JsonObject patroni = new JsonObject().put("time", 0L).put("member", "c-1").put("source", "patroni")
        .put("severity", "INFO").put("message", "no action");
    assertThat(LogsCommand.text(patroni)).isEqualTo("1970-01-01T00:00:00Z c-1 patroni INFO: no action");
  }

  @Test
  void aMemberThatCannotBeReadIsNamedOnce() {
    JsonObject members = new JsonObject()
        .put("c-0", new JsonObject().put("sources", new JsonObject().put("postgres", "ok")
            .put("patroni", "not reachable")))
        .put("c-1", new JsonObject().put("error", "unreachable: gone"));
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(buf, true, StandardCharsets.UTF_8);
    Set<String> warned = new HashSet<>();
    LogsCommand.warn(members, warned, err);
    LogsCommand.warn(members, warned, err);
    assertThat(buf.toString(StandardCharsets.UTF_8).lines().toList())
        .containsExactly("pgtide: c-0: patroni: not reachable", "pgtide: c-1: unreachable: gone");
  }
}
