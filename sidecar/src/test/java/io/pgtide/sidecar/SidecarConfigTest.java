package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SidecarConfigTest {
  static Map<String, String> env(String... kv) {
    Map<String, String> env = new HashMap<>(Map.of("PGTIDE_NAMESPACE", "shop", "PGTIDE_CLUSTER", "orders",
        "PGTIDE_MEMBER", "orders-0", "PGTIDE_PG_PASSWORD", "pw"));
    for (int i = 0; i < kv.length; i += 2) {
      env.put(kv[i], kv[i + 1]);
    }
    return env;
  }

  @Test
  void resourcesComeFromTheOwnCgroupUnlessToldToReadPostgresqlsProcesses() {
    assertThat(SidecarConfig.fromEnv(env()).resources()).isEqualTo(SidecarConfig.ResourceSource.CGROUP);
    assertThat(SidecarConfig.fromEnv(env("PGTIDE_RESOURCES", "process-tree")).resources())
        .isEqualTo(SidecarConfig.ResourceSource.PROCESS_TREE);
  }

  @Test
  void spiloLimitsFromTheDownwardApiAreTaken() {
    SidecarConfig.ResourceSource r = SidecarConfig.fromEnv(env("PGTIDE_RESOURCES", "process-tree",
        "PGTIDE_PG_CPU_LIMIT_MILLICORES", "1500", "PGTIDE_PG_MEMORY_LIMIT_BYTES", "1073741824")).resources();
    assertThat(r.processTree()).isTrue();
    assertThat(r.cpuLimitCores()).isEqualTo(1.5);
    assertThat(r.memoryLimitBytes()).isEqualTo(1L << 30);
  }

  @Test
  void aLimitThatIsNotAPositiveNumberIsRefusedByName() {
    assertThatThrownBy(() -> SidecarConfig.fromEnv(env("PGTIDE_PG_CPU_LIMIT_MILLICORES", "1.5")))
        .hasMessage("PGTIDE_PG_CPU_LIMIT_MILLICORES must be a positive whole number, got '1.5'");
    assertThatThrownBy(() -> SidecarConfig.fromEnv(env("PGTIDE_PG_MEMORY_LIMIT_BYTES", "0")))
        .hasMessageContaining("PGTIDE_PG_MEMORY_LIMIT_BYTES must be a positive whole number");
  }

  @Test
  void patroniCredentialsComeFromAFileAndAreNeverPrinted(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    assertThat(SidecarConfig.fromEnv(env()).patroniCredentials()).isNull();
    java.nio.file.Path file = dir.resolve("patroni-rest.password");
    java.nio.file.Files.writeString(file, "s3cret-rest\n");
    SidecarConfig config = SidecarConfig.fromEnv(env("PGTIDE_PATRONI_USER", "pgtide",
        "PGTIDE_PATRONI_PASSWORD_FILE", file.toString()));
    assertThat(config.patroniCredentials().username()).isEqualTo("pgtide");
    assertThat(config.patroniCredentials().header()).isEqualTo("Basic " + java.util.Base64.getEncoder()
        .encodeToString("pgtide:s3cret-rest".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(config.toString()).doesNotContain("s3cret-rest").contains("patroniCredentials=pgtide");
    assertThat(config.patroniCredentials().toString()).doesNotContain("s3cret-rest");
    assertThatThrownBy(() -> SidecarConfig.fromEnv(env("PGTIDE_PATRONI_USER", "pgtide")))
        .hasMessageContaining("PGTIDE_PATRONI_PASSWORD_FILE");
  }
}
