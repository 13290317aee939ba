package io.pgtide.operator.failover;

import io.pgtide.common.cluster.ClusterEventRecord;
import io.pgtide.common.contract.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's record of what happened to each cluster: one log line and one message on
 * {@link Addresses#CLUSTER_EVENTS} per event, and the last {@link #KEPT} of each cluster kept so the dashboard shows
 * what happened before it was opened. They survive a restart of the operator: in local mode appended to a file
 * ({@link #persistTo}) and read back on the next start; on Kubernetes kept in a ConfigMap per cluster by whoever
 * listens ({@link #onKept}) and given back with {@link #restore}.
 */
public final class ClusterEvents {
  /** Events kept per cluster. */
  public static final int KEPT = 500;
  private static final Logger LOG = LoggerFactory.getLogger("pgtide.events");
  private final Vertx vertx;
  private final Map<String, Deque<JsonObject>> kept = new HashMap<>();
  private final List<Consumer<String>> keptListeners = new CopyOnWriteArrayList<>();
  private volatile Path file;

  public ClusterEvents(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Keeps events in {@code file} (JSON lines): loads the last {@link #KEPT} it holds, rewrites it with only those,
   * and appends every later event. Blocking.
   */
  public synchronized void persistTo(Path file) {
    try {
      if (Files.exists(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          try {
            remember(new JsonObject(line));
          } catch (RuntimeException e) {
            // a line cut short by a crash: skip it
          }
        }
      }
      StringBuilder text = new StringBuilder();
      all(null).forEach(e -> text.append(e.encode()).append('\n'));
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep events in " + file, e);
    }
    this.file = file;
  }

  public void emit(String clusterKey, String type, String reason, String message) {
    record(clusterKey, type, reason, message, System.currentTimeMillis());
  }

  private void record(String clusterKey, String type, String reason, String message, long at) {
    JsonObject event = ClusterEventRecord.of(clusterKey, type, reason, message, at);
    synchronized (this) {
      remember(event);
    }
    Path to = file;
    if (to != null) {
      // ordered, off the event loop: the file holds events in the order they happened
      vertx.executeBlocking(() -> {
        Files.writeString(to, event.encode() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        return null;
      }, true).onFailure(e -> LOG.warn("cannot append an event to {}: {}", to, e.getMessage()));
    }
    vertx.eventBus().publish(Addresses.CLUSTER_EVENTS, event);
    keptListeners.forEach(l -> l.accept(clusterKey));
  }

  /**
   * An event that happened elsewhere (the backup agent's pod), recorded with its own time like one of ours; one
   * already kept is not recorded twice (a poll after an operator restart sees the agent's history again).
   */
  public void relay(JsonObject event) {
    String clusterKey = event.getString("cluster");
    synchronized (this) {
      if (clusterKey == null || event.getLong("at") == null
          || kept.getOrDefault(clusterKey, new ArrayDeque<>()).stream().anyMatch(event::equals)) {
        return;
      }
    }
    record(clusterKey, event.getString("type", "Normal"), event.getString("reason", "Event"),
        event.getString("message", ""), event.getLong("at"));
  }

  /** Called with a cluster's key after each new event of it (on the emitting thread: hand real work elsewhere). */
  public void onKept(Consumer<String> listener) {
    keptListeners.add(listener);
  }

  /**
   * Gives back events kept elsewhere (a ConfigMap, by an earlier operator): merged with what this one holds, in
   * the order they happened, the same event never twice.
   */
  public synchronized void restore(List<JsonObject> events) {
    Set<String> known = new HashSet<>();
    all(null).forEach(e -> known.add(e.encode()));
    List<JsonObject> merged = new ArrayList<>(all(null));
    events.stream().filter(e -> e.getString("cluster") != null && e.getLong("at") != null)
        .filter(e -> known.add(e.encode())).forEach(merged::add);
    merged.sort(Comparator.comparingLong(e -> e.getLong("at")));
    kept.clear();
    merged.forEach(this::remember);
  }

  /** Drops a cluster's kept events (it was deleted; a new one of that name starts with none). */
  public synchronized void forget(String clusterKey) {
    kept.remove(clusterKey);
  }

  private void remember(JsonObject event) {
    Deque<JsonObject> ofCluster = kept.computeIfAbsent(event.getString("cluster"), k -> new ArrayDeque<>());
    ofCluster.addLast(event);
    while (ofCluster.size() > KEPT) {
      ofCluster.removeFirst();
    }
  }

  private List<JsonObject> all(String clusterKey) {
    return kept.entrySet().stream().filter(e -> clusterKey == null || clusterKey.equals(e.getKey()))
        .flatMap(e -> e.getValue().stream()).sorted(Comparator.comparingLong(e -> e.getLong("at"))).toList();
  }

  /** The kept events, oldest first; of one cluster when {@code clusterKey} is not null. */
  public synchronized JsonArray history(String clusterKey) {
    JsonArray out = new JsonArray();
    all(clusterKey).forEach(e -> out.add(e.copy()));
    return out;
  }
}
