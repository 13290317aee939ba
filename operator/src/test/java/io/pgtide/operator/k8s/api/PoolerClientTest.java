package io.pgtide.operator.k8s.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.tls.CertificateAuthority;
import io.vertx.pgclient.SslMode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How the operator connects to PostgreSQL and to PgBouncer's admin console (the real login is PoolerAdminConsoleIT's). */
class PoolerClientTest {
  static PoolerClient client() {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").build());
    return new PoolerClient(null, null, null, () -> cr);
  }

  @Test
  void onlyStartupParametersPgBouncerKnowsAreSent() {
    var o = client().options("10.0.0.7", "pgbouncer", "pgtide_pooler", "pw", null, SslMode.VERIFY_CA);
    // vertx-pg-client's defaults add IntervalStyle and extra_float_digits: PgBouncer refuses a login with an
    // unknown startup parameter
    assertThat(o.getProperties()).containsOnlyKeys("application_name", "client_encoding", "DateStyle");
    assertThat(o.getSslMode()).as("no certificate to verify: no TLS").isEqualTo(SslMode.DISABLE);
    assertThat(o.getPort()).isEqualTo(5432);
  }

  @Test
  void theChainIsCheckedAgainstTheClustersCaAndTheNameOnlyWhereOneIsDialled() {
    String ca = CertificateAuthority.create("cluster CA", Duration.ofDays(1)).caPem();
    var pod = client().options("10.0.0.7", "pgbouncer", "pgtide_pooler", "pw", ca, SslMode.VERIFY_CA);
    assertThat(pod.getSslMode()).isEqualTo(SslMode.VERIFY_CA);
    assertThat(pod.getSslOptions().getTrustOptions()).isNotNull();
    assertThat(pod.getSslOptions().getHostnameVerificationAlgorithm()).isEmpty();
    var primary = client().options("orders.shop.svc", "postgres", "postgres", "pw", ca, SslMode.VERIFY_FULL);
    assertThat(primary.getSslMode()).isEqualTo(SslMode.VERIFY_FULL);
    assertThat(primary.getSslOptions().getHostnameVerificationAlgorithm()).isEqualTo("HTTPS");
  }
}
