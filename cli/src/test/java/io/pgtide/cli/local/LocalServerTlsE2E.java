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
 * CA are refused by the client.
 */
class LocalServerTlsE2E {

  @Test
  void verifyFullWithTheClustersCaSucceedsAndAWrongNameOrForeignCaIsRefused() throws Exception {
    LocalRunner runner = LocalClusters.up(LocalClusters.resource("tls", 1, false));
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
    } finally {
      runner.close();
    }
  }
}
