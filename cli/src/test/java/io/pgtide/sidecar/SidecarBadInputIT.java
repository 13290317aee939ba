package io.pgtide.sidecar;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.Acceptance;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.HubFixture;
import io.pgtide.testkit.PostgresInstance;
import io.pgtide.testkit.TestDirs;
import io.pgtide.local.process.Signal;
import io.pgtide.local.process.Signals;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each broken input gives a clear reason in the report, never a crash; the sidecar recovers on its own. */
class SidecarBadInputIT {
  static HubFixture hub;
  static PostgresInstance pg;

  @BeforeAll
  static void start() {
    pg = PostgresInstance.start(TestDirs.create("sidecar-bad-input"));
    hub = new HubFixture(TestDirs.create("sidecar-bad-input-hub"));
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
    if (pg != null) {
      pg.close();
    }
  }

  static InstanceReport reportWhere(MemberId id, java.util.function.Predicate<InstanceReport> condition) {
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      var m = hub.state.view(id.clusterKey()).members().get(id.member());
      return m != null && m.report() != null && condition.test(m.report());
    });
    return hub.state.view(id.clusterKey()).members().get(id.member()).report();
  }

  @Test
  void plainPostgresWithoutPatroniIsHealthy() {
    MemberId id = new MemberId("bad", "plain", "plain-0");
    hub.deploy(hub.config(id, pg.port(), pg.password(), ""));
    InstanceReport r = reportWhere(id, InstanceReport::healthy);
    assertThat(r.role()).isEqualTo(Role.PRIMARY);
    assertThat(r.patroniRole()).isNull();
  }

  @Test
  void wrongCredentialsAreAClearReason() {
    MemberId id = new MemberId("bad", "creds", "creds-0");
    hub.deploy(hub.config(id, pg.port(), "not-the-password", ""));
    InstanceReport r = reportWhere(id, x -> !x.healthy());
    assertThat(r.reason()).contains("password authentication failed").doesNotContain("not-the-password");
  }

  @Test
  void postgresAbsentAtStartIsAClearReason() throws Exception {
    int port = TestMachine.freePort();
    MemberId id = new MemberId("bad", "absent", "absent-0");
    hub.deploy(hub.config(id, port, pg.password(), ""));
    InstanceReport r = reportWhere(id, x -> !x.healthy());
    assertThat(r.reason()).containsIgnoringCase("connection refused");
  }

  @Test
  void patroniApiAbsentOrMalformedIsReported() throws Exception {
    MemberId absent = new MemberId("bad", "nopatroni", "nopatroni-0");
    hub.deploy(hub.config(absent, pg.port(), pg.password(), "http://127.0.0.1:" + TestMachine.freePort()));
    assertThat(reportWhere(absent, x -> x.reason() != null).reason()).contains("patroni:");

    int port = TestMachine.freePort();
    hub.vertx.createHttpServer().requestHandler(req -> req.response().end("<html>not patroni</html>"))
        .listen(port, "127.0.0.1").await();
    MemberId malformed = new MemberId("bad", "garbage", "garbage-0");
    hub.deploy(hub.config(malformed, pg.port(), pg.password(), "http://127.0.0.1:" + port));
    assertThat(reportWhere(malformed, x -> x.reason() != null).reason()).contains("not a JSON object");
  }

  @Test
  void postgresStoppedAndStartedAgainRecovers() {
    MemberId id = new MemberId("bad", "restart", "restart-0");
    hub.deploy(hub.config(id, pg.port(), pg.password(), ""));
    assertThat(reportWhere(id, InstanceReport::healthy).acceptance()).isEqualTo(Acceptance.ACCEPTING);
    pg.stop();
    try {
      // stopping, then down; never frozen: logins refused while it shuts down (57P03), then nothing listens
      assertThat(reportWhere(id, x -> !x.healthy()).acceptance()).isIn(Acceptance.STARTING_UP, Acceptance.REFUSED);
      reportWhere(id, x -> x.acceptance() == Acceptance.REFUSED);
    } finally {
      pg.startPostmaster();
    }
    reportWhere(id, InstanceReport::healthy);
  }

  @Test
  void aFrozenPostmasterMakesNewConnectionsFailAndProbesLeaveNoTraceInTheLog() throws Exception {
    MemberId id = new MemberId("bad", "frozen", "frozen-0");
    hub.deploy(hub.config(id, pg.port(), pg.password(), ""));
    reportWhere(id, InstanceReport::healthy);
    long postmaster = Long.parseLong(Files.readAllLines(pg.dataDir().resolve("postmaster.pid")).get(0).trim());
    Signals.send(postmaster, Signal.STOP);
    try {
      // the sample's open session still answers; only the new-connection probe notices
      InstanceReport frozen = reportWhere(id, x -> !x.healthy());
      assertThat(frozen.reason()).contains("new connections fail").contains("not accepting connections");
      assertThat(frozen.acceptance()).isEqualTo(Acceptance.HUNG);
    } finally {
      Signals.send(postmaster, Signal.CONT);
    }
    reportWhere(id, InstanceReport::healthy);
    // one probe a second for the whole class, and not one of them got as far as a login or a log line
    String log = Files.readString(pg.dataDir().resolveSibling("postgres.log"));
    assertThat(log).doesNotContain("incomplete startup packet").doesNotContain("could not receive data");
  }
}
