package io.pgtide.cli.backup;

import io.pgtide.backup.BackupAgent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.k8s.api.BackupAgentClient;
import io.pgtide.operator.k8s.model.BackupAgentModel;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup agent's API over TLS as the operator reaches it: a certificate from the operator's CA for the agent's
 * Service names, trusted only from that CA and only for that name (while the Service's IP is dialled), and a
 * certificate issued again into the mounted files served to new connections without a restart.
 */
class BackupAgentTlsTest {
  static final CertificateAuthority CA = CertificateAuthority.create("operator-ca", Duration.ofDays(1));
  static final String HOST = BackupAgentModel.host("shop", "orders");
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  static TlsMaterial agentCertificate(Duration validity) {
    return CA.issue("orders-backup", BackupAgentModel.dnsNames("shop", "orders"), List.of(), validity);
  }

  HttpServer agent(Path dir, long reloadMs) {
    Router api = Router.router(vertx);
    api.get("/api/status").handler(ctx -> ctx.json(new io.vertx.core.json.JsonObject().put("backup", "ok")));
    return BackupAgent.serveTls(vertx, api, dir, 0, reloadMs);
  }

  int status(String caPem, int port, String virtualHost) {
    WebClient client = WebClient.create(vertx, BackupAgentClient.tlsOptions(caPem));
    try {
      return client.getAbs("https://127.0.0.1:" + port + "/api/status").virtualHost(virtualHost)
          .timeout(5_000).send().await().statusCode();
    } catch (Exception e) {
      // Future.await rethrows the failure as it is, the handshake's SSLHandshakeException too
      return -1; // the handshake was refused
    } finally {
      client.close();
    }
  }

  @Test
  void theOperatorTrustsOnlyItsCaAndTheAgentsServiceName(@TempDir Path dir) {
    agentCertificate(Duration.ofDays(90)).write(dir);
    int port = agent(dir, 60_000).actualPort();
    assertThat(status(CA.caPem(), port, HOST)).isEqualTo(200);
    // a server with another CA's certificate, or one not issued for this agent's name, is not the agent
    assertThat(status(CertificateAuthority.create("other", Duration.ofDays(1)).caPem(), port, HOST)).isEqualTo(-1);
    assertThat(status(CA.caPem(), port, BackupAgentModel.host("shop", "ledger"))).isEqualTo(-1);
  }

  @Test
  void aCertificateIssuedAgainIsServedWithoutARestart(@TempDir Path dir) throws Exception {
    // short-lived, as one the operator is about to issue again
    TlsMaterial first = agentCertificate(Duration.ofMinutes(2));
    first.write(dir);
    int port = agent(dir, 200).actualPort();
    assertThat(served(port)).isEqualTo(first.certificate().getSerialNumber());

    TlsMaterial second = agentCertificate(Duration.ofDays(90));
    second.write(dir);
    await().atMost(Duration.ofSeconds(10)).until(() -> served(port).equals(second.certificate().getSerialNumber()));
    assertThat(status(CA.caPem(), port, HOST)).isEqualTo(200);
  }

  /** The serial of the certificate a new TLS connection is shown. */
  static BigInteger served(int port) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", TlsMaterial.parse(CA.caPem()));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      var params = socket.getSSLParameters();
      params.setServerNames(List.of(new SNIHostName(HOST)));
      socket.setSSLParameters(params);
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }
}
