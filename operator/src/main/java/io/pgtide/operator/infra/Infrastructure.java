package io.pgtide.operator.infra;

import io.vertx.core.Future;
import java.util.List;

/**
 * What the controllers may do to the world, the same on Kubernetes (StatefulSet, Services, pods) and in local mode
 * (processes and TCP proxies). Every call is non-blocking.
 */
public interface Infrastructure {

  /** Points the primary endpoint (Service {@code <c>} / local primary port) at {@code member}. */
  Future<Void> pointPrimary(String clusterKey, String member);

  /** The replicas endpoint balances over exactly these members. */
  Future<Void> pointReplicas(String clusterKey, List<String> members);

  /**
   * Fences a member that must stop acting as primary: kills it the hard way (pod delete with grace 0 / SIGKILL of
   * Patroni and postmaster) and starts it again so Patroni makes it rejoin as a replica.
   */
  Future<Void> fence(String clusterKey, String member);

  /**
   * Releases the leader lock of a lost primary whose death is confirmed: its Patroni and its postmaster are both
   * gone, and nothing will restart them before another member leads. Kills nothing. Completes with true when it
   * released the lock (compare-and-delete: only while the lock still names {@code member}), false when death cannot
   * be confirmed or the lock is no longer its own; then Patroni's ttl decides, as it must for a lost node.
   */
  Future<Boolean> releaseIfDead(String clusterKey, String member);

  /** Applies a member count (StatefulSet replicas / local processes); scale-down removes the highest ordinal. */
  Future<Void> scale(String clusterKey, int members);

  /** The members the infrastructure currently runs, by name. */
  Future<List<String>> members(String clusterKey);
}
