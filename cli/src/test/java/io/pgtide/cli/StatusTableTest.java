package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class StatusTableTest {
  @Test
  void rendersMembersReasonsAndTheLastFailover() {
    MemberId p = new MemberId("local", "demo", "demo-0");
    MemberId r = new MemberId("local", "demo", "demo-1");
    JsonObject cluster = new JsonObject().put("cluster", "local/demo").put("primary", "demo-0")
        .put("members", new JsonArray()
            .add(new JsonObject().put("member", "demo-0").put("connected", true).put("stale", false).put("lagBytes", 0)
                .put("report", ContractCodec.encode(TestReports.report(p, Role.PRIMARY, 1, 100, true))))
            .add(new JsonObject().put("member", "demo-1").put("connected", true).put("stale", false)
                .put("lagBytes", 4096)
                .put("report", ContractCodec.encode(TestReports.report(r, Role.REPLICA, 1, 90, false)))))
        .put("lastFailover", new JsonObject().put("kind", "failover").put("from", "demo-2").put("to", "demo-0")
            .put("durationMs", 9864).put("completedAt", "2026-11-23T11:03:21Z"))
        .put("autoscaling", new JsonObject()
            .put("lastScale", new JsonObject().put("from", 2).put("to", 3).put("time", "2026-11-23T11:10:00Z")
                .put("reason", "qps/replica 812 > target 500 over 60 s"))
            .put("lastDecision", new JsonObject().put("reason", "load within targets")
                .put("blockedBy", "scale-down cooldown, 200 s left")))
        .put("upgrade", new JsonObject().put("from", 15).put("to", 17).put("phase", "Succeeded")
            .put("step", "analyzing").put("downtimeSeconds", 6.1));
    String out = StatusTable.render(cluster);
    assertThat(out).contains("primary: demo-0").contains("demo-0         primary  running")
        .contains("demo-1         replica  unhealthy").contains("4096").contains("reason: down")
        .contains("Last failover: failover demo-2 -> demo-0 in 9864 ms")
        .contains("Last scale: 2 -> 3 at 2026-11-23T11:10:00Z (qps/replica 812 > target 500 over 60 s)")
        .contains("Autoscaler: load within targets; held: scale-down cooldown, 200 s left")
        .contains("Upgrade: 15 -> 17 Succeeded (step analyzing), downtime 6.1 s");
  }
}
