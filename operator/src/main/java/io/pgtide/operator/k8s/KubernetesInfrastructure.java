package io.pgtide.operator.k8s;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.operator.infra.Infrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Comparator;
import java.util.List;

/**
 * The Kubernetes side of the {@link Infrastructure} port. The primary and replica Services select on the
 * {@code spilo-role} label Patroni sets, so pointing them needs no write; fencing deletes the pod at once (the
 * StatefulSet recreates it and Patroni makes it rejoin); the member count is the StatefulSet's replicas.
 */
public final class KubernetesInfrastructure implements Infrastructure {
  private final Vertx vertx;
  private final KubernetesClient client;

  public KubernetesInfrastructure(Vertx vertx, KubernetesClient client) {
    this.vertx = vertx;
    this.client = client;
  }

  @Override
  public Future<Void> pointPrimary(String clusterKey, String member) {
    return Future.succeededFuture(); // Patroni labels the new primary spilo-role=master; the Service follows
  }

  @Override
  public Future<Void> pointReplicas(String clusterKey, List<String> members) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> fence(String clusterKey, String member) {
    String[] k = clusterKey.split("/", 2);
    return Blocking.call(vertx, () -> {
      client.pods().inNamespace(k[0]).withName(member).withGracePeriod(0).delete();
      return null;
    });
  }

  /**
   * The autoscaler's member count: first into the cluster's {@code status.desiredReplicas} (so the reconciler keeps
   * it instead of resetting to {@code spec.replicas}; spec stays the user's, for GitOps), then the StatefulSet.
   */
  @Override
  public Future<Boolean> releaseIfDead(String clusterKey, String member) {
    // nothing here can confirm yet that a pod's Patroni and postmaster are gone (a pod the API server reports gone
    // may still run on a partitioned node): Patroni's ttl decides
    return Future.succeededFuture(false);
  }

  @Override
  public Future<Void> scale(String clusterKey, int members) {
    String[] k = clusterKey.split("/", 2);
    return Blocking.call(vertx, () -> {
      client.resources(io.pgtide.common.crd.PostgresCluster.class).inNamespace(k[0]).withName(k[1])
          .editStatus(c -> {
            if (c.getStatus() == null) {
              c.setStatus(new io.pgtide.common.crd.PostgresClusterStatus());
            }
            c.getStatus().desiredReplicas = members;
            return c;
          });
      client.apps().statefulSets().inNamespace(k[0]).withName(k[1]).scale(members);
      return null;
    });
  }

  @Override
  public Future<List<String>> members(String clusterKey) {
    String[] k = clusterKey.split("/", 2);
    return Blocking.call(vertx, () -> client.pods().inNamespace(k[0])
        .withLabels(java.util.Map.of("application", "spilo", "cluster-name", k[1])).list().getItems().stream()
        .map(Pod::getMetadata).map(m -> m.getName()).sorted(Comparator.naturalOrder()).toList());
  }
}
