package io.pgtide.common.cluster;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event of a cluster as it is logged and kept: by the operator's event record, and by the backup agent, whose
 * events the operator reads over the agent's API and relays as its own, so both must write the same fields.
 */
public final class ClusterEventRecord {
  /** A message is a sentence or two; the cap keeps the operator's 500 per cluster well inside a ConfigMap (1 MiB). */
  public static final int MESSAGE_CHARS = 1_000;
  private static final Logger LOG = LoggerFactory.getLogger("pgtide.events");

  private ClusterEventRecord() {
  }

  /** Logs the event (a warning for {@code Warning}) and returns it as kept: cluster, type, reason, message, at. */
  public static JsonObject of(String clusterKey, String type, String reason, String message, long at) {
    if ("Warning".equals(type)) {
      ClusterLog.of(LOG, clusterKey).warn("{}: {}", reason, message);
    } else {
      ClusterLog.of(LOG, clusterKey).info("{}: {}", reason, message);
    }
    String text = message.length() > MESSAGE_CHARS ? message.substring(0, MESSAGE_CHARS) + "…" : message;
    return new JsonObject().put("cluster", clusterKey).put("type", type).put("reason", reason)
        .put("message", text).put("at", at);
  }
}
