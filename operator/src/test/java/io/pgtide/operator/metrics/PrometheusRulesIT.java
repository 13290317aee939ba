package io.pgtide.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.testkit.TestDirs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules against Debian's promtool: they parse, and each fires on the series the operator exports
 * (and not otherwise), per {@code src/test/resources/prometheus-rules.test.yaml} (kept out of manifests/: it is no Kubernetes object).
 */
class PrometheusRulesIT {
  static final Path MONITORING = Path.of("..", "manifests", "monitoring");

  @Test
  @SuppressWarnings("unchecked")
  void everyAlertFiresOnWhatTheOperatorExportsAndOnlyThen() throws Exception {
    Map<String, Object> rule = Serialization.unmarshal(
        Files.readString(MONITORING.resolve("prometheus-rules.yaml")), Map.class);
    Map<String, Object> spec = (Map<String, Object>) rule.get("spec");
    Path dir = TestDirs.create("prometheus-rules");
    // promtool reads plain rule files: the PrometheusRule's spec is one
    Files.writeString(dir.resolve("rules.yaml"), Serialization.asYaml(spec));
    Files.copy(Path.of("src", "test", "resources", "prometheus-rules.test.yaml"), dir.resolve("rules.test.yaml"));

    // every alert has a case where it fires (and promtool checks the cases where it must stay silent)
    List<String> alerts = ((List<Map<String, Object>>) spec.get("groups")).stream()
        .flatMap(g -> ((List<Map<String, Object>>) g.get("rules")).stream())
        .map(r -> (String) r.get("alert")).filter(java.util.Objects::nonNull).toList();
    Map<String, Object> cases = Serialization.unmarshal(
        Files.readString(dir.resolve("rules.test.yaml")), Map.class);
    List<String> firing = ((List<Map<String, Object>>) cases.get("tests")).stream()
        .flatMap(t -> ((List<Map<String, Object>>) t.get("alert_rule_test")).stream())
        .filter(c -> c.get("exp_alerts") instanceof List<?> l && !l.isEmpty())
        .map(c -> (String) c.get("alertname")).toList();
    assertThat(firing).as("alerts with a case that fires them").containsAll(alerts);
    assertThat(alerts).as("alert rules").contains("PgtideFailoverSlow", "PgtideSplitView", "PgtideUsersNotSynced");

    String check = run(dir, "promtool", "check", "rules", "rules.yaml");
    assertThat(check).contains("SUCCESS");
    String test = run(dir, "promtool", "test", "rules", "rules.test.yaml");
    assertThat(test).contains("SUCCESS");
  }

  private static String run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(List.of(cmd)).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ":\n" + out).isZero();
    return out;
  }
}
