package io.pgtide.backup;

import io.pgtide.common.cluster.ClusterEventRecord;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The backup agent's events: logged and shaped as the operator's own ({@link ClusterEventRecord}), the last
 * {@link #KEPT} kept for {@code GET /api/status}, from which the operator relays them into its record (its
 * {@code ClusterEvents.relay}: the agent's time, the same event never twice). The agent serves one cluster and keeps
 * nothing across restarts: the operator's record is the durable one.
 */
final class AgentEvents implements BackupController.Events {
  /** Events kept, as many as the operator keeps per cluster. */
  static final int KEPT = 500;
  private final Deque<JsonObject> kept = new ArrayDeque<>();

  @Override
  public void emit(String clusterKey, String type, String reason, String message) {
    JsonObject event = ClusterEventRecord.of(clusterKey, type, reason, message, System.currentTimeMillis());
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
