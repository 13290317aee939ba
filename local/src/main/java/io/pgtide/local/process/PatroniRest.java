package io.pgtide.local.process;

import io.pgtide.common.secrets.BasicCredentials;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A blocking client of one member's Patroni REST API, for process management (never on an event loop). It sends the
 * member's REST credentials, which Patroni demands of every request that changes state.
 */
public final class PatroniRest {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String base;
  private final BasicCredentials credentials;

  public PatroniRest(int port, BasicCredentials credentials) {
    this.base = "http://127.0.0.1:" + port;
    this.credentials = credentials;
  }

  public record Answer(int status, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  public Answer get(String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5)).GET().build());
  }

  public Answer post(String path, JsonObject body, Duration timeout) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build());
  }

  public Answer patch(String path, JsonObject body) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(body.encode())).build());
  }

  private Answer send(HttpRequest request) throws IOException, InterruptedException {
    HttpRequest authorized = HttpRequest.newBuilder(request, (name, value) -> true)
        .header("Authorization", credentials.header()).build();
    HttpResponse<String> r = HTTP.send(authorized, HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.body());
  }
}
