package io.pgtide.operator.k8s.api;

import io.pgtide.common.cluster.ClusterLog;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.contract.Addresses;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.cluster.ClusterKey;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the operator's cluster events (failover, switchover, scale, users) into Kubernetes Events on the
 * PostgresCluster, so {@code kubectl describe postgrescluster} shows them. Messages never carry a password. A
 * repeat (same cluster, type, reason and message) is one Event whose count and last timestamp move, as the
 * kubelet's and client-go's events do, not a new object each time.
 */
public final class KubernetesEvents {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesEvents.class);
  private final Vertx vertx;
  private final KubernetesClient client;
  private final Function<String, PostgresCluster> clusters;

  /** @param clusters the cluster resource by {@code namespace/name}, null when this operator does not manage it */
  public KubernetesEvents(Vertx vertx, KubernetesClient client, Function<String, PostgresCluster> clusters) {
    this.vertx = vertx;
    this.client = client;
    this.clusters = clusters;
  }

  public void start() {
    vertx.eventBus().<JsonObject>consumer(Addresses.CLUSTER_EVENTS, m -> {
      JsonObject e = m.body();
      PostgresCluster known = clusters.apply(e.getString("cluster"));
      Blocking.call(vertx, () -> {
        // a new leader may speak of a cluster before its controllers start (an incident it resumes from the
        // cluster's status): then the resource is read from the API server rather than the event dropped
        PostgresCluster cr = known != null ? known : lookup(e.getString("cluster"));
        if (cr == null) {
          return null;
        }
        Event event = event(cr, e.getString("type"), e.getString("reason"), e.getString("message"),
            Instant.ofEpochMilli(e.getLong("at", System.currentTimeMillis())));
        var existing = client.v1().events().inNamespace(cr.getMetadata().getNamespace())
            .withName(event.getMetadata().getName());
        Event seen = existing.get();
        if (seen == null) {
          return client.v1().events().inNamespace(cr.getMetadata().getNamespace()).resource(event).create();
        }
        return existing.edit(ev -> {
          ev.setCount((ev.getCount() == null ? 1 : ev.getCount()) + 1);
          ev.setLastTimestamp(event.getLastTimestamp());
          return ev;
        });
      })
          .onFailure(err -> ClusterLog.of(LOG, e.getString("cluster")).warn("cannot record event {}: {}",
              e.getString("reason"),
              err.getMessage()));
    });
  }

  private PostgresCluster lookup(String key) {
    ClusterKey k = ClusterKey.parse(key);
    return client.resources(PostgresCluster.class).inNamespace(k.namespace()).withName(k.name()).get();
  }

  /** A core/v1 Event on the cluster resource, named by what it says (so a repeat finds it). Pure. */
  public static Event event(PostgresCluster cr, String type, String reason, String message, Instant at) {
    String text = message == null ? "" : message.length() > 1024 ? message.substring(0, 1021) + "..." : message;
    String kind = "Warning".equals(type) ? "Warning" : "Normal";
    String name = cr.getMetadata().getName() + "." + digest(cr.getMetadata().getUid() + "\n" + kind + "\n" + reason
        + "\n" + text);
    return new EventBuilder().withNewMetadata().withName(name).withNamespace(cr.getMetadata().getNamespace())
        .endMetadata()
        .withNewInvolvedObject().withApiVersion("pgtide.io/v1").withKind("PostgresCluster")
          .withName(cr.getMetadata().getName()).withNamespace(cr.getMetadata().getNamespace())
          .withUid(cr.getMetadata().getUid()).endInvolvedObject()
        .withType(kind).withReason(reason).withMessage(text)
        .withFirstTimestamp(at.toString()).withLastTimestamp(at.toString()).withCount(1)
        .withNewSource().withComponent("pgtide-operator").endSource().withReportingComponent("pgtide-operator")
        .build();
  }

  private static String digest(String text) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
