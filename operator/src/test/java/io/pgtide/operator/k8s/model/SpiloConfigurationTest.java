package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpiloConfigurationTest {
  static PostgresClusterSpec spec() {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.parameters = Map.of("work_mem", "8MB");
    return spec;
  }

  @Test
  void aNewMemberClonesThroughPatronisBasebackupWithAnImmediateCheckpoint() {
    JsonObject postgresql = new JsonObject(ClusterModel.spiloConfiguration(spec())).getJsonObject("postgresql");
    assertThat(postgresql.getJsonArray("create_replica_method").getList()).containsExactly("basebackup");
    assertThat(postgresql.getJsonObject("basebackup").getString("checkpoint")).isEqualTo("fast");
  }

  @Test
  void patronisSettingsAndParametersGoToTheBootstrapDcs() {
    PostgresClusterSpec spec = spec();
    spec.patroni.ttl = 20;
    JsonObject dcs = new JsonObject(ClusterModel.spiloConfiguration(spec)).getJsonObject("bootstrap")
        .getJsonObject("dcs");
    assertThat(dcs.getInteger("ttl")).isEqualTo(20);
    assertThat(dcs.getJsonObject("postgresql").getJsonObject("parameters").getString("work_mem")).isEqualTo("8MB");
  }
}
