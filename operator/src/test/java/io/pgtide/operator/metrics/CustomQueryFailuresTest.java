package io.pgtide.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.QueryFailure;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CustomQueryFailuresTest {
  static final MemberId A = new MemberId("local", "shop", "shop-0");
  static final MemberId B = new MemberId("local", "shop", "shop-1");
  final Vertx vertx = Vertx.vertx();
  final ClusterEvents events = new ClusterEvents(vertx);
  final CustomQueryFailures failures = new CustomQueryFailures(events);

  @AfterEach
  void close() {
    vertx.close().await();
  }

  static MemberView member(MemberId id, QueryFailure... failing) {
    InstanceReport r = new InstanceReport(id, "1.2", "s", 1, 0, Role.PRIMARY, null, null, null, false, false, 1L,
        100L, null, null, null, null, null, List.of(), null, null, null, true, null, null, List.of(failing));
    return new MemberView(id, r, 0, true);
  }

  List<String> told() {
    return events.history("local/shop").stream().map(e -> ((JsonObject) e).getString("type") + " "
        + ((JsonObject) e).getString("reason") + " " + ((JsonObject) e).getString("message")).toList();
  }

  @Test
  void onlyTheQueriesThatWereNotFailingBeforeStart() {
    QueryFailure broken = new QueryFailure("e2e_broken", "relation does not exist");
    QueryFailure slow = new QueryFailure("pg_slow", "canceling statement due to statement timeout");
    assertThat(CustomQueryFailures.started(Set.of(), List.of(broken, slow))).containsExactly(broken, slow);
    assertThat(CustomQueryFailures.started(Set.of("e2e_broken"), List.of(broken, slow))).containsExactly(slow);
    assertThat(CustomQueryFailures.started(Set.of("e2e_broken", "pg_slow"), List.of())).isEmpty();
    assertThat(CustomQueryFailures.message("shop-1", broken))
        .isEqualTo("custom query e2e_broken failed on shop-1: relation does not exist");
  }

  @Test
  void aWarningPerTransitionIntoFailurePerMemberNotPerReport() {
    QueryFailure broken = new QueryFailure("e2e_broken", "relation does not exist");
    failures.onChange("local/shop", member(A));
    assertThat(told()).as("nothing fails").isEmpty();
    failures.onChange("local/shop", member(A, broken));
    failures.onChange("local/shop", member(A, broken));
    failures.onChange("local/shop", member(A, new QueryFailure("e2e_broken", "another reason")));
    assertThat(told()).containsExactly(
        "Warning CustomQueryFailed custom query e2e_broken failed on shop-0: relation does not exist");
    // the other member is a member of its own
    failures.onChange("local/shop", member(B, broken));
    // works again, then fails again: told again
    failures.onChange("local/shop", member(A));
    failures.onChange("local/shop", member(A, broken));
    assertThat(told()).containsExactly(
        "Warning CustomQueryFailed custom query e2e_broken failed on shop-0: relation does not exist",
        "Warning CustomQueryFailed custom query e2e_broken failed on shop-1: relation does not exist",
        "Warning CustomQueryFailed custom query e2e_broken failed on shop-0: relation does not exist");
    // a member seen before it reported says nothing
    failures.onChange("local/shop", new MemberView(B, null, 0, true));
    assertThat(told()).hasSize(3);
  }
}
