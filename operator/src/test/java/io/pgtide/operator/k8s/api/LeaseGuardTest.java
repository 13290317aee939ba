package io.pgtide.operator.k8s.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A replica acts as leader only while its own last renewal is within the renew deadline, by its own clock. */
class LeaseGuardTest {
  final AtomicLong now = new AtomicLong(1_000_000_000L);
  final AtomicBoolean refuse = new AtomicBoolean();
  final LeaseGuard guard = new LeaseGuard(Duration.ofSeconds(10), now::get);
  final Lock lock = guard.tracking(new Lock() {
    @Override
    public LeaderElectionRecord get(KubernetesClient client) {
      return null;
    }

    @Override
    public void create(KubernetesClient client, LeaderElectionRecord record) {
      update(client, record);
    }

    @Override
    public void update(KubernetesClient client, LeaderElectionRecord record) {
      now.addAndGet(Duration.ofSeconds(2).toNanos()); // the API server takes its time
      if (refuse.get()) {
        throw new IllegalStateException("conflict");
      }
    }

    @Override
    public String identity() {
      return "op-a";
    }

    @Override
    public String describe() {
      return "pgtide-system/pgtide-operator";
    }
  });

  static LeaderElectionRecord record(String holder) {
    return new LeaderElectionRecord(holder, Duration.ofSeconds(15), ZonedDateTime.now(), ZonedDateTime.now(), 0);
  }

  void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void aRenewalCountsFromWhenItWasSentAndLastsTheRenewDeadline() {
    assertThat(guard.valid()).as("never renewed").isFalse();
    lock.create(null, record("op-a"));
    assertThat(guard.valid()).isTrue();
    advance(Duration.ofSeconds(7)); // 9 s after it was sent (the answer took 2)
    assertThat(guard.valid()).isTrue();
    advance(Duration.ofSeconds(1));
    assertThat(guard.valid()).as("10 s after sending: another replica may be about to take over").isFalse();
    lock.update(null, record("op-a"));
    assertThat(guard.valid()).isTrue();
  }

  @Test
  void aReplicaFrozenPastTheDeadlineHoldsNothingWhateverTheElectorStillBelieves() {
    lock.update(null, record("op-a"));
    advance(Duration.ofMinutes(2)); // its node was lost, then came back
    assertThat(guard.valid()).isFalse();
    // a failed renewal, another holder's record and a reset renew nothing
    refuse.set(true);
    assertThatThrownBy(() -> lock.update(null, record("op-a"))).hasMessage("conflict");
    assertThat(guard.valid()).isFalse();
    refuse.set(false);
    lock.update(null, record("op-b"));
    assertThat(guard.valid()).isFalse();
    lock.update(null, record("op-a"));
    assertThat(guard.valid()).isTrue();
    guard.reset();
    assertThat(guard.valid()).isFalse();
  }
}
