package io.pgtide.operator.k8s;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.contract.Addresses;
import io.pgtide.common.crd.PostgresCluster;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the operator's cluster events (failover, switchover, scale, users) into Kubernetes Events on the
 * PostgresCluster, so {@code kubectl describe postgrescluster} shows them. Messages never carry a password.
 */
public final class KubernetesEvents {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesEvents.class);
  private static final AtomicLong SEQ = new AtomicLong();
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
      PostgresCluster cr = clusters.apply(e.getString("cluster"));
      if (cr == null) {
        return;
      }
      Event event = event(cr, e.getString("type"), e.getString("reason"), e.getString("message"),
          Instant.ofEpochMilli(e.getLong("at", System.currentTimeMillis())));
      Blocking.call(vertx, () -> client.v1().events().inNamespace(cr.getMetadata().getNamespace()).resource(event)
              .create())
          .onFailure(err -> LOG.warn("[{}] cannot record event {}: {}", e.getString("cluster"), e.getString("reason"),
              err.getMessage()));
    });
  }

  /** A core/v1 Event on the cluster resource. Pure. */
  public static Event event(PostgresCluster cr, String type, String reason, String message, Instant at) {
    String name = cr.getMetadata().getName() + "." + Long.toHexString(at.toEpochMilli()) + "."
        + Long.toHexString(SEQ.incrementAndGet());
    String text = message == null ? "" : message.length() > 1024 ? message.substring(0, 1021) + "..." : message;
    return new EventBuilder().withNewMetadata().withName(name).withNamespace(cr.getMetadata().getNamespace())
        .endMetadata()
        .withNewInvolvedObject().withApiVersion("pgtide.io/v1").withKind("PostgresCluster")
          .withName(cr.getMetadata().getName()).withNamespace(cr.getMetadata().getNamespace())
          .withUid(cr.getMetadata().getUid()).endInvolvedObject()
        .withType("Warning".equals(type) ? "Warning" : "Normal").withReason(reason).withMessage(text)
        .withFirstTimestamp(at.toString()).withLastTimestamp(at.toString()).withCount(1)
        .withNewSource().withComponent("pgtide-operator").endSource().withReportingComponent("pgtide-operator")
        .build();
  }
}
