package io.pgtide.operator.state;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The last hour of what the dashboard charts, per member: lag (bytes), QPS, mean latency (ms) and client
 * connections, one sample every {@code everyMs}. Taken from the cluster state, so a page opened (or reloaded) now
 * still draws the hour before it. In memory: an operator restart starts the charts again (the event history, not
 * the charts, is what survives it).
 */
public final class MemberSamples {
  /** How far back the charts reach. */
  public static final long WINDOW_MS = 3_600_000;
  private final long everyMs;
  private final Map<String, Map<String, Deque<JsonArray>>> byCluster = new HashMap<>();

  public MemberSamples(long everyMs) {
    this.everyMs = everyMs;
  }

  public long everyMs() {
    return everyMs;
  }

  /** Samples every member of every cluster at {@code now}; drops what is older than the window. */
  public synchronized void sample(ClusterState state, long now) {
    for (String key : state.clusterKeys()) {
      ClusterView view = state.view(key);
      Map<String, Deque<JsonArray>> members = byCluster.computeIfAbsent(key, k -> new TreeMap<>());
      for (MemberView m : view.members().values()) {
        if (m.report() == null || !m.connected()) {
          continue; // a gap in its line, not a made-up zero
        }
        Long lag = view.lagBytes(m.id().member());
        members.computeIfAbsent(m.id().member(), k -> new ArrayDeque<>()).addLast(new JsonArray().add(now).add(lag)
            .add(m.report().load().qps()).add(m.report().load().meanLatencyMs())
            .add(m.report().connections().total()));
      }
      members.values().forEach(d -> {
        while (!d.isEmpty() && d.peekFirst().getLong(0) < now - WINDOW_MS) {
          d.removeFirst();
        }
      });
      members.values().removeIf(Deque::isEmpty);
    }
    byCluster.keySet().retainAll(state.clusterKeys());
  }

  /**
   * A cluster's samples: {@code {"columns": [...], "members": {member: [[at, lag, qps, latencyMs, connections]]}}},
   * oldest first; a value not known is null.
   */
  public synchronized JsonObject of(String clusterKey) {
    JsonObject members = new JsonObject();
    byCluster.getOrDefault(clusterKey, Map.of()).forEach((member, samples) -> {
      JsonArray rows = new JsonArray();
      samples.forEach(s -> rows.add(s.copy()));
      members.put(member, rows);
    });
    return new JsonObject().put("cluster", clusterKey).put("everyMs", everyMs)
        .put("columns", new JsonArray().add("at").add("lagBytes").add("qps").add("meanLatencyMs").add("connections"))
        .put("members", members);
  }
}
