package io.pgtide.testkit;

import io.pgtide.local.process.ManagedProcess;
import io.pgtide.local.process.Waits;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Debian's Prometheus Pushgateway on a free port (loopback unless told). */
public final class PushgatewayProcess implements AutoCloseable {
  private final String host;
  private final int port;
  private final ManagedProcess process;

  private PushgatewayProcess(String host, int port, ManagedProcess process) {
    this.host = host;
    this.port = port;
    this.process = process;
  }

  public static PushgatewayProcess start(Path dir) {
    return start(dir, "127.0.0.1");
  }

  /** On {@code host}: loopback, or the test cluster's node address (pods reach it there). */
  public static PushgatewayProcess start(Path dir, String host) {
    int port = TestMachine.freePort();
    ManagedProcess p = TestMachine.get().start("pushgateway", List.of("/usr/bin/prometheus-pushgateway",
        "--web.listen-address=" + host + ":" + port), Map.of(), dir, dir.resolve("pushgateway.log"));
    HttpClient http = HttpClient.newHttpClient();
    Waits.until("Pushgateway on " + port, Duration.ofSeconds(30), () -> http.send(
        HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/-/ready")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode() == 200, () -> p.tail(20));
    return new PushgatewayProcess(host, port, p);
  }

  public int port() {
    return port;
  }

  public String url() {
    return "http://" + host + ":" + port;
  }

  /** The Pushgateway's own API view of every pushed group ({@code /api/v1/metrics}). */
  public String metricsApi() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url() + "/api/v1/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Override
  public void close() {
    process.stop(Duration.ofSeconds(5));
  }
}
