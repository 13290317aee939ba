package io.pgtide.local.process;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** One etcd member on loopback (Debian's {@code etcd-server}), the DCS of local mode and the tests. */
public final class EtcdProcess implements AutoCloseable {
  private final int clientPort;
  private final int peerPort;
  private final ManagedProcess process;

  private EtcdProcess(int clientPort, int peerPort, ManagedProcess process) {
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.process = process;
  }

  public int peerPort() {
    return peerPort;
  }

  public static EtcdProcess start(LocalMachine machine, Path dir, int clientPort, int peerPort) {
    Path data = dir.resolve("etcd-data");
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    ManagedProcess p = machine.start("etcd", List.of("etcd", "--name", "pgtide-etcd",
        "--data-dir", data.toString(), "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "pgtide-etcd=" + peer, "--enable-v2=true"), Map.of("ETCD_UNSUPPORTED_ARCH", ""),
        dir, dir.resolve("logs/etcd.log"));
    EtcdProcess etcd = new EtcdProcess(clientPort, peerPort, p);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    Waits.until("etcd to answer /health on " + client, Duration.ofSeconds(30), () -> {
      if (!p.isAlive()) {
        throw new IllegalStateException("etcd exited");
      }
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(client + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().contains("true");
    }, () -> p.tail(20));
    return etcd;
  }

  public int clientPort() {
    return clientPort;
  }

  public String hosts() {
    return "127.0.0.1:" + clientPort;
  }

  public ManagedProcess process() {
    return process;
  }

  /**
   * Releases a Patroni cluster's leader key if (and only if) it still names {@code member}: one etcd v3
   * compare-and-delete, as Patroni itself does when it stops cleanly. Only for a member whose Patroni and postmaster
   * are both dead — the other members then elect at once instead of waiting out the key's ttl.
   *
   * @return true when the key named the member and is gone
   */
  public boolean releaseLeaderKey(String scope, String member) {
    Base64.Encoder b64 = Base64.getEncoder();
    String key = b64.encodeToString(("/service/" + scope + "/leader").getBytes(StandardCharsets.UTF_8));
    String value = b64.encodeToString(member.getBytes(StandardCharsets.UTF_8));
    String txn = new JsonObject()
        .put("compare", new JsonArray().add(new JsonObject().put("key", key).put("result", "EQUAL")
            .put("target", "VALUE").put("value", value)))
        .put("success", new JsonArray().add(new JsonObject().put("requestDeleteRange", new JsonObject().put("key", key))))
        .encode();
    try {
      HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + clientPort + "/v3/kv/txn"))
              .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(txn)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("etcd answered " + r.statusCode() + ": " + r.body());
      }
      return new JsonObject(r.body()).getBoolean("succeeded", false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    process.stop(Duration.ofSeconds(5));
  }
}
