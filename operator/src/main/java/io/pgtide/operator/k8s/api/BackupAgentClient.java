package io.pgtide.operator.k8s.api;

import io.pgtide.operator.k8s.model.BackupAgentModel;
import io.pgtide.common.cluster.ClusterLog;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.backup.Backups;
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
  private final String caPem;
  /** Made once with the operator's CA, or per CA read from the agent's Secret (see the constructor). */
  private WebClient http;
  private String httpCa;
  private final ClusterEvents events;
  private final String namespace;
  private final String cluster;
  private volatile JsonObject status = new JsonObject().put("agent", "not reached yet");
  private volatile String unreachable;
  private long timer = -1;

  /**
   * @param caPem the operator's CA, the only one the agent's certificate is trusted from; null reads it from the
   *              agent's TLS Secret (which the operator wrote; tests that run no CA of their own)
   */
  public BackupAgentClient(Vertx vertx, KubernetesClient client, ClusterEvents events, String namespace,
                           String cluster, String caPem) {
    this.vertx = vertx;
    this.client = client;
    this.caPem = caPem;
    this.http = caPem == null ? null : WebClient.create(vertx, tlsOptions(caPem));
    this.events = events;
    this.namespace = namespace;
    this.cluster = cluster;
  }

  /**
   * HTTPS to the agent: trusting only the operator's CA, and verifying that the certificate names the host the
   * request is for ({@link BackupAgentModel#host}, sent as the virtual host while the Service's IP is dialled).
   */
  public static io.vertx.ext.web.client.WebClientOptions tlsOptions(String caPem) {
    io.vertx.ext.web.client.WebClientOptions options = new io.vertx.ext.web.client.WebClientOptions();
    options.setSsl(true).setTrustOptions(io.pgtide.common.tls.TlsMaterial.trusting(caPem))
        .setVerifyHost(true).setForceSni(true);
    return options;
  }

  public BackupAgentClient start(long pollMs) {
    timer = vertx.setPeriodic(0, pollMs, t -> poll());
    return this;
  }

  public void stop() {
    vertx.cancelTimer(timer);
    if (http != null) {
      http.close();
    }
  }

  private record Agent(String base, String token, String ca) {
  }

  /** The client for the CA the agent's certificate must come from. */
  private synchronized WebClient http(String ca) {
    if (http == null || (caPem == null && !ca.equals(httpCa))) {
      if (http != null) {
        http.close();
      }
      http = WebClient.create(vertx, tlsOptions(ca));
      httpCa = ca;
    }
    return http;
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
      String ca = caPem;
      if (ca == null) {
        var tls = client.secrets().inNamespace(namespace).withName(BackupAgentModel.tlsSecret(cluster)).get();
        ca = tls == null ? null : SecretPasswords.valueOf(tls, "ca.crt");
        if (ca == null) {
          throw new IllegalStateException("the backup agent's TLS Secret does not exist yet");
        }
      }
      // the Service's IP is dialled (the cluster need not run DNS); its name is what the certificate must carry
      return new Agent("https://" + svc.getSpec().getClusterIP() + ":" + BackupAgentModel.TLS_PORT, token, ca);
    });
  }

  private void poll() {
    agent().compose(a -> http(a.ca()).getAbs(a.base() + "/api/status").virtualHost(host())
            .putHeader("Authorization", "Bearer " + a.token()).timeout(10_000).send())
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

  private String host() {
    return BackupAgentModel.host(namespace, cluster);
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
    return agent().compose(a -> http(a.ca()).postAbs(a.base() + path).virtualHost(host())
            .putHeader("Authorization", "Bearer " + a.token()).timeout(ACTION_TIMEOUT_MS).send())
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
