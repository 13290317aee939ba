package io.pgtide.operator;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.tls.CertificateAuthority;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Two listeners: what monitoring reaches serves no control API, and the control port serves no metrics. */
class OperatorListenersIT {
  static final CertificateAuthority CA = CertificateAuthority.create("pgtide-test-ca", Duration.ofDays(1));

  static int status(HttpClient http, int port, String method, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void metricsAndHealthOnOnePortTheControlApiAndDashboardOnTheOther() throws Exception {
    int metrics = TestMachine.freePort();
    int control = TestMachine.freePort();
    OperatorCore core = new OperatorCore(CA.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1)),
        "127.0.0.1", TestMachine.freePort(), v -> new IdleInfrastructure(), 3_000).serve("127.0.0.1", metrics, control);
    try {
      HttpClient http = HttpClient.newHttpClient();
      assertThat(status(http, metrics, "GET", "/metrics")).isEqualTo(200);
      assertThat(status(http, metrics, "GET", "/healthz")).isEqualTo(200);
      assertThat(status(http, metrics, "GET", "/readyz")).isEqualTo(200);
      assertThat(status(http, metrics, "GET", "/api/clusters")).isEqualTo(404);
      assertThat(status(http, metrics, "POST", "/api/clusters/shop/orders/switchover")).isEqualTo(404);
      assertThat(status(http, metrics, "GET", "/")).as("no dashboard").isEqualTo(404);

      assertThat(status(http, control, "GET", "/api/clusters")).isEqualTo(200);
      assertThat(status(http, control, "GET", "/api/events")).as("the kept events").isEqualTo(200);
      assertThat(status(http, metrics, "GET", "/api/events")).isEqualTo(404);
      assertThat(status(http, control, "GET", "/")).as("the dashboard").isEqualTo(200);
      assertThat(status(http, control, "GET", "/metrics")).isEqualTo(404);
    } finally {
      core.close();
    }
  }
}
