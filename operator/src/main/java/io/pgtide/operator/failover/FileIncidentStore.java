package io.pgtide.operator.failover;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Local mode's {@link IncidentStore}: the open incident of each cluster, and its last failover, in one JSON file
 * ({@code D/failover.json}), replaced whole by rename so a crash leaves the old file or the new one. The operator
 * started again on that directory resumes the incident like a new leader on Kubernetes.
 */
public final class FileIncidentStore implements IncidentStore {
  private final Vertx vertx;
  private final Path file;

  public FileIncidentStore(Vertx vertx, Path file) {
    this.vertx = vertx;
    this.file = file;
  }

  @Override
  public Future<IncidentIntent> load(String clusterKey) {
    return vertx.executeBlocking(() -> {
      JsonObject open = read().getJsonObject(clusterKey, new JsonObject()).getJsonObject("failover");
      return open == null ? null : open.mapTo(IncidentIntent.class);
    });
  }

  @Override
  public Future<Void> save(String clusterKey, IncidentIntent intent, FailoverRecord completed) {
    // ordered: the file takes the writes in the order they were made
    return vertx.executeBlocking(() -> {
      synchronized (this) {
        JsonObject all = read();
        JsonObject cluster = all.getJsonObject(clusterKey, new JsonObject());
        cluster.put("failover", intent == null ? null : JsonObject.mapFrom(intent));
        if (completed != null) {
          cluster.put("lastFailover", completed.toJson());
        }
        all.put(clusterKey, cluster);
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, all.encodePrettily(), StandardCharsets.UTF_8);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
      return null;
    }, true);
  }

  private JsonObject read() throws java.io.IOException {
    return Files.exists(file) ? new JsonObject(Files.readString(file, StandardCharsets.UTF_8)) : new JsonObject();
  }
}
