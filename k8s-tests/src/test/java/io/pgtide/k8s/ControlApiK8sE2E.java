package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator's control API on a real API server: a ServiceAccount token from {@code kubectl create token} is
 * checked with a TokenReview, and actions with a SubjectAccessReview against the caller's RBAC on PostgresClusters.
 * The operator pod is reached on its pod IP from this host (the test cluster's own bridge).
 */
class ControlApiK8sE2E {
  static final String NS = "ctl-e2e";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void accounts() {
    k8s.freshNamespace(NS);
    k8s.serviceAccount(NS, "reader", "pgtide-viewer");
    k8s.serviceAccount(NS, "editor", "pgtide-operator-user");
    // Kubernetes' own `view`: pgtide-viewer is aggregated into it
    k8s.serviceAccount(NS, "viewer", "view");
  }

  @AfterAll
  static void drop() {
    k8s.dropNamespace(NS);
  }

  static String token(String account) {
    return k8s.kubectl("-n", NS, "create", "token", account, "--duration=10m").strip();
  }

  static String controlUrl() {
    Pod pod = k8s.client().pods().inNamespace("pgtide-system").withLabel("app.kubernetes.io/name", "pgtide-operator")
        .list().getItems().stream().filter(p -> p.getStatus().getPodIP() != null
            && p.getMetadata().getDeletionTimestamp() == null).findFirst().orElseThrow();
    return "http://" + pod.getStatus().getPodIP() + ":8081";
  }

  static HttpResponse<String> call(String base, String method, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void tokensAreReviewedByTheApiServerAndActionsFollowTheCallersRbac() throws Exception {
    String reader = token("reader");
    String editor = token("editor");
    String[] base = {null};
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> {
      base[0] = controlUrl();
      return call(base[0], "GET", "/api/clusters", null).statusCode() == 401;
    });
    assertThat(call(base[0], "GET", "/api/events", "not-a-token").statusCode()).isEqualTo(401);
    assertThat(call(base[0], "GET", "/api/clusters", reader).statusCode()).isEqualTo(200);

    HttpResponse<String> refused = call(base[0], "POST", "/api/clusters/" + NS + "/orders/users/sync", reader);
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(refused.body()).getString("error"))
        .isEqualTo("system:serviceaccount:" + NS + ":reader may not update postgresclusters.pgtide.io " + NS
            + "/orders");
    // past authorization: the action itself answers (no such cluster here), not the guard
    HttpResponse<String> passed = call(base[0], "POST", "/api/clusters/" + NS + "/orders/users/sync", editor);
    assertThat(passed.statusCode()).as(passed.body()).isEqualTo(404);
    assertThat(call(base[0], "POST", "/api/clusters/default/orders/switchover", editor).statusCode())
        .as("no rights outside its namespace").isEqualTo(403);
    // Kubernetes' `view` includes pgtide-viewer (aggregation): it reads, and may not act
    String asViewer = "system:serviceaccount:" + NS + ":viewer";
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> k8s.kubectl("auth", "can-i", "get",
        "postgresclusters.pgtide.io", "-n", NS, "--as", asViewer).strip().equals("yes"));
    assertThat(k8s.kubectl("auth", "can-i", "list", "postgresusers.pgtide.io", "-n", NS, "--as", asViewer).strip())
        .isEqualTo("yes");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> k8s.kubectl("auth", "can-i", "update",
        "postgresclusters.pgtide.io", "-n", NS, "--as", asViewer)).hasMessageContaining("no");
    assertThat(call(base[0], "POST", "/api/clusters/" + NS + "/orders/switchover", token("viewer")).statusCode())
        .isEqualTo(403);

    // the CLI on Kubernetes: the same API with the token from a file (never on the command line)
    java.nio.file.Path tokenFile = java.nio.file.Files.createTempFile("pgtide-token", "");
    java.nio.file.Files.writeString(tokenFile, reader);
    Cli status = cli("status", "--url", base[0], "--token-file", tokenFile.toString());
    assertThat(status.exit()).as(status.output()).isZero();
    Cli sync = cli("users", "sync", "--url", base[0], "--token-file", tokenFile.toString(), "--cluster", NS + "/orders");
    assertThat(sync.exit()).isEqualTo(1);
    assertThat(sync.output()).contains("may not update postgresclusters.pgtide.io " + NS + "/orders");
    java.nio.file.Files.delete(tokenFile);
    assertThat(k8s.operatorDenials(START)).as("the reviews are allowed to the operator").isEmpty();
  }

  /**
   * The dashboard's event stream ({@code /eventbus}) on the same reviews: no token gets nothing, a foreign Origin is
   * refused at the upgrade, and a reader receives the events of the namespaces it may {@code get} only. Events come
   * from the control API's own audit ({@code ControlRequest}), in this namespace and in {@code default}.
   */
  @Test
  void theEventStreamFollowsTheSameReviewsPerNamespace() throws Exception {
    String reader = token("reader");
    String editor = token("editor");
    String[] base = {null};
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> {
      base[0] = controlUrl();
      return call(base[0], "GET", "/api/clusters", null).statusCode() == 401;
    });
    URI ws = URI.create(base[0].replace("http://", "ws://") + "/eventbus/websocket");
    var foreign = HTTP.newWebSocketBuilder().header("Origin", "http://evil.example")
        .header("Authorization", "Bearer " + reader).buildAsync(ws, new Frames()).handle((w, e) -> e);
    assertThat(foreign.get()).as("a foreign Origin is refused at the upgrade").isNotNull();

    Frames anonymous = new Frames();
    java.net.http.WebSocket a = HTTP.newWebSocketBuilder().buildAsync(ws, anonymous).get();
    Frames allowed = new Frames();
    java.net.http.WebSocket r = HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + reader)
        .buildAsync(ws, allowed).get();
    String register = new JsonObject().put("type", "register").put("address", "pgtide.cluster-events").encode();
    a.sendText(register, true).get();
    r.sendText(register, true).get();
    await().atMost(Duration.ofSeconds(30)).until(() -> anonymous.frames.stream()
        .anyMatch(f -> "err".equals(f.getString("type"))));
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      call(base[0], "POST", "/api/clusters/default/orders/switchover", editor); // audited, then refused
      call(base[0], "POST", "/api/clusters/" + NS + "/orders/users/sync", editor);
      return allowed.clusters().contains(NS + "/orders");
    });
    assertThat(allowed.clusters()).containsOnly(NS + "/orders");
    assertThat(anonymous.clusters()).isEmpty();
    a.abort();
    r.abort();
  }

  /** Every frame a WebSocket receives, as JSON (the raw SockJS transport sends text or binary frames). */
  static final class Frames implements java.net.http.WebSocket.Listener {
    final java.util.List<JsonObject> frames = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final StringBuilder text = new StringBuilder();
    private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();

    @Override
    public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data,
                                                          boolean last) {
      text.append(data);
      if (last) {
        frames.add(new JsonObject(text.toString()));
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public java.util.concurrent.CompletionStage<?> onBinary(java.net.http.WebSocket ws, java.nio.ByteBuffer data,
                                                            boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      binary.writeBytes(bytes);
      if (last) {
        frames.add(new JsonObject(binary.toString(java.nio.charset.StandardCharsets.UTF_8)));
        binary.reset();
      }
      ws.request(1);
      return null;
    }

    java.util.List<String> clusters() {
      return frames.stream().filter(f -> "rec".equals(f.getString("type")))
          .map(f -> f.getJsonObject("body").getString("cluster")).toList();
    }
  }

  record Cli(int exit, String output) {
  }

  static Cli cli(String... args) throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("java", "-jar",
        k8s.repo().resolve("cli/target/pgtide.jar").toString()));
    cmd.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("pgtide " + String.join(" ", args) + " did not finish within 60 s");
    }
    return new Cli(p.exitValue(), out);
  }
}
