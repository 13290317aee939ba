package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** `kubectl pgtide psql` verifies PostgreSQL's certificate with the cluster's CA through its port-forward. */
class KubePsqlTest {
  @Test
  void verifyFullForThePrimaryServicesNameAtTheForwardedPort() {
    assertThat(KubeCli.psqlConninfo(40123, "orders.shop.svc", Path.of("/tmp/pgtide-orders-ca1.crt")))
        .isEqualTo("host=orders.shop.svc port=40123 user=postgres dbname=postgres sslmode=verify-full "
            + "sslrootcert=/tmp/pgtide-orders-ca1.crt hostaddr=127.0.0.1");
    assertThat(KubeCli.psqlConninfo(40123, "orders.shop.svc", null)).as("a cluster without <c>-ca yet")
        .isEqualTo("host=127.0.0.1 port=40123 user=postgres dbname=postgres sslmode=require");
  }
}
