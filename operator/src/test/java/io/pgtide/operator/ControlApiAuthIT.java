package io.pgtide.operator;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The control API's enforcement with an authorizer (Kubernetes mode): no or bad token → 401, an action without
 * {@code update} → 403 naming the caller, reads filtered to the namespaces the caller may {@code get}. The
 * authorizer here is a table of tokens and grants; the TokenReview/SubjectAccessReview one is exercised against a
 * real API server in {@code ControlApiK8sE2E}.
 */
class ControlApiAuthIT {
  /** token -> user; user -> "verb namespace" grants. */
  static final Map<String, String> TOKENS = Map.of("t-reader", "reader", "t-editor", "editor");
  static final Map<String, Set<String>> GRANTS = Map.of("reader", Set.of("get shop"),
      "editor", Set.of("get shop", "update shop", "get other"));

  static final class TableAuthorizer implements ControlAuthorizer {
    @Override
    public Future<Subject> authenticate(String token) {
      String user = TOKENS.get(token);
      return user == null ? Future.failedFuture(new Refused("the bearer token was not accepted"))
          : Future.succeededFuture(new Subject(user, "uid-" + user, List.of(), Map.of()));
    }

    @Override
    public Future<Boolean> allowed(Subject subject, String verb, String namespace, String name) {
      return Future.succeededFuture(GRANTS.get(subject.user()).contains(verb + " " + namespace));
    }
  }

  OperatorCore core;
  int control;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    control = TestMachine.freePort();
    core = new OperatorCore(OperatorListenersIT.CA.issue("pgtide-operator", List.of("127.0.0.1"),
        java.time.Duration.ofDays(1)), "127.0.0.1", TestMachine.freePort(), v -> new IdleInfrastructure(), 3_000);
    core.http().authorizer(new TableAuthorizer());
    core.serve("127.0.0.1", TestMachine.freePort(), control);
    core.events().emit("shop/orders", "Normal", "ScaledUp", "1 -> 2");
    core.events().emit("other/ledger", "Normal", "ScaledUp", "1 -> 2");
  }

  @AfterEach
  void stop() {
    core.close();
  }

  HttpResponse<String> call(String method, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + control + path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void withoutAnAcceptedTokenNothingIsAnswered() throws Exception {
    assertThat(call("GET", "/api/clusters", null).statusCode()).isEqualTo(401);
    assertThat(call("GET", "/api/events", "t-forged").statusCode()).isEqualTo(401);
    HttpResponse<String> r = call("POST", "/api/clusters/shop/orders/switchover", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(r.body()).getString("error")).contains("bearer token is required");
  }

  @Test
  void actionsNeedUpdateOnTheClusterAndReadsShowOnlyReadableNamespaces() throws Exception {
    HttpResponse<String> refused = call("POST", "/api/clusters/shop/orders/users/sync", "t-reader");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(refused.body()).getString("error"))
        .isEqualTo("reader may not update postgresclusters.pgtide.io shop/orders");
    // allowed through to the action (which has no such cluster here: 404 from the action itself, not 403)
    assertThat(call("POST", "/api/clusters/shop/orders/users/sync", "t-editor").statusCode()).isEqualTo(404);
    assertThat(call("POST", "/api/clusters/other/ledger/switchover", "t-editor").statusCode())
        .as("editor may only read in 'other'").isEqualTo(403);

    JsonArray readerEvents = new JsonArray(call("GET", "/api/events", "t-reader").body());
    assertThat(readerEvents.stream().map(e -> ((JsonObject) e).getString("cluster"))).containsOnly("shop/orders");
    // the audit trail: every action asked, by whom, and its answer (refusals too), as events of the cluster
    assertThat(readerEvents.stream().filter(e -> "ControlRequest".equals(((JsonObject) e).getString("reason")))
        .map(e -> ((JsonObject) e).getString("message")))
        .containsExactly("reader asked for users/sync: 403", "editor asked for users/sync: 404");
    JsonArray editorEvents = new JsonArray(call("GET", "/api/events", "t-editor").body());
    assertThat(editorEvents.stream().map(e -> ((JsonObject) e).getString("cluster")))
        .containsOnly("shop/orders", "other/ledger");
    assertThat(editorEvents.stream().filter(e -> "other/ledger".equals(((JsonObject) e).getString("cluster")))
        .map(e -> ((JsonObject) e).getString("message"))).contains("editor asked for switchover: 403");
    assertThat(call("GET", "/api/clusters", "t-reader").statusCode()).isEqualTo(200);
  }
}
