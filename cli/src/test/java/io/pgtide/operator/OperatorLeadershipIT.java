package io.pgtide.operator;

import io.pgtide.local.process.LocalMachine;
import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.sidecar.BridgeClient;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A replica serves health and metrics always, and accepts sidecars only while it leads. */
class OperatorLeadershipIT {
  static final CertificateAuthority CA = CertificateAuthority.create("pgtide-test-ca", Duration.ofDays(1));
  static final MemberId ID = new MemberId("shop", "orders", "orders-0");

  @Test
  void theHubListensOnlyWhileLeadingAndStandingDownClosesEverySidecarConnection() {
    int hubPort = TestMachine.freePort();
    OperatorCore core = new OperatorCore(CA.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1)),
        "127.0.0.1", hubPort, v -> new IdleInfrastructure(), 3_000).serve("127.0.0.1", TestMachine.freePort(), TestMachine.freePort());
    try {
      assertThat(LocalMachine.isFree(hubPort)).as("a follower's hub is closed").isTrue();
      AtomicReference<JsonObject> snapshot = new AtomicReference<>(
          ContractCodec.encode(TestReports.report(ID, Role.PRIMARY, 1, 1000, true)));
      BridgeClient sidecar = new BridgeClient(core.vertx(), ID, "127.0.0.1", hubPort,
          CA.issue(ID.toString(), List.of(), Duration.ofDays(1)), snapshot::get, (cmd, reply) -> { });
      sidecar.start();

      core.act();
      await().atMost(Duration.ofSeconds(15)).until(sidecar::connected);
      await().atMost(Duration.ofSeconds(10)).until(() -> core.state().view(ID.clusterKey()).primary().isPresent());

      core.standDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> !sidecar.connected());
      assertThat(core.hub()).isNull();
      assertThat(LocalMachine.isFree(hubPort)).isTrue();

      core.act(); // leads again: the sidecar finds it
      await().atMost(Duration.ofSeconds(15)).until(sidecar::connected);
      assertThat(sidecar.connects()).isGreaterThanOrEqualTo(2);
      sidecar.close().await();
    } finally {
      core.close();
    }
  }
}
