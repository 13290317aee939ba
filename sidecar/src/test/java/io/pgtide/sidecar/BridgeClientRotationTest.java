package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A certificate issued again into the mounted files is used from the sidecar's next connection on, without a
 * restart: a TLS server that demands client certificates records each one and drops the connection.
 */
class BridgeClientRotationTest {
  static final CertificateAuthority CA = CertificateAuthority.create("test-ca", Duration.ofDays(1));
  final Vertx vertx = Vertx.vertx();
  final List<BigInteger> presented = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  @Test
  void aRotatedCertificateIsPresentedAtTheNextConnection(@TempDir Path dir) throws Exception {
    NetServer server = vertx.createNetServer(CA.issue("operator", List.of("127.0.0.1"), Duration.ofDays(1))
        .serverOptions());
    server.connectHandler(socket -> {
      try {
        presented.add(((X509Certificate) socket.peerCertificates().get(0)).getSerialNumber());
      } catch (Exception e) {
        presented.add(BigInteger.ZERO);
      }
      socket.close(); // the client reconnects (with backoff)
    });
    int port = server.listen(0, "127.0.0.1").await().actualPort();

    // short-lived: two minutes, as the operator's would be near the end of its life
    TlsMaterial first = CA.issue("shop/orders/*", List.of(), Duration.ofMinutes(2));
    first.write(dir);
    BridgeClient client = new BridgeClient(vertx, new MemberId("shop", "orders", "orders-0"), "127.0.0.1", port,
        () -> TlsMaterial.read(dir), () -> null, (command, reply) -> { });
    client.start();
    BigInteger before = first.certificate().getSerialNumber();
    // generous: the first TLS handshake of a cold JVM on a loaded 2-core machine took over 10 s once
    await().atMost(Duration.ofSeconds(60)).until(() -> presented.contains(before));

    TlsMaterial second = CA.issue("shop/orders/*", List.of(), Duration.ofDays(90));
    second.write(dir);
    BigInteger after = second.certificate().getSerialNumber();
    await().atMost(Duration.ofSeconds(60)).until(() -> presented.contains(after));
    assertThat(presented.get(presented.size() - 1)).isEqualTo(after);
    client.close().await();
  }
}
