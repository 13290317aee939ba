package io.pgtide.backup;

import io.pgtide.common.cluster.ClusterLog;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backup agent's events: logged, and the last {@link #KEPT} kept for {@code GET /api/status}, from which the
 * operator relays them into its own record (its {@code ClusterEvents.relay}: the same fields, the agent's time, the
 * same event never twice). The agent serves one cluster and keeps nothing across restarts: the operator's record is
 * the durable one.
 */
final class AgentEvents implements BackupController.Events {
  /** Events kept, as many as the operator keeps per cluster. */
  static final int KEPT = 500;
  /** A message is a sentence or two; the operator caps them alike to keep its ConfigMap of events small. */
  static final int MESSAGE_CHARS = 1_000;
  private static final Logger LOG = LoggerFactory.getLogger("pgtide.events");
  private final Deque<JsonObject> kept = new ArrayDeque<>();

  @Override
  public void emit(String clusterKey, String type, String reason, String message) {
    if ("Warning".equals(type)) {
      ClusterLog.of(LOG, clusterKey).warn("{}: {}", reason, message);
    } else {
      ClusterLog.of(LOG, clusterKey).info("{}: {}", reason, message);
    }
    String text = message.length() > MESSAGE_CHARS ? message.substring(0, MESSAGE_CHARS) + "…" : message;
    JsonObject event = new JsonObject().put("cluster", clusterKey).put("type", type).put("reason", reason)
        .put("message", text).put("at", System.currentTimeMillis());
    synchronized (this) {
      kept.addLast(event);
      while (kept.size() > KEPT) {
        kept.removeFirst();
      }
    }
  }

  /** The kept events, oldest first. */
  synchronized JsonArray history() {
    JsonArray out = new JsonArray();
    kept.forEach(e -> out.add(e.copy()));
    return out;
  }
}
