package io.pgtide.operator.autoscale;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The autoscaler decides nothing on a cluster still coming up (it scaled a new one "0 -> 1" below its minimum). */
class AutoscalerEstablishingTest {
  @Test
  void noDecisionBeforeEveryMemberRunsAndReportsAndOneIsPrimary() {
    assertThat(AutoscalerController.establishing(view(Map.of()), List.of())).isEqualTo("no member runs yet");
    assertThat(AutoscalerController.establishing(view(Map.of("c-0", Role.REPLICA)), List.of("c-0")))
        .isEqualTo("no live primary");
    assertThat(AutoscalerController.establishing(view(Map.of("c-0", Role.PRIMARY)), List.of("c-0", "c-1", "c-2")))
        .isEqualTo("1 of 3 members report live");
    assertThat(AutoscalerController.establishing(view(Map.of("c-0", Role.PRIMARY, "c-1", Role.REPLICA)),
        List.of("c-0", "c-1"))).isNull();
  }

  static ClusterView view(Map<String, Role> roles) {
    long now = System.currentTimeMillis();
    Map<String, MemberView> members = new LinkedHashMap<>();
    roles.forEach((name, role) -> {
      MemberId id = new MemberId("ns", "c", name);
      InstanceReport r = new InstanceReport(id, "1", "s", 1, now, role, null, null, null, false, false, 1L, 100L,
          100L, 100L, 0L, 0.0, null, List.of(), null, null, null, true, null);
      members.put(name, new MemberView(id, r, now, true));
    });
    return new ClusterView("ns/c", members, now, 5_000);
  }
}
