package io.pgtide.operator.state;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import org.junit.jupiter.api.Test;

class ClusterStateTest {

  @Test
  void aMemberRemovedOnPurposeStaysGoneUntilANewSidecarSessionReports() {
    ClusterState state = new ClusterState(3_000);
    MemberId kept = new MemberId("shop", "orders", "orders-0");
    MemberId removed = new MemberId("shop", "orders", "orders-1");
    state.accept(ContractCodec.encode(TestReports.report(kept, Role.PRIMARY, 1, 1000, true)));
    state.accept(ContractCodec.encode(TestReports.report(removed, Role.REPLICA, 1, 1000, true)));
    assertThat(state.view("shop/orders").members()).containsOnlyKeys("orders-0", "orders-1");

    state.forget(removed);
    // its pod is still stopping: the same sidecar session reports on, and must not bring it back
    state.accept(ContractCodec.encode(TestReports.report(removed, Role.REPLICA, 2, 1000, true)));
    assertThat(state.view("shop/orders").members()).containsOnlyKeys("orders-0");

    // scaled up again later: a new pod, a new sidecar session, a member again
    state.accept(ContractCodec.encode(TestReports.report(removed, Role.REPLICA, 1, 1000, true))
        .put("sessionId", "session-of-a-new-pod"));
    assertThat(state.view("shop/orders").members()).containsOnlyKeys("orders-0", "orders-1");
  }

  @Test
  void theSnapshotReadersGetCarriesNoSidecarSessionIdentifier() {
    ClusterState state = new ClusterState(3_000);
    MemberId id = new MemberId("shop", "orders", "orders-0");
    state.accept(ContractCodec.encode(TestReports.report(id, Role.PRIMARY, 7, 1000, true)));
    io.vertx.core.json.JsonObject report = ClusterState.toJson(state.view("shop/orders")).getJsonArray("members")
        .getJsonObject(0).getJsonObject("report");
    assertThat(report.getLong("seq")).isEqualTo(7);
    assertThat(report.containsKey("sessionId")).isFalse();
  }
}
