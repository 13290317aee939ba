package io.pgtide.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.operator.EventBusAccess.Admission;
import io.pgtide.operator.EventBusAccess.Mode;
import org.junit.jupiter.api.Test;

class EventBusAccessTest {

  @Test
  void aForeignOriginIsRefusedInEveryMode() {
    for (Mode mode : Mode.values()) {
      Admission a = EventBusAccess.admit(mode, true, "127.0.0.1:8080", "http://evil.example", true);
      assertThat(a.status()).as("%s", mode).isEqualTo(403);
      assertThat(EventBusAccess.admit(mode, true, "127.0.0.1:8080", "http://127.0.0.1:8081", true).status())
          .as("another port is another origin (%s)", mode).isEqualTo(403);
      assertThat(EventBusAccess.admit(mode, true, "127.0.0.1:8080", "not a uri", true).status()).isEqualTo(403);
    }
  }

  @Test
  void onKubernetesTheTokenDecidesLaterWhereverTheCallerIs() {
    Admission a = EventBusAccess.admit(Mode.KUBERNETES, false, "pgtide.example:8080", null, false);
    assertThat(a.admitted()).isTrue();
    assertThat(a.dashboard()).as("no reader is trusted for every namespace on Kubernetes").isFalse();
    assertThat(EventBusAccess.admit(Mode.KUBERNETES, false, "pgtide.example:8080", "https://pgtide.example:8080",
        false).dashboard()).isFalse();
  }

  @Test
  void inLocalModeOnlyALoopbackCallerOfALoopbackHostWithTheTokenOrTheSameOriginPage() {
    assertThat(EventBusAccess.admit(Mode.LOCAL, false, "127.0.0.1:8080", "http://127.0.0.1:8080", false)
        .status()).as("a peer from elsewhere").isEqualTo(403);
    assertThat(EventBusAccess.admit(Mode.LOCAL, true, "rebind.example:8080", "http://rebind.example:8080", false)
        .status()).as("DNS rebinding: a loopback peer asking for a foreign name").isEqualTo(403);
    assertThat(EventBusAccess.admit(Mode.LOCAL, true, "127.0.0.1:8080", null, false).status())
        .as("neither the token nor the page").isEqualTo(401);
    Admission page = EventBusAccess.admit(Mode.LOCAL, true, "localhost:8080", "http://localhost:8080", false);
    assertThat(page.admitted() && page.dashboard()).isTrue();
    Admission holder = EventBusAccess.admit(Mode.LOCAL, true, "[::1]:8080", null, true);
    assertThat(holder.admitted() && !holder.dashboard()).as("the token is checked").isTrue();
  }
}
