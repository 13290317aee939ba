package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SidecarJvmFlagsTest {
  @Test
  void theDockerfileRunsTheSidecarWithTheFlagsItIsMeasuredWith() throws Exception {
    String dockerfile = Files.readString(Path.of("..", "Dockerfile.sidecar"));
    Matcher m = Pattern.compile("ENV JAVA_OPTS=\"([^\"]*)\"").matcher(dockerfile);
    assertThat(m.find()).as("JAVA_OPTS in Dockerfile.sidecar").isTrue();
    assertThat(List.of(m.group(1).trim().split("\\s+"))).isEqualTo(SidecarMain.JVM_FLAGS);
  }
}
