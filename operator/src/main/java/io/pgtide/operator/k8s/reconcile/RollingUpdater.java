package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.api.Blocking;
import io.pgtide.operator.k8s.model.MemberSelector;
import io.pgtide.operator.k8s.model.RollingUpdate;
import io.pgtide.common.cluster.ClusterKey;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;

/**
 * Carries out {@link RollingUpdate}: one step per call (the controllers call it every few seconds), so a restart of
 * the operator resumes where the pods are. Pods whose {@code controller-revision-hash} is not the StatefulSet's
 * update revision are outdated (image, resources, environment changed). The primary is the operator's own view of
 * it (the member the failover coordinator routes to, from the sidecars' reports of Patroni's role), not the
 * {@code spilo-role} label, which is an output; while it is not known, or a failover is under way, nothing moves.
 */
public final class RollingUpdater {
  private final Vertx vertx;
  private final KubernetesClient client;
  private final FailoverCoordinator failover;
  private final ClusterEvents events;
  private boolean busy;

  public RollingUpdater(Vertx vertx, KubernetesClient client, FailoverCoordinator failover, ClusterEvents events) {
    this.vertx = vertx;
    this.client = client;
    this.failover = failover;
    this.events = events;
  }

  public synchronized Future<RollingUpdate.Step> step(PostgresCluster cr) {
    if (busy) {
      return Future.succeededFuture(new RollingUpdate.Step(RollingUpdate.Action.WAIT, null, "a step is running"));
    }
    busy = true;
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    String key = ClusterKey.text(ns, name);
    String primary = failover.incidentOpen(key) ? null : failover.endpoint(key).orElse(null);
    return Blocking.call(vertx, () -> {
      StatefulSet sts = client.apps().statefulSets().inNamespace(ns).withName(name).get();
      String revision = sts == null || sts.getStatus() == null ? null : sts.getStatus().getUpdateRevision();
      List<RollingUpdate.Pod> pods = client.pods().inNamespace(ns)
          .withLabels(MemberSelector.of(name).labels()).list().getItems().stream()
          .map(p -> pod(p, primary)).toList();
      RollingUpdate.Step next = RollingUpdate.next(revision, pods);
      if (primary == null && next.action() != RollingUpdate.Action.DONE) {
        // deleting or switching over without knowing the primary could take it down by surprise
        return new RollingUpdate.Step(RollingUpdate.Action.WAIT, null, "the primary is not known (or a failover is"
            + " under way)");
      }
      return next;
    }).compose(step -> act(key, ns, step)).eventually(() -> {
      synchronized (this) {
        busy = false;
      }
      return Future.succeededFuture();
    });
  }

  private Future<RollingUpdate.Step> act(String key, String ns, RollingUpdate.Step step) {
    switch (step.action()) {
      case DELETE_POD -> {
        events.emit(key, "Normal", "RollingUpdate", "restarting " + step.target() + ": " + step.reason());
        return Blocking.call(vertx, () -> client.pods().inNamespace(ns).withName(step.target()).delete())
            .map(step);
      }
      case SWITCHOVER -> {
        events.emit(key, "Normal", "RollingUpdate", step.reason());
        return failover.switchover(key, step.target()).map(step)
            .onFailure(e -> events.emit(key, "Warning", "RollingUpdateBlocked", "switchover to " + step.target()
                + " failed, the primary keeps running its old revision: " + e.getMessage()));
      }
      default -> {
        return Future.succeededFuture(step);
      }
    }
  }

  static RollingUpdate.Pod pod(Pod p, String primary) {
    Map<String, String> labels = p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
    boolean ready = p.getStatus() != null && p.getStatus().getConditions() != null && p.getStatus().getConditions()
        .stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    return new RollingUpdate.Pod(p.getMetadata().getName(), labels.get("controller-revision-hash"), ready,
        p.getMetadata().getName().equals(primary));
  }
}
