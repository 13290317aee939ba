package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README's disaster-recovery guide promises that each of its commands is one a real-tier test runs: every
 * {@code kubectl pgtide <command> [<subcommand>]} and {@code kubectl ... delete postgrescluster} in that section is
 * run by a {@code *K8sE2E} test named next to it, with the same words.
 */
class DisasterRecoveryGuideTest {
  static final Path README = Path.of("..", "README.md");
  static final Path REAL_TIER = Path.of("..", "k8s-tests", "src", "test", "java", "io", "pgtide", "k8s");

  static String guide() throws IOException {
    String readme = Files.readString(README);
    int start = readme.indexOf("\n## Disaster recovery\n");
    assertThat(start).as("the README has a disaster-recovery section").isPositive();
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  @Test
  void everyPluginCommandOfTheGuideIsRunByTheTestItNames() throws IOException {
    String guide = guide();
    Matcher m = Pattern.compile("`kubectl pgtide ([a-z]+)(?: ([a-z]+))?[^`]*`[^`]*?\\(`?([A-Za-z]+K8sE2E)")
        .matcher(guide);
    List<String> checked = new ArrayList<>();
    while (m.find()) {
      String command = m.group(1);
      String sub = m.group(2);
      String source = Files.readString(REAL_TIER.resolve(m.group(3) + ".java"));
      String call = "kubectlPgtide(dba, \"" + command + "\"" + (sub != null && List.of("list", "now", "verify")
          .contains(sub) ? ", \"" + sub + "\"" : "");
      assertThat(source).as("%s runs `kubectl pgtide %s%s`", m.group(3), command, sub == null ? "" : " " + sub)
          .contains(call);
      checked.add(command + (sub == null ? "" : " " + sub));
    }
    assertThat(checked).as("the guide's plugin commands").contains("promote", "restore", "backup list");
  }

  @Test
  void theGuidesDeleteIsTheOneTheStandbyTestRuns() throws IOException {
    assertThat(guide()).contains("kubectl -n shop delete postgrescluster orders");
    assertThat(Files.readString(REAL_TIER.resolve("StandbyK8sE2E.java")))
        .contains("\"delete\", \"postgrescluster\"");
    try (Stream<Path> tests = Files.list(REAL_TIER)) {
      assertThat(tests.map(p -> p.getFileName().toString())).contains("StandbyK8sE2E.java", "BackupK8sE2E.java");
    }
  }
}
