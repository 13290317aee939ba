package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.api.Blocking;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.common.cluster.ClusterLog;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.failover.ClusterEvents;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each cluster's event history (the last {@link ClusterEvents#KEPT}) in a ConfigMap next to it,
 * {@code <cluster>-pgtide-events}, owned by the cluster (deleted with it), so the dashboard shows what happened
 * before the operator restarted or another replica took over. Kubernetes Events are kept too, but the API server
 * drops them after an hour.
 *
 * <p>A cluster's history is read back when its controllers start ({@link #restore}) and written at most every
 * {@code flushMs} after a new event; a cluster's ConfigMap is only written once its earlier history was read, so a
 * new leader never replaces what it has not seen.
 */
public final class ConfigMapEventHistory {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigMapEventHistory.class);
  static final String KEY = "events.jsonl";
  private final Vertx vertx;
  private final KubernetesClient client;
  private final ClusterEvents events;
  private final Function<String, PostgresCluster> clusters;
  private final Set<String> restored = ConcurrentHashMap.newKeySet();
  private final Set<String> dirty = ConcurrentHashMap.newKeySet();
  private final Map<String, Boolean> writing = new ConcurrentHashMap<>();

  /** @param clusters the cluster resource by {@code namespace/name}, null when this operator does not manage it */
  public ConfigMapEventHistory(Vertx vertx, KubernetesClient client, ClusterEvents events,
                               Function<String, PostgresCluster> clusters) {
    this.vertx = vertx;
    this.client = client;
    this.events = events;
    this.clusters = clusters;
  }

  public static String name(String cluster) {
    return cluster + "-pgtide-events";
  }

  public ConfigMapEventHistory start(long flushMs) {
    events.onKept(dirty::add);
    vertx.setPeriodic(flushMs, t -> flush());
    return this;
  }

  /** Reads the cluster's kept history back into {@link ClusterEvents}; once per cluster and operator process. */
  public Future<Void> restore(PostgresCluster cr) {
    String key = ClusterControllers.key(cr);
    if (restored.contains(key)) {
      return Future.succeededFuture();
    }
    return Blocking.call(vertx, () -> client.configMaps().inNamespace(cr.getMetadata().getNamespace())
            .withName(name(cr.getMetadata().getName())).get())
        .map(cm -> {
          List<JsonObject> kept = parse(cm);
          events.restore(kept);
          restored.add(key);
          dirty.add(key); // written back trimmed, with whatever happened meanwhile
          ClusterLog.of(LOG, key).info("{} earlier events restored from {}", kept.size(),
              name(cr.getMetadata().getName()));
          return (Void) null;
        })
        .onFailure(e -> ClusterLog.of(LOG, key).warn("cannot read the event history: {}", e.getMessage()));
  }

  /** The cluster is gone (or no longer led here): its history in memory too; its ConfigMap goes with it. */
  public void forget(String key) {
    restored.remove(key);
    dirty.remove(key);
    events.forget(key);
  }

  static List<JsonObject> parse(ConfigMap cm) {
    List<JsonObject> out = new ArrayList<>();
    String text = cm == null || cm.getData() == null ? null : cm.getData().get(KEY);
    if (text == null) {
      return out;
    }
    for (String line : text.split("\n")) {
      try {
        if (!line.isBlank()) {
          out.add(new JsonObject(line));
        }
      } catch (RuntimeException e) {
        // a line someone edited by hand: skip it rather than lose the rest
      }
    }
    return out;
  }

  /** The ConfigMap holding a cluster's history. Pure. */
  static ConfigMap configMap(PostgresCluster cr, List<JsonObject> history) {
    StringBuilder text = new StringBuilder();
    history.forEach(e -> text.append(e.encode()).append('\n'));
    return new ConfigMapBuilder().withMetadata(ClusterModel.meta(cr, name(cr.getMetadata().getName())))
        .withData(Map.of(KEY, text.toString())).build();
  }

  private void flush() {
    for (String key : List.copyOf(dirty)) {
      PostgresCluster cr = clusters.apply(key);
      if (cr == null || !restored.contains(key) || writing.putIfAbsent(key, true) != null) {
        continue;
      }
      dirty.remove(key);
      List<JsonObject> history = events.history(key).stream().map(o -> (JsonObject) o).toList();
      Blocking.call(vertx, () -> client.configMaps().inNamespace(cr.getMetadata().getNamespace())
              .resource(configMap(cr, history)).fieldManager(ResourceReconciler.FIELD_MANAGER).forceConflicts()
              .serverSideApply())
          .onComplete(ar -> {
            writing.remove(key);
            if (ar.failed()) {
              dirty.add(key); // the next flush tries again
              ClusterLog.of(LOG, key).warn("cannot keep the event history in {}: {}", name(cr.getMetadata().getName()),
                  ar.cause().getMessage());
            }
          });
    }
  }
}
