package io.pgtide.operator.k8s.api;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Whether this replica may still act as the leader: its own last renewal of the Lease is younger than the renew
 * deadline, by its own monotonic clock. The elector learns that it lost the Lease only from the API server, and a
 * replica that was frozen or cut off (its node lost, then back) has timers that fire the moment it resumes, before
 * any answer: without this it would write status from a view minutes old while another replica leads. The renew
 * deadline is shorter than the Lease, so the guard closes before any other replica may take over.
 */
public final class LeaseGuard {
  private final long validNanos;
  private final LongSupplier clock;
  private volatile long renewedAt;
  private volatile boolean renewed;

  public LeaseGuard(Duration renewDeadline) {
    this(renewDeadline, System::nanoTime);
  }

  LeaseGuard(Duration renewDeadline, LongSupplier clock) {
    this.validNanos = renewDeadline.toNanos();
    this.clock = clock;
  }

  /** True while the last renewal this replica made (counted from when it was sent) is within the deadline. */
  public boolean valid() {
    return renewed && clock.getAsLong() - renewedAt < validNanos;
  }

  /** Forgets every renewal: a replica that stops leading holds nothing until it renews again. */
  public void reset() {
    renewed = false;
  }

  void renewedAsOf(long sentAt) {
    renewedAt = sentAt;
    renewed = true;
  }

  /** The elector's lock, noting each create or update of the record that names this replica as holder. */
  public Lock tracking(Lock lock) {
    return new Lock() {
      @Override
      public LeaderElectionRecord get(KubernetesClient client) {
        return lock.get(client);
      }

      @Override
      public void create(KubernetesClient client, LeaderElectionRecord record) {
        long sent = clock.getAsLong();
        lock.create(client, record);
        noteIfOurs(record, sent);
      }

      @Override
      public void update(KubernetesClient client, LeaderElectionRecord record) {
        long sent = clock.getAsLong();
        lock.update(client, record);
        noteIfOurs(record, sent);
      }

      private void noteIfOurs(LeaderElectionRecord record, long sent) {
        if (lock.identity().equals(record.getHolderIdentity())) {
          renewedAsOf(sent);
        }
      }

      @Override
      public String identity() {
        return lock.identity();
      }

      @Override
      public String describe() {
        return lock.describe();
      }
    };
  }
}
