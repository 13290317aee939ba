package io.pgtide.operator.k8s;

import io.pgtide.operator.state.ClusterLog;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.operator.backup.Backups;
import io.pgtide.operator.failover.ClusterEvents;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster's backups on Kubernetes, as the control API and {@code status.backup} see them: the backup agent's pod
 * (through its Service) is asked every {@code pollMs} for its status and events (relayed into the operator's
 * {@link ClusterEvents}, so they become Kubernetes Events and history), and for backups and verifications on
 * request. The agent's token is read from its Secret, never logged.
 */
public final class BackupAgentClient implements Backups {
  private static final Logger LOG = LoggerFactory.getLogger(BackupAgentClient.class);
  /** A base backup of a large database takes a while; the request waits for it. */
  static final long ACTION_TIMEOUT_MS = 3_600_000;
  private final Vertx vertx;
  private final KubernetesClient client;
  private final WebClient http;
  private final ClusterEvents events;
  private final String namespace;
  private final String cluster;
  private volatile JsonObject status = new JsonObject().put("agent", "not reached yet");
  private volatile String unreachable;
  private long timer = -1;

  public BackupAgentClient(Vertx vertx, KubernetesClient client, ClusterEvents events, String namespace,
                           String cluster) {
    this.vertx = vertx;
    this.client = client;
    this.http = WebClient.create(vertx);
    this.events = events;
    this.namespace = namespace;
    this.cluster = cluster;
  }

  public BackupAgentClient start(long pollMs) {
    timer = vertx.setPeriodic(0, pollMs, t -> poll());
    return this;
  }

  public void stop() {
    vertx.cancelTimer(timer);
    http.close();
  }

  private record Agent(String base, String token) {
  }

  /** The agent's address (its Service) and token (its Secret), read each time: both can change. */
  private Future<Agent> agent() {
    return Blocking.call(vertx, () -> {
      var svc = client.services().inNamespace(namespace).withName(BackupAgentModel.name(cluster)).get();
      var secret = client.secrets().inNamespace(namespace).withName(BackupAgentModel.name(cluster)).get();
      String token = secret == null ? null : SecretPasswords.passwordOf(secret);
      if (svc == null || token == null) {
        throw new IllegalStateException("the backup agent's Service or Secret does not exist yet");
      }
      return new Agent("http://" + svc.getSpec().getClusterIP() + ":" + BackupAgentModel.PORT, token);
    });
  }

  private void poll() {
    agent().compose(a -> http.getAbs(a.base() + "/api/status").putHeader("Authorization", "Bearer " + a.token())
            .timeout(10_000).send())
        .compose(BackupAgentClient::body)
        .onSuccess(body -> {
          status = body.getJsonObject("backup", new JsonObject());
          JsonArray agentEvents = body.getJsonArray("events", new JsonArray());
          agentEvents.forEach(e -> events.relay((JsonObject) e));
          if (unreachable != null) {
            ClusterLog.of(LOG, namespace, cluster).info("backup agent reached again");
            unreachable = null;
          }
        })
        .onFailure(e -> {
          status = new JsonObject().put("agent", "not reachable: " + e.getMessage());
          if (!String.valueOf(e.getMessage()).equals(unreachable)) {
            ClusterLog.of(LOG, namespace, cluster).warn("backup agent not reachable: {}", e.getMessage());
            unreachable = String.valueOf(e.getMessage());
          }
        });
  }

  private static Future<JsonObject> body(HttpResponse<Buffer> r) {
    JsonObject json;
    try {
      json = r.bodyAsJsonObject();
    } catch (RuntimeException e) {
      json = null;
    }
    if (r.statusCode() / 100 != 2) {
      return Future.failedFuture("the backup agent answered HTTP " + r.statusCode()
          + (json != null && json.getString("error") != null ? ": " + json.getString("error") : ""));
    }
    return json == null ? Future.failedFuture("the backup agent's answer is not JSON") : Future.succeededFuture(json);
  }

  private Future<JsonObject> post(String path) {
    return agent().compose(a -> http.postAbs(a.base() + path).putHeader("Authorization", "Bearer " + a.token())
            .timeout(ACTION_TIMEOUT_MS).send())
        .compose(BackupAgentClient::body)
        .onComplete(ar -> poll());
  }

  @Override
  public Future<JsonObject> backupNow() {
    return post("/api/backups");
  }

  @Override
  public Future<JsonObject> verifyNow() {
    return post("/api/backups/verify");
  }

  @Override
  public JsonObject status() {
    return status.copy();
  }
}
