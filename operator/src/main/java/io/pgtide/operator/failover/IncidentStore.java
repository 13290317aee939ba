package io.pgtide.operator.failover;

import io.vertx.core.Future;

/**
 * Where a cluster's open incident is kept between operators: {@code status.failover} on Kubernetes, a file in local
 * mode. {@link #save} with a null intent closes the incident, recording {@code completed} (when it ended in a
 * failover) in the same write, so an incident is never both open and recorded.
 */
public interface IncidentStore {
  /** Keeps nothing: an operator without a store starts every incident from the stream, as before. */
  IncidentStore NONE = new IncidentStore() {
    @Override
    public Future<IncidentIntent> load(String clusterKey) {
      return Future.succeededFuture(null);
    }

    @Override
    public Future<Void> save(String clusterKey, IncidentIntent intent, FailoverRecord completed) {
      return Future.succeededFuture();
    }
  };

  /** The cluster's open incident, or null. */
  Future<IncidentIntent> load(String clusterKey);

  /** Keeps {@code intent} as the cluster's open incident, or (null) closes it, with {@code completed} if any. */
  Future<Void> save(String clusterKey, IncidentIntent intent, FailoverRecord completed);
}
