package io.pgtide.cli.local;

import io.pgtide.testkit.TestMachine;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.local.process.Waits;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Debian's Chromium, headless, driven over the DevTools protocol (a WebSocket of JSON commands). */
final class HeadlessChromium implements AutoCloseable {
  private final ManagedProcess process;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();

  private HeadlessChromium(ManagedProcess process, WebSocket socket) {
    this.process = process;
    this.socket = socket;
  }

  static boolean installed() {
    return Files.isExecutable(Path.of("/usr/bin/chromium"));
  }

  static HeadlessChromium start(Path dir) throws Exception {
    int port = TestMachine.freePort();
    ManagedProcess p = TestMachine.get().start("chromium", List.of("/usr/bin/chromium", "--headless=new", "--no-sandbox",
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,900",
        "--user-data-dir=" + dir.resolve("chromium-profile"), "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=" + port, "about:blank"), Map.of(), dir, dir.resolve("chromium.log"));
    HttpClient http = HttpClient.newHttpClient();
    String[] wsUrl = new String[1];
    Waits.until("Chromium's DevTools endpoint", Duration.ofSeconds(30), () -> {
      String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      for (Object o : new JsonArray(body)) {
        JsonObject t = (JsonObject) o;
        if ("page".equals(t.getString("type"))) {
          wsUrl[0] = t.getString("webSocketDebuggerUrl");
          return true;
        }
      }
      return false;
    }, () -> p.tail(20));
    HeadlessChromium[] self = new HeadlessChromium[1];
    StringBuilder partial = new StringBuilder();
    WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(wsUrl[0]), new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          JsonObject msg = new JsonObject(partial.toString());
          partial.setLength(0);
          CompletableFuture<JsonObject> f = self[0] == null ? null : self[0].pending.remove(msg.getInteger("id", -1));
          if (f != null) {
            f.complete(msg);
          }
        }
        webSocket.request(1);
        return null;
      }
    }).get(10, TimeUnit.SECONDS);
    self[0] = new HeadlessChromium(p, ws);
    return self[0];
  }

  JsonObject call(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> f = new CompletableFuture<>();
    pending.put(id, f);
    socket.sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true)
        .get(10, TimeUnit.SECONDS);
    JsonObject answer = f.get(30, TimeUnit.SECONDS);
    if (answer.containsKey("error")) {
      throw new IllegalStateException(method + ": " + answer.getJsonObject("error").encode());
    }
    return answer.getJsonObject("result", new JsonObject());
  }

  void navigate(String url) throws Exception {
    call("Page.navigate", new JsonObject().put("url", url));
  }

  /** Evaluates a JavaScript expression in the page and returns its value as a string (null when undefined). */
  String eval(String expression) throws Exception {
    JsonObject r = call("Runtime.evaluate", new JsonObject().put("expression", expression).put("returnByValue", true));
    Object value = r.getJsonObject("result", new JsonObject()).getValue("value");
    return value == null ? null : String.valueOf(value);
  }

  void screenshot(Path file) throws Exception {
    JsonObject r = call("Page.captureScreenshot", new JsonObject().put("format", "png"));
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(r.getString("data")));
  }

  @Override
  public void close() {
    socket.abort();
    process.stop(Duration.ofSeconds(5));
  }
}
