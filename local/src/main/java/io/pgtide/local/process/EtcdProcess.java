package io.pgtide.local.process;

import io.pgtide.common.process.OsUser;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
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

/**
 * One etcd member on loopback (Debian's {@code etcd-server}), the DCS of local mode and the tests. Loopback is shared
 * with every user of the machine, so both of its ports speak TLS and demand a client certificate from a CA made for
 * this run: its key stays in this JVM's memory, and the client certificate Patroni and this class use sits in a
 * directory only the cluster's owner can read ({@code etcd-tls/client}).
 */
public final class EtcdProcess implements AutoCloseable {
  private static final Duration VALIDITY = Duration.ofDays(3650);
  private final int clientPort;
  private final int peerPort;
  private final ManagedProcess process;
  private final Path clientTls;
  private final HttpClient http;

  private EtcdProcess(int clientPort, int peerPort, ManagedProcess process, Path clientTls, HttpClient http) {
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.process = process;
    this.clientTls = clientTls;
    this.http = http;
  }

  public int peerPort() {
    return peerPort;
  }

  public static EtcdProcess start(LocalMachine machine, Path dir, int clientPort, int peerPort) {
    Path data = dir.resolve("etcd-data");
    String client = "https://127.0.0.1:" + clientPort;
    String peer = "https://127.0.0.1:" + peerPort;
    // new material on every start: nothing on disk can sign a certificate etcd would take
    CertificateAuthority authority = CertificateAuthority.create("pgtide-local-etcd-ca", VALIDITY);
    Path tls = dir.resolve("etcd-tls");
    Path server = authority.issue("pgtide-etcd", List.of("127.0.0.1", "localhost"), VALIDITY)
        .write(tls.resolve("server"));
    TlsMaterial clientMaterial = authority.issue("pgtide-local", List.of(), VALIDITY);
    Path clientDir = clientMaterial.write(tls.resolve("client"));
    // the owner's only; Patroni reads the client key as the unprivileged user
    OsUser.ownedDirectory(server, true);
    OsUser.ownedDirectory(clientDir, true);
    OsUser.ownedDirectory(tls, true);
    String ca = server.resolve("ca.crt").toString();
    String cert = server.resolve("tls.crt").toString();
    String key = server.resolve("tls.key").toString();
    ManagedProcess p = machine.start("etcd", List.of("etcd", "--name", "pgtide-etcd",
        "--data-dir", data.toString(), "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "pgtide-etcd=" + peer, "--enable-v2=true",
        "--client-cert-auth", "--trusted-ca-file", ca, "--cert-file", cert, "--key-file", key,
        "--peer-client-cert-auth", "--peer-trusted-ca-file", ca, "--peer-cert-file", cert, "--peer-key-file", key),
        Map.of("ETCD_UNSUPPORTED_ARCH", ""), dir, dir.resolve("logs/etcd.log"));
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
        .sslContext(clientMaterial.sslContext()).build();
    EtcdProcess etcd = new EtcdProcess(clientPort, peerPort, p, clientDir, http);
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

  /** The directory with the client certificate etcd demands: {@code ca.crt}, {@code tls.crt}, {@code tls.key}. */
  public Path clientTls() {
    return clientTls;
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
    String key = base64("/service/" + scope + "/leader");
    return txn(key, member, new JsonObject().put("requestDeleteRange", new JsonObject().put("key", key)));
  }

  /**
   * Replaces the system identifier Patroni recorded for a cluster ({@code initialize}) if (and only if) it is still
   * {@code from}: one compare-and-put. A major upgrade's new data directory has a new identifier, and Patroni
   * refuses to start on a data directory whose identifier differs from the DCS's.
   *
   * @return true when the key held {@code from} and holds {@code to} now
   */
  public boolean replaceSystemIdentifier(String scope, String from, String to) {
    String key = base64("/service/" + scope + "/initialize");
    return txn(key, from, new JsonObject().put("requestPut", new JsonObject().put("key", key)
        .put("value", base64(to))));
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /** One etcd v3 transaction: {@code then} when {@code key} holds {@code expected}; whether it did. */
  private boolean txn(String key, String expected, JsonObject then) {
    String txn = new JsonObject()
        .put("compare", new JsonArray().add(new JsonObject().put("key", key).put("result", "EQUAL")
            .put("target", "VALUE").put("value", base64(expected))))
        .put("success", new JsonArray().add(then))
        .encode();
    try {
      HttpResponse<String> r = http.send(
          HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + clientPort + "/v3/kv/txn"))
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
