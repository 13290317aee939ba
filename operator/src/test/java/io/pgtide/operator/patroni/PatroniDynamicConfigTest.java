package io.pgtide.operator.patroni;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PatroniDynamicConfigTest {
  /**
   * A restored cluster's first member adopts its data directory, so Patroni never reads Spilo's bootstrap.dcs and
   * starts from its own defaults, where use_pg_rewind is off: the operator's declared configuration has to carry it.
   */
  @Test
  void rewindAndSlotsAreDeclaredBesideTheSpecsParameters() {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.parameters = Map.of("work_mem", "8MB");
    JsonObject postgresql = PatroniDynamicConfig.of(spec, Set.of("shared_buffers")).getJsonObject("postgresql");
    assertThat(postgresql.getBoolean("use_pg_rewind")).isTrue();
    assertThat(postgresql.getBoolean("use_slots")).isTrue();
    assertThat(postgresql.getJsonObject("parameters").getString("work_mem")).isEqualTo("8MB");
    assertThat(postgresql.getJsonObject("parameters").containsKey("shared_buffers")).as("removed: null").isTrue();
  }
}
