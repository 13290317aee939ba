package io.pgtide.operator.failover;

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
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local-mode analog of Kubernetes Events: one log line and one message on {@link Addresses#CLUSTER_EVENTS} per
 * event, and the last {@link #KEPT} kept so the dashboard shows what happened before it was opened. In local mode
 * they are also appended to a file ({@link #persistTo}) and read back on the next start, so a failover's history
 * survives a restart of the operator.
 */
public final class ClusterEvents {
  public static final int KEPT = 500;
  private static final Logger LOG = LoggerFactory.getLogger("pgtide.events");
  private final Vertx vertx;
  private final Deque<JsonObject> kept = new ArrayDeque<>();
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
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (String line : lines.subList(Math.max(0, lines.size() - KEPT), lines.size())) {
          try {
            remember(new JsonObject(line));
          } catch (RuntimeException e) {
            // a line cut short by a crash: skip it
          }
        }
      }
      StringBuilder text = new StringBuilder();
      kept.forEach(e -> text.append(e.encode()).append('\n'));
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep events in " + file, e);
    }
    this.file = file;
  }

  public void emit(String clusterKey, String type, String reason, String message) {
    if ("Warning".equals(type)) {
      LOG.warn("[{}] {}: {}", clusterKey, reason, message);
    } else {
      LOG.info("[{}] {}: {}", clusterKey, reason, message);
    }
    JsonObject event = new JsonObject().put("cluster", clusterKey).put("type", type).put("reason", reason)
        .put("message", message).put("at", System.currentTimeMillis());
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
  }

  private void remember(JsonObject event) {
    kept.addLast(event);
    while (kept.size() > KEPT) {
      kept.removeFirst();
    }
  }

  /** The kept events, oldest first; of one cluster when {@code clusterKey} is not null. */
  public synchronized JsonArray history(String clusterKey) {
    JsonArray out = new JsonArray();
    kept.stream().filter(e -> clusterKey == null || clusterKey.equals(e.getString("cluster")))
        .forEach(e -> out.add(e.copy()));
    return out;
  }
}
