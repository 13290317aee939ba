package io.pgtide.operator.failover;

import io.pgtide.common.contract.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The local-mode analog of Kubernetes Events: one log line and one message on {@link Addresses#CLUSTER_EVENTS}. */
public final class ClusterEvents {
  private static final Logger LOG = LoggerFactory.getLogger("pgtide.events");
  private final Vertx vertx;

  public ClusterEvents(Vertx vertx) {
    this.vertx = vertx;
  }

  public void emit(String clusterKey, String type, String reason, String message) {
    if ("Warning".equals(type)) {
      LOG.warn("[{}] {}: {}", clusterKey, reason, message);
    } else {
      LOG.info("[{}] {}: {}", clusterKey, reason, message);
    }
    vertx.eventBus().publish(Addresses.CLUSTER_EVENTS, new JsonObject().put("cluster", clusterKey)
        .put("type", type).put("reason", reason).put("message", message).put("at", System.currentTimeMillis()));
  }
}
