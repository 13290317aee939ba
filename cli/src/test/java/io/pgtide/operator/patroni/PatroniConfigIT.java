package io.pgtide.operator.patroni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.operator.HubFixture;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Timing and parameters changed after bootstrap reach a real Patroni's dynamic configuration and PostgreSQL. */
class PatroniConfigIT {
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(1);
  static HubFixture hub;
  static PatroniMember primary;
  static final PostgresClusterSpec spec = new PostgresClusterSpec();
  static PatroniConfigController controller;

  @BeforeAll
  static void start() {
    hub = new HubFixture(TestDirs.create("patroni-config-it"));
    primary = pg.cluster().members().get(0);
    MemberId id = new MemberId("it", pg.cluster().scope(), primary.name());
    hub.deploy(hub.config(id, primary.pgPort(), pg.cluster().secrets().superuserPassword(),
        "http://127.0.0.1:" + primary.restPort()).withPatroniCredentials(pg.cluster().restCredentials()));
    await().atMost(Duration.ofSeconds(30)).until(() -> hub.state.view(id.clusterKey()).primary().isPresent());
    controller = new PatroniConfigController(hub.vertx, hub.state, hub.commands, new ClusterEvents(hub.vertx),
        id.clusterKey(), () -> spec);
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  static JsonObject patroniConfig() throws Exception {
    return primary.rest().get("/config").json();
  }

  static String show(String parameter) {
    return Psql.query(primary.pgPort(), "postgres", pg.cluster().secrets().superuserPassword(), "postgres",
        "SHOW " + parameter);
  }

  @Test
  void timingAndParametersAreAppliedChangedAndRemoved() throws Exception {
    spec.patroni.ttl = 12;
    spec.patroni.loopWait = 3;
    spec.patroni.retryTimeout = 4;
    spec.parameters = new LinkedHashMap<>();
    spec.parameters.put("work_mem", "8MB");
    assertThat(controller.apply().await()).isNotNull();
    JsonObject config = patroniConfig();
    assertThat(config.getInteger("ttl")).isEqualTo(12);
    assertThat(config.getInteger("loop_wait")).isEqualTo(3);
    assertThat(config.getJsonObject("postgresql").getJsonObject("parameters").getString("work_mem")).isEqualTo("8MB");
    await().atMost(Duration.ofSeconds(30)).until(() -> show("work_mem").equals("8MB"));
    assertThat(controller.apply().await()).as("unchanged: nothing sent").isNull();

    spec.parameters.remove("work_mem");
    spec.parameters.put("log_min_duration_statement", "250");
    controller.apply().await();
    JsonObject parameters = patroniConfig().getJsonObject("postgresql").getJsonObject("parameters");
    assertThat(parameters.containsKey("work_mem")).as("a removed parameter leaves the DCS").isFalse();
    await().atMost(Duration.ofSeconds(30)).until(() -> show("log_min_duration_statement").equals("250ms")
        && show("work_mem").equals("4MB"));

    spec.patroni.loopWait = 20;
    assertThatThrownBy(() -> controller.apply().await()).hasMessageContaining("loopWait");
    assertThat(patroniConfig().getInteger("loop_wait")).as("a refused config is not sent").isEqualTo(3);
    spec.patroni.loopWait = 3;
  }
}
