package io.pgtide.operator.state;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class MemberSamplesTest {

  @Test
  void keepsTheLastHourPerMemberWithLagMeasuredAgainstThePrimary() {
    ClusterState state = new ClusterState(60_000);
    MemberId p = MemberId.parse("shop/orders/orders-0");
    MemberId r = MemberId.parse("shop/orders/orders-1");
    state.accept(ContractCodec.encode(TestReports.report(p, Role.PRIMARY, 1, 9_000, true)));
    state.accept(ContractCodec.encode(TestReports.report(r, Role.REPLICA, 1, 1_000, true)));
    MemberSamples samples = new MemberSamples(15_000);
    long t0 = 1_000_000_000L;
    for (int i = 0; i <= 300; i++) { // 75 minutes
      samples.sample(state, t0 + i * 15_000L);
    }
    JsonObject of = samples.of("shop/orders");
    JsonArray replica = of.getJsonObject("members").getJsonArray("orders-1");
    assertThat(replica).hasSize(241); // the hour before the last sample, both ends included
    assertThat(replica.getJsonArray(0).getLong(0)).isEqualTo(t0 + 300 * 15_000L - MemberSamples.WINDOW_MS);
    JsonArray last = replica.getJsonArray(240);
    assertThat(last.getLong(1)).as("lag bytes").isEqualTo(8_000L);
    assertThat(of.getJsonArray("columns")).containsExactly("at", "lagBytes", "qps", "meanLatencyMs", "connections");
    assertThat(samples.of("shop/none").getJsonObject("members")).isEmpty();
  }
}
