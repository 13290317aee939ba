package io.pgtide.operator.k8s.model;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The next step of a rolling update of a cluster's pods (the StatefulSet uses {@code OnDelete}, so the operator
 * chooses the order): replicas first, highest ordinal first, one at a time and only when every pod is ready; then
 * a planned switchover to an updated replica; then the old primary. Like Zalando's operator. Pure.
 */
public final class RollingUpdate {
  private RollingUpdate() {
  }

  /** A pod as the rolling update sees it. */
  public record Pod(String name, String revision, boolean ready, boolean primary) {
  }

  public enum Action { DONE, WAIT, DELETE_POD, SWITCHOVER }

  /** What to do now; {@code target} is the pod to delete or the switchover candidate. */
  public record Step(Action action, String target, String reason) {
  }

  public static Step next(String updateRevision, List<Pod> pods) {
    if (updateRevision == null) {
      return new Step(Action.DONE, null, "the StatefulSet has no update revision yet");
    }
    List<Pod> outdated = pods.stream().filter(p -> !updateRevision.equals(p.revision())).toList();
    if (outdated.isEmpty()) {
      return new Step(Action.DONE, null, "every pod runs revision " + updateRevision);
    }
    Optional<Pod> notReady = pods.stream().filter(p -> !p.ready()).findFirst();
    if (notReady.isPresent()) {
      return new Step(Action.WAIT, notReady.get().name(), notReady.get().name() + " is not ready yet");
    }
    Optional<Pod> replica = outdated.stream().filter(p -> !p.primary())
        .max(Comparator.comparingInt(p -> ordinal(p.name())));
    if (replica.isPresent()) {
      return new Step(Action.DELETE_POD, replica.get().name(), "replica " + replica.get().name() + " runs "
          + replica.get().revision() + ", not " + updateRevision);
    }
    Pod primary = outdated.get(0);
    Optional<Pod> updatedReplica = pods.stream().filter(p -> !p.primary() && updateRevision.equals(p.revision()))
        .min(Comparator.comparingInt(p -> ordinal(p.name())));
    if (updatedReplica.isPresent()) {
      return new Step(Action.SWITCHOVER, updatedReplica.get().name(), "only the primary " + primary.name()
          + " is outdated: switching over to " + updatedReplica.get().name() + " first");
    }
    if (pods.stream().anyMatch(p -> !p.primary())) {
      return new Step(Action.WAIT, primary.name(), "no updated replica to switch over to");
    }
    return new Step(Action.DELETE_POD, primary.name(), "single member " + primary.name()
        + " restarts (no replica to switch over to)");
  }

  static int ordinal(String pod) {
    return io.pgtide.common.contract.MemberId.ordinal(pod);
  }
}
