package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.local.process.LocalServerTls;
import io.pgtide.common.process.PgClientTls;
import io.pgtide.common.process.Psql;
import io.pgtide.operator.LocalClusters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Local mode's PostgreSQL certificate (#32): {@code sslmode=verify-full} with the cluster's CA through the primary
 * endpoint on 127.0.0.1 succeeds over TLS; a name the certificate does not carry ({@code localhost}) and a foreign
 * CA are refused by the client; files replaced under a running cluster are served after the sidecar's reload, no
 * restart; a restart issues a new certificate from the same CA.
 */
class LocalServerTlsE2E {

  @Test
  void verifyFullWithTheClustersCaSucceedsAndAWrongNameOrForeignCaIsRefused() throws Exception {
    var resource = LocalClusters.resource("tls", 1, false);
    LocalRunner runner = LocalClusters.up(resource);
    Path dir = runner.dir();
    String caBefore;
    java.math.BigInteger serialBefore;
    try {
      int port = runner.primaryPort();
      String password = LocalClusters.superuserPassword(runner);
      Path ca = LocalServerTls.caFile(runner.dir());
      String ssl = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

      assertThat(Psql.query("127.0.0.1", port, "postgres", password, "postgres", ssl,
          PgClientTls.verifyFull(ca, null))).as("TLS, the certificate verified for 127.0.0.1").isEqualTo("t");

      assertThatThrownBy(() -> Psql.query("localhost", port, "postgres", password, "postgres", ssl,
          PgClientTls.verifyFull(ca, null))).as("a name the certificate does not carry")
          .hasMessageContaining("does not match host name \"localhost\"");

      Path foreign = Files.createTempFile("foreign-ca", ".crt");
      try {
        Files.writeString(foreign, CertificateAuthority.create("foreign", Duration.ofDays(1)).caPem());
        assertThatThrownBy(() -> Psql.query("127.0.0.1", port, "postgres", password, "postgres", ssl,
            PgClientTls.verifyFull(foreign, null))).as("a CA that did not issue it")
            .hasMessageContaining("certificate verify failed");
      } finally {
        Files.deleteIfExists(foreign);
      }
      // rotation without a restart: a new certificate from the cluster's CA into the files PostgreSQL reads; the
      // sidecar sees them change and reloads PostgreSQL (ServerCertificateReload), which then serves it
      String started = Psql.query("127.0.0.1", port, "postgres", password, "postgres",
          "SELECT pg_postmaster_start_time()", PgClientTls.verifyFull(ca, null));
      String caPem = Files.readString(dir.resolve("server-ca").resolve("ca.crt"));
      var rotated = CertificateAuthority.load(new io.pgtide.common.tls.TlsMaterial(caPem,
          Files.readString(dir.resolve("server-ca").resolve("ca.key")), caPem))
          .issueServer("127.0.0.1", LocalServerTls.NAMES, java.util.List.of(), Duration.ofDays(30));
      assertThat(served(port)).isNotEqualTo(rotated.certificate().getSerialNumber());
      rotated.write(LocalServerTls.dir(dir));
      // PostgreSQL's own, as LocalServerTls leaves them (this JVM may be root, PostgreSQL then runs as postgres)
      io.pgtide.common.process.OsUser.ownedDirectory(LocalServerTls.dir(dir), true);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
          .until(() -> served(port).equals(rotated.certificate().getSerialNumber()));
      assertThat(Psql.query("127.0.0.1", port, "postgres", password, "postgres",
          "SELECT pg_postmaster_start_time()", PgClientTls.verifyFull(ca, null))).as("no restart").isEqualTo(started);

      caBefore = Files.readString(ca);
      serialBefore = certificate(dir).getSerialNumber();
    } finally {
      runner.close();
    }

    // a start issues a new certificate from the same CA: a client holding the CA file keeps verifying
    LocalRunner again = new LocalRunner(io.pgtide.testkit.TestMachine.get(), resource, dir,
        msg -> System.out.println("[local] " + msg));
    try {
      again.up(0, 0, 0);
      assertThat(Files.readString(LocalServerTls.caFile(dir))).isEqualTo(caBefore);
      assertThat(certificate(dir).getSerialNumber()).isNotEqualTo(serialBefore);
      assertThat(Psql.query("127.0.0.1", again.primaryPort(), "postgres", LocalClusters.superuserPassword(again),
          "postgres", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
          PgClientTls.verifyFull(LocalServerTls.caFile(dir), null))).isEqualTo("t");
    } finally {
      again.close();
    }
  }

  /**
   * The serial of the certificate PostgreSQL serves on {@code port} now: its SSLRequest, then a TLS handshake that
   * trusts anything (only to read the certificate; nothing is sent).
   */
  static java.math.BigInteger served(int port) throws Exception {
    try (java.net.Socket raw = new java.net.Socket("127.0.0.1", port)) {
      raw.setSoTimeout(5000);
      var out = new java.io.DataOutputStream(raw.getOutputStream());
      out.writeInt(8);
      out.writeInt(80877103);
      out.flush();
      assertThat(raw.getInputStream().read()).as("PostgreSQL offers TLS").isEqualTo('S');
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
      context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
        public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {
        }

        public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {
        }

        public java.security.cert.X509Certificate[] getAcceptedIssuers() {
          return new java.security.cert.X509Certificate[0];
        }
      }}, null);
      try (javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) context.getSocketFactory()
          .createSocket(raw, "127.0.0.1", port, false)) {
        tls.startHandshake();
        return ((java.security.cert.X509Certificate) tls.getSession().getPeerCertificates()[0]).getSerialNumber();
      }
    }
  }

  static java.security.cert.X509Certificate certificate(Path clusterDir) throws java.io.IOException {
    return io.pgtide.common.tls.TlsMaterial.parse(Files.readString(LocalServerTls.dir(clusterDir).resolve("tls.crt")));
  }
}
