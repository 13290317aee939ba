package io.pgtide.operator.failover;

/** What {@link FailoverMachine} asks the coordinator to do; the coordinator does it, in the order given. */
sealed interface FailoverEffect {
  /** A Kubernetes-style event of the cluster. */
  record Emit(String type, String reason, String message) implements FailoverEffect {
  }

  /** Points the primary endpoint at {@code member}. */
  record PointPrimary(String member) implements FailoverEffect {
  }

  /** Asks the infrastructure whether {@code member} is confirmed dead, and to release its leader lock if so. */
  record ReleaseIfDead(String member) implements FailoverEffect {
  }

  /** Fences the zombie primary {@code member}. */
  record Fence(String member) implements FailoverEffect {
  }

  /** Counts a split view that began. */
  record CountSplitView() implements FailoverEffect {
  }

  /** Counts a primary lost (an incident announced). */
  record CountPrimaryLost() implements FailoverEffect {
  }

  /** Counts a step of the coordinator that failed. */
  record CountError(String step) implements FailoverEffect {
  }

  /** Records a completed failover in the metrics and runs the cluster's after-failover hook. */
  record Completed(FailoverRecord record) implements FailoverEffect {
  }

  /**
   * Keeps the open incident ({@code intent}), or closes it (null) recording {@code completed}; comes first among a
   * step's effects, and the coordinator carries out the rest only once it is written.
   */
  record Persist(IncidentIntent intent, FailoverRecord completed) implements FailoverEffect {
  }

  /** A loss too short to be an incident: logged only. */
  record LogBlip(String message) implements FailoverEffect {
  }
}
