package io.pgtide.cli;

import io.pgtide.cli.local.LocalControlAuthorizer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

/** The running local operator's coordinates ({@code operator.json}) and its API. */
final class LocalState {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private LocalState() {
  }

  static JsonObject read(Path dir) throws IOException {
    Path file = dir.resolve("operator.json");
    if (!Files.exists(file)) {
      return null;
    }
    JsonObject state = new JsonObject(Files.readString(file));
    state.put("base", "http://127.0.0.1:" + state.getInteger("httpPort"));
    // actions need the control API's token; whoever cannot read it may still read status
    Path token = dir.resolve("secrets").resolve(LocalControlAuthorizer.TOKEN_FILE);
    if (Files.isReadable(token)) {
      state.put("token", Files.readString(token).strip());
    }
    return ProcessHandle.of(state.getLong("pid")).map(ProcessHandle::isAlive).orElse(false) ? state : null;
  }

  /** The running cluster's coordinates, or null after saying on stderr that none runs from {@code dir}. */
  static JsonObject running(Path dir) throws IOException {
    JsonObject state = read(dir);
    if (state == null) {
      System.err.println("pgtide: no local cluster runs from " + dir + " (start one with `pgtide local up`)");
    }
    return state;
  }

  /** POSTs to {@code /api/clusters/<ns>/<name><suffix>} of the target's cluster; prints the JSON. */
  static int postToCluster(CommandTarget target, String suffix) throws Exception {
    JsonObject state = target.state();
    if (state == null) {
      return PgtideCli.NOT_RUNNING;
    }
    HttpResponse<String> r = post(state, CommandTarget.clusterPath(state) + suffix);
    System.out.println(new JsonObject(r.body()).encodePrettily());
    return r.statusCode() == 200 ? 0 : PgtideCli.FAILED;
  }

  private static HttpRequest.Builder request(JsonObject state, String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(state.getString("base") + path));
    if (state.getString("token") != null) {
      b.header("Authorization", "Bearer " + state.getString("token"));
    }
    return b;
  }

  /** GET of a JSON object; fails with the operator's error (e.g. a refused token) when it answers otherwise. */
  static JsonObject get(JsonObject state, String path) throws Exception {
    HttpResponse<String> r = HTTP.send(request(state, path).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("the operator answered " + r.statusCode() + ": " + r.body());
    }
    return new JsonObject(r.body());
  }

  static HttpResponse<String> post(JsonObject state, String path) throws Exception {
    return HTTP.send(request(state, path).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(JsonObject state, String path, String body) throws Exception {
    return HTTP.send(request(state, path).header("Content-Type", "application/yaml")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
