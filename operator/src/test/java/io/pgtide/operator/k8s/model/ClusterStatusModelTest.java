package io.pgtide.operator.k8s.model;

import io.pgtide.operator.patroni.PendingRestart;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterStatusModelTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  static ClusterView view() {
    long now = System.currentTimeMillis();
    MemberId p = new MemberId("ns", "c", "c-0");
    MemberId r = new MemberId("ns", "c", "c-1");
    return new ClusterView("ns/c", Map.of("c-0", new MemberView(p, TestReports.report(p, Role.PRIMARY, 1, 1000, true),
        now, true), "c-1", new MemberView(r, TestReports.report(r, Role.REPLICA, 1, 400, true), now, true)), now, 3_000);
  }

  @Test
  void membersPrimaryUsersScaleAndConditions() {
    PostgresClusterStatus s = new PostgresClusterStatus();
    ClusterStatusModel.condition(s, "Ready", "True", "Reconciled", "ok", T0);
    JsonObject users = new JsonObject().put("synced", 4).put("failed", new JsonArray().add(new JsonObject()
        .put("name", "ghost").put("reason", "password Secret x not found")));
    JsonObject autoscaler = new JsonObject().put("desired", 3).put("lastScale", new JsonObject()
        .put("time", "t").put("from", 2).put("to", 3).put("reason", "qps/replica 812 > target 500 over 60 s"));
    ClusterStatusModel.observe(s, view(), users, autoscaler, null, T0);
    assertThat(s.primary).isEqualTo("c-0");
    assertThat(s.readyMembers).isEqualTo(2);
    assertThat(s.members).extracting(m -> m.name + ":" + m.role + ":" + m.ready).containsExactly("c-0:primary:true",
        "c-1:replica:true");
    assertThat(s.users.synced).isEqualTo(4);
    assertThat(s.users.failed).extracting(f -> f.name).containsExactly("ghost");
    assertThat(s.conditions).extracting(c -> c.type + "=" + c.status).containsExactly("Ready=True", "UsersSynced=False");
    assertThat(s.desiredReplicas).isEqualTo(3);
    assertThat(s.lastScale.reason).contains("qps/replica");

    // the transition time moves only when the status does
    ClusterStatusModel.observe(s, view(), users, null, null, T0.plusSeconds(60));
    assertThat(s.conditions.get(1).lastTransitionTime).isEqualTo(T0.toString());
    ClusterStatusModel.observe(s, view(), new JsonObject().put("synced", 5).put("failed", new JsonArray()), null, null,
        T0.plusSeconds(90));
    assertThat(s.conditions.get(1).status).isEqualTo("True");
    assertThat(s.conditions.get(1).lastTransitionTime).isEqualTo(T0.plusSeconds(90).toString());
    assertThat(s.conditions.get(0).lastTransitionTime).as("other conditions untouched").isEqualTo(T0.toString());
  }

  @Test
  void progressingFollowsTheRollingUpdateThenPendingRestarts() {
    PostgresClusterStatus s = new PostgresClusterStatus();
    PendingRestart.Step nothing = new PendingRestart.Step(PendingRestart.Action.NONE, null, "no member has a restart pending");
    PendingRestart.Step pending = new PendingRestart.Step(PendingRestart.Action.RESTART, "c-2", "replica c-2 has a "
        + "restart pending");
    RollingUpdate.Step done = new RollingUpdate.Step(RollingUpdate.Action.DONE, null, "every pod runs rev2");
    ClusterStatusModel.progressing(s, new RollingUpdate.Step(RollingUpdate.Action.DELETE_POD, "c-2", "replica c-2 "
        + "runs rev1, not rev2"), pending, T0);
    assertThat(s.conditions).extracting(c -> c.type + "=" + c.status + ":" + c.reason)
        .containsExactly("Progressing=True:RollingUpdate");
    ClusterStatusModel.progressing(s, done, pending, T0.plusSeconds(5));
    assertThat(s.conditions).extracting(c -> c.type + "=" + c.status + ":" + c.reason)
        .containsExactly("Progressing=True:RestartPending");
    ClusterStatusModel.progressing(s, done, nothing, T0.plusSeconds(10));
    assertThat(s.conditions.get(0).status).isEqualTo("False");
    assertThat(s.conditions.get(0).lastTransitionTime).isEqualTo(T0.plusSeconds(10).toString());
  }
}
