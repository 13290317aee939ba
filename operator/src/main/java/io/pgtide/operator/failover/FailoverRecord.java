package io.pgtide.operator.failover;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** One completed failover or switchover. */
public record FailoverRecord(String kind, String from, String to, long detectedAt, long completedAt) {
  public long durationMs() {
    return completedAt - detectedAt;
  }

  public JsonObject toJson() {
    return new JsonObject().put("kind", kind).put("from", from).put("to", to)
        .put("detectedAt", Instant.ofEpochMilli(detectedAt).toString())
        .put("completedAt", Instant.ofEpochMilli(completedAt).toString()).put("durationMs", durationMs());
  }
}
