package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ClusterRequestTest {
  static final Instant AT = Instant.parse("2026-11-30T10:00:00Z");

  @Test
  void readsWhatTheCliWrites() {
    ClusterRequest switchover = new ClusterRequest("a-1", "switchover", "orders-1", false, AT);
    assertThat(ClusterRequest.parse(switchover.toJson().encode())).isEqualTo(switchover);
    ClusterRequest sync = new ClusterRequest("b-2", "users-sync", null, true, AT);
    assertThat(ClusterRequest.parse(sync.toJson().encode())).isEqualTo(sync);
    for (String action : new String[] {"backup", "backup-verify"}) {
      ClusterRequest backup = new ClusterRequest("c-" + action, action, null, false, AT);
      assertThat(ClusterRequest.parse(backup.toJson().encode())).isEqualTo(backup);
    }
  }

  @Test
  void refusesWhatIsNotARequestNamingTheIdWhenItCan() {
    assertThatThrownBy(() -> ClusterRequest.parse("switch over please")).isInstanceOf(ClusterRequest.Invalid.class)
        .hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> ClusterRequest.parse("{\"id\":\"x y\",\"action\":\"switchover\"}"))
        .hasMessageContaining("id must be");
    ClusterRequest.Invalid badAction = (ClusterRequest.Invalid) org.assertj.core.api.Assertions.catchThrowable(() ->
        ClusterRequest.parse("{\"id\":\"c-3\",\"action\":\"drop-database\",\"requestedAt\":\"" + AT + "\"}"));
    assertThat(badAction.id).isEqualTo("c-3");
    assertThat(badAction).hasMessageContaining("one of switchover, users-sync, backup, backup-verify, promote, got drop-database");
    assertThatThrownBy(() -> ClusterRequest.parse("{\"id\":\"d\",\"action\":\"users-sync\",\"dryRun\":\"yes\","
        + "\"requestedAt\":\"" + AT + "\"}")).hasMessageContaining("dryRun must be true or false");
    assertThatThrownBy(() -> ClusterRequest.parse("{\"id\":\"e\",\"action\":\"switchover\",\"requestedAt\":\"now\"}"))
        .hasMessageContaining("RFC 3339");
  }

  @Test
  void aRequestNobodyAnsweredForTenMinutesIsTooOld() {
    ClusterRequest r = new ClusterRequest("f", "switchover", null, false, AT);
    assertThat(r.tooOld(AT.plusSeconds(599))).isFalse();
    assertThat(r.tooOld(AT.plusSeconds(601))).isTrue();
  }
}
