package io.pgtide.operator.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.BridgeFrames;
import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.sidecar.BridgeClient;
import io.pgtide.testkit.TestMachine;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A rogue client holding a real certificate of the cluster it attacks: the cluster-wide {@code shop/orders/*} one
 * every pod of the StatefulSet holds (readable through {@code /proc} in a Spilo pod). It may speak for a member of
 * its cluster, but it cannot exhaust the operator's heap, take a member's connection from its sidecar, or feed the
 * operator reports or command answers in that sidecar's place.
 */
class RogueBridgeClientIT {
  static final MemberId REAL = new MemberId("shop", "orders", "orders-0");
  static final CertificateAuthority CA = CertificateAuthority.create("pgtide-test-ca", Duration.ofDays(1));
  static final TlsMaterial HUB_TLS = CA.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1));
  static final TlsMaterial STOLEN = CA.issue("shop/orders/*", List.of(), Duration.ofDays(1));

  Vertx vertx;
  int port;
  BridgeHub hub;
  ClusterState state;
  List<JsonObject> memberEvents = new CopyOnWriteArrayList<>();
  /** Kept referenced until the test ends: Vert.x closes a garbage-collected NetClient's connections. */
  List<NetClient> rawClients = new CopyOnWriteArrayList<>();
  AtomicReference<JsonObject> snapshot = new AtomicReference<>(report(1));

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    port = TestMachine.freePort();
    state = new ClusterState(3_000);
    vertx.deployVerticle(state).await();
    hub = new BridgeHub(HUB_TLS, "127.0.0.1", port, 3_000);
    vertx.deployVerticle(hub).await();
    vertx.eventBus().<JsonObject>consumer(Addresses.MEMBER_EVENTS, m -> memberEvents.add(m.body()));
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void aTwoGigabyteFrameHeaderClosesTheConnectionAndTheHeapStaysFlat() {
    BridgeClient real = realSidecar(false);
    long before = usedHeapAfterGc();

    NetSocket rogue = connect(STOLEN);
    AtomicBoolean closed = new AtomicBoolean();
    rogue.closeHandler(v -> closed.set(true));
    frame(rogue, new JsonObject().put("type", "register").put("address",
        Addresses.command(new MemberId("shop", "orders", "orders-1"))));
    // the header declares 2 GiB; then the body streams in, 1 MiB at a time, up to 128 MiB unless the hub hangs up
    Buffer header = Buffer.buffer().appendInt(Integer.MAX_VALUE);
    Buffer mebibyte = Buffer.buffer(new byte[1 << 20]);
    int written = 0;
    for (Buffer next = header; written <= 128 && !closed.get(); next = mebibyte, written++) {
      try {
        rogue.write(next).await();
      } catch (Exception e) {
        break; // the hub closed the connection under the write (a broken pipe): asserted below by the close itself
      }
    }
    long grown = usedHeapAfterGc() - before;
    assertThat(grown).as("heap growth in bytes while the rogue streamed its frame").isLessThan(32L << 20);
    await().atMost(Duration.ofSeconds(10)).untilTrue(closed);
    assertThat(hub.rejectedByCode()).containsKey("frame-too-large");
    assertThat(written).as("MiB the rogue got out before the hub hung up").isLessThan(128);

    // the hub keeps serving the real sidecar
    snapshot.set(report(2));
    real.send(snapshot.get());
    await().atMost(Duration.ofSeconds(10)).until(() -> seqOf(REAL) == 2);
    real.close().await();
  }

  @Test
  void aSecondRegistrationForAConnectedMemberIsRefusedAndItsForgedReportsAndProbeAnswersChangeNothing() {
    BridgeClient real = realSidecar(false);
    long disconnectsBefore = disconnects();

    NetSocket rogue = connect(STOLEN);
    AtomicBoolean closed = new AtomicBoolean();
    rogue.closeHandler(v -> closed.set(true));
    // the rogue answers every command it gets: "the processes are dead"
    rogue.handler(BridgeFrames.parser(f -> {
      JsonObject msg = f.result();
      if (f.succeeded() && "message".equals(msg.getString("type")) && msg.getString("replyAddress") != null) {
        BridgeFrames.reply(rogue, msg.getString("replyAddress"), ContractCodec.encode(CommandResult.ok(
            msg.getJsonObject("body").getString("correlationId"), new JsonObject().put("dead", true))));
      }
    }));
    // both frames in one write: the hub closes the duplicate on its registration, and a second write could then
    // fail on the closed connection before the forged report was even offered
    frames(rogue, new JsonObject().put("type", "register").put("address", Addresses.command(REAL)),
        new JsonObject().put("type", "publish").put("address", Addresses.REPORTS)
            .put("body", ContractCodec.encode(TestReports.report(REAL, Role.REPLICA, 1_000_000, 1, false))));

    await().atMost(Duration.ofSeconds(10)).untilTrue(closed);
    assertThat(hub.rejectedByCode()).containsKey("duplicate-member");
    assertThat(disconnects()).as("the refused duplicate's end is not the real member's").isEqualTo(disconnectsBefore);
    assertThat(state.view(REAL.clusterKey()).members().get(REAL.member()).connected()).isTrue();
    assertThat(state.view(REAL.clusterKey()).primary()).isPresent();
    assertThat(seqOf(REAL)).isEqualTo(1);

    // every probe reaches the real sidecar: the event bus would share them out among two registrations
    CommandClient commands = new CommandClient(vertx);
    for (int i = 0; i < 6; i++) {
      CommandResult probe = commands.send(REAL, new CommandPayload.ProbeProcesses(), 5_000).await();
      assertThat(probe.ok()).as(probe.errorMessage()).isTrue();
      assertThat(probe.detail().getBoolean("dead")).as("probe %d answered by the real sidecar", i).isFalse();
    }
    real.close().await();
  }

  @Test
  void aMemberCertificateOfOneClusterCannotRegisterAsAMemberOfAnother() {
    BridgeClient real = realSidecar(false);
    NetSocket rogue = connect(CA.issue("shop/payments/payments-0", List.of(), Duration.ofDays(1)));
    long before = hub.rejected();
    frame(rogue, new JsonObject().put("type", "register").put("address", Addresses.command(REAL)));
    await().atMost(Duration.ofSeconds(10)).until(() -> hub.rejected() > before);
    assertThat(hub.rejectedByCode()).containsKey("foreign-address");
    assertThat(state.view("shop/payments").members()).isEmpty();
    real.close().await();
  }

  @Test
  void aForgedHugeSequenceNumberCannotSilenceTheRealSidecarAfterItReconnects() {
    BridgeClient real = realSidecar(false);
    real.close().await();
    await().atMost(Duration.ofSeconds(10)).until(() -> !state.view(REAL.clusterKey()).members().get(REAL.member())
        .connected());

    // while the real sidecar is away, the rogue speaks for its member with the real session and a huge number
    NetSocket rogue = connect(STOLEN);
    frame(rogue, new JsonObject().put("type", "register").put("address", Addresses.command(REAL)));
    frame(rogue, new JsonObject().put("type", "publish").put("address", Addresses.REPORTS)
        .put("body", ContractCodec.encode(TestReports.report(REAL, Role.PRIMARY, Long.MAX_VALUE / 2, 1, true))));
    await().atMost(Duration.ofSeconds(10)).until(() -> seqOf(REAL) == Long.MAX_VALUE / 2);
    rogue.close().await();
    await().atMost(Duration.ofSeconds(10)).until(() -> !state.view(REAL.clusterKey()).members().get(REAL.member())
        .connected());

    // the real sidecar comes back with the same session: its reports count again
    snapshot.set(report(3));
    BridgeClient back = realSidecar(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> seqOf(REAL) == 3);
    back.send(report(4));
    await().atMost(Duration.ofSeconds(10)).until(() -> seqOf(REAL) == 4);
    back.close().await();
  }

  private BridgeClient realSidecar(boolean again) {
    AtomicReference<BridgeClient> ref = new AtomicReference<>();
    BridgeClient client = new BridgeClient(vertx, REAL, "127.0.0.1", port,
        CA.issue(REAL.toString(), List.of(), Duration.ofDays(1)), snapshot::get,
        (cmd, reply) -> ref.get().reply(reply, ContractCodec.encode(CommandResult.ok(cmd.getString("correlationId"),
            new JsonObject().put("dead", false)))));
    ref.set(client);
    client.start().await();
    if (!again) {
      await().atMost(Duration.ofSeconds(10)).until(() -> state.view(REAL.clusterKey()).primary().isPresent());
    }
    return client;
  }

  private long seqOf(MemberId id) {
    var member = state.view(id.clusterKey()).members().get(id.member());
    return member == null || member.report() == null ? -1 : member.report().seq();
  }

  private long disconnects() {
    return memberEvents.stream().filter(e -> "member-disconnected".equals(e.getString("event"))).count();
  }

  private static JsonObject report(long seq) {
    return ContractCodec.encode(TestReports.report(REAL, Role.PRIMARY, seq, 1000 * seq, true));
  }

  private NetSocket connect(TlsMaterial tls) {
    NetClient client = vertx.createNetClient(tls.clientOptions());
    rawClients.add(client);
    return client.connect(port, "127.0.0.1").await();
  }

  private static long usedHeapAfterGc() {
    ManagementFactory.getMemoryMXBean().gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static void frame(NetSocket socket, JsonObject frame) {
    frames(socket, frame);
  }

  private static void frames(NetSocket socket, JsonObject... frames) {
    Buffer buffer = Buffer.buffer();
    for (JsonObject frame : frames) {
      byte[] data = frame.encode().getBytes();
      buffer.appendInt(data.length).appendBytes(data);
    }
    socket.write(buffer).await();
  }
}
