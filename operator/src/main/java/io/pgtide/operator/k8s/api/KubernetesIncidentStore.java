package io.pgtide.operator.k8s.api;

import io.pgtide.operator.k8s.model.ClusterStatusModel;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.failover.FailoverRecord;
import io.pgtide.operator.failover.IncidentIntent;
import io.pgtide.operator.failover.IncidentStore;
import io.pgtide.common.cluster.ClusterKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.BooleanSupplier;

/**
 * The open incident in the cluster's {@code status.failover}, where the operator replica that leads next finds it.
 * A write patches that field (and {@code status.lastFailover} when the incident ends in a failover) and nothing else,
 * and only while this replica leads: one that lost the Lease must not overwrite its successor's incident.
 */
public final class KubernetesIncidentStore implements IncidentStore {
  private final Vertx vertx;
  private final KubernetesClient client;
  private final BooleanSupplier leading;
  private StatusWriter status;

  public KubernetesIncidentStore(Vertx vertx, KubernetesClient client, BooleanSupplier leading) {
    this.vertx = vertx;
    this.client = client;
    this.leading = leading;
    this.status = new StatusWriter(client, leading);
  }

  /** Writes through the operator's one status writer (its own otherwise). */
  public KubernetesIncidentStore writingStatusWith(StatusWriter writer) {
    this.status = writer;
    return this;
  }

  @Override
  public Future<IncidentIntent> load(String clusterKey) {
    ClusterKey k = ClusterKey.parse(clusterKey);
    return Blocking.call(vertx, () -> {
      PostgresCluster cr = client.resources(PostgresCluster.class).inNamespace(k.namespace()).withName(k.name())
          .get();
      return cr == null || cr.getStatus() == null ? null : ClusterStatusModel.intent(cr.getStatus().failover);
    });
  }

  @Override
  public Future<Void> save(String clusterKey, IncidentIntent intent, FailoverRecord completed) {
    ClusterKey k = ClusterKey.parse(clusterKey);
    if (!leading.getAsBoolean()) {
      return Future.failedFuture("this operator replica no longer leads; the incident is not written");
    }
    return status.cluster(k.namespace(), k.name(), s -> {
      s.failover = ClusterStatusModel.intent(intent);
      if (completed != null) {
        s.lastFailover = ClusterStatusModel.failover(completed);
      }
      return s;
    }).mapEmpty();
  }
}
