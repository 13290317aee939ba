package io.pgtide.operator.k8s.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.process.OsUser;
import io.pgtide.operator.pooler.PgBouncerConfig;
import io.pgtide.operator.pooler.PoolStats;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.SslMode;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link PoolerClient} does on Kubernetes, against a real PgBouncer (Debian's, {@code scripts/setup.sh}):
 * vertx-pg-client logs in to the admin console as pgtide_pooler (SCRAM from the userlist's plaintext) over TLS,
 * verifying the chain against the cluster CA (verify-ca: it dials a pod IP), runs SHOW POOLS and SHOW STATS with the
 * simple query protocol, and PoolStats reads the rows; a certificate from a foreign CA is refused.
 */
class PoolerAdminConsoleIT {
  @TempDir
  Path tmp;

  @Test
  void theOperatorReadsTheAdminConsoleOverVerifiedTls() throws Exception {
    Path dir = OsUser.ownedDirectory(tmp.resolve("pgbouncer"), true);
    OsUser.makeTraversable(dir);
    CertificateAuthority ca = CertificateAuthority.create("cluster CA", Duration.ofDays(1));
    var cert = ca.issueServer("orders-pooler.shop.svc", List.of("orders-pooler.shop.svc"), List.of(),
        Duration.ofDays(1));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Files.writeString(dir.resolve("tls.crt"), cert.certPem());
    Files.writeString(dir.resolve("tls.key"), cert.keyPem());
    Files.writeString(dir.resolve("userlist.txt"), PgBouncerConfig.authFileLine("pooler-secret"));
    Files.writeString(dir.resolve("pgbouncer.ini"), PgBouncerConfig.ini(new PostgresClusterSpec.PoolerSpec(),
        new PgBouncerConfig.Listen("127.0.0.1", port), new PgBouncerConfig.Target("127.0.0.1", 1),
        new PgBouncerConfig.Tls(null, dir.resolve("tls.crt"), dir.resolve("tls.key")), dir.resolve("userlist.txt"),
        null));
    OsUser.ownedDirectory(dir, true);
    Process pgbouncer = new ProcessBuilder(OsUser.asPostgres(List.of("/usr/sbin/pgbouncer",
        dir.resolve("pgbouncer.ini").toString()))).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("pgbouncer.log").toFile()).start();
    Vertx vertx = Vertx.vertx();
    try {
      PostgresCluster cr = new PostgresCluster();
      cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").build());
      PoolerClient pooler = new PoolerClient(vertx, null, null, () -> cr);
      var options = pooler.options("127.0.0.1", "pgbouncer", "pgtide_pooler", "pooler-secret", ca.caPem(),
          SslMode.VERIFY_CA).setPort(port);
      // PgBouncer listens a moment after it starts: until then the connection is refused
      PgConnection conn = org.awaitility.Awaitility.await("PgBouncer takes the login (its log: "
              + tmp.resolve("pgbouncer.log") + ")")
          .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .until(() -> PgConnection.connect(vertx, options).await(), java.util.Objects::nonNull);
      assertThat(conn.isSSL()).isTrue();
      var pools = PoolerClient.rows(conn.query("SHOW POOLS").execute().await());
      var stats = PoolerClient.rows(conn.query("SHOW STATS").execute().await());
      conn.close().await();
      // the console's own rows are there (and left out of the series: they count console sessions)
      assertThat(pools).anySatisfy(r -> assertThat(r).containsEntry("database", "pgbouncer")
          .containsKeys("cl_active", "cl_waiting", "sv_active", "maxwait"));
      assertThat(stats).anySatisfy(r -> assertThat(r).containsKeys("total_xact_count", "avg_wait_time"));
      assertThat(PoolStats.samples(pools, stats)).isEmpty();

      var foreign = CertificateAuthority.create("another cluster's CA", Duration.ofDays(1));
      assertThatThrownBy(() -> PgConnection.connect(vertx, pooler.options("127.0.0.1", "pgbouncer", "pgtide_pooler",
          "pooler-secret", foreign.caPem(), SslMode.VERIFY_CA).setPort(port)).await())
          .hasMessageContaining("SSL");
    } finally {
      vertx.close().await();
      pgbouncer.destroy();
    }
  }
}
