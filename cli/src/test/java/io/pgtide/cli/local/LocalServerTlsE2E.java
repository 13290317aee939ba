package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.local.process.LocalServerTls;
import io.pgtide.local.process.PgClientTls;
import io.pgtide.local.process.Psql;
import io.pgtide.operator.LocalClusters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Local mode's PostgreSQL certificate (#32): {@code sslmode=verify-full} with the cluster's CA through the primary
 * endpoint on 127.0.0.1 succeeds over TLS; a name the certificate does not carry ({@code localhost}) and a foreign
 * CA are refused by the client; a restart issues a new certificate from the same CA.
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

  static java.security.cert.X509Certificate certificate(Path clusterDir) throws java.io.IOException {
    return io.pgtide.common.tls.TlsMaterial.parse(Files.readString(LocalServerTls.dir(clusterDir).resolve("tls.crt")));
  }
}
