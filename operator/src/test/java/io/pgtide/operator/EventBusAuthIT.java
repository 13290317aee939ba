package io.pgtide.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtide.testkit.TestMachine;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's event bus ({@code /eventbus}) is guarded like {@code /api}: with the Kubernetes-mode authorizer
 * (a table of tokens and grants, as in {@link ControlApiAuthIT}) a reader needs a token and receives the clusters of
 * the namespaces it may {@code get} only; in local mode a loopback reader needs the token or to be the same-origin
 * page; everywhere a foreign Origin is refused.
 */
class EventBusAuthIT {
  OperatorCore core;
  int control;
  WebSocketClient client;

  void start(boolean localMode) {
    control = TestMachine.freePort();
    core = new OperatorCore(OperatorListenersIT.CA.issue("pgtide-operator", List.of("127.0.0.1"),
        Duration.ofDays(1)), "127.0.0.1", TestMachine.freePort(), v -> new IdleInfrastructure(), 3_000);
    // it answers later, as a TokenReview does: the upgrade must survive the wait
    ControlApiAuthIT.TableAuthorizer table = new ControlApiAuthIT.TableAuthorizer();
    core.http().authorizer(new ControlAuthorizer() {
      @Override
      public io.vertx.core.Future<Subject> authenticate(String token) {
        io.vertx.core.Promise<Subject> later = io.vertx.core.Promise.promise();
        core.vertx().setTimer(50, t -> table.authenticate(token).onComplete(later));
        return later.future();
      }

      @Override
      public io.vertx.core.Future<Boolean> allowed(Subject subject, String verb, String namespace, String name) {
        return table.allowed(subject, verb, namespace, name);
      }
    }, localMode);
    core.serve("127.0.0.1", TestMachine.freePort(), control);
    client = core.vertx().createWebSocketClient();
  }

  @AfterEach
  void stop() {
    core.close();
  }

  /** A reader of the event bus: every frame it receives, after registering for the cluster events. */
  final class Reader {
    final List<JsonObject> frames = new CopyOnWriteArrayList<>();
    final WebSocket ws;

    Reader(WebSocket ws, String registerToken) {
      this.ws = ws;
      ws.textMessageHandler(t -> frames.add(new JsonObject(t)));
      ws.binaryMessageHandler(b -> frames.add(b.toJsonObject()));
      JsonObject register = new JsonObject().put("type", "register").put("address", "pgtide.cluster-events");
      if (registerToken != null) {
        register.put("headers", new JsonObject().put("Authorization", "Bearer " + registerToken));
      }
      ws.writeTextMessage(register.encode()).await();
    }

    List<String> clusters() {
      return frames.stream().filter(f -> "rec".equals(f.getString("type")))
          .map(f -> f.getJsonObject("body").getString("cluster")).toList();
    }

    boolean refused() {
      return frames.stream().anyMatch(f -> "err".equals(f.getString("type")));
    }
  }

  WebSocket connect(String origin, String token) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(control)
        .setURI("/eventbus/websocket").setAllowOriginHeader(origin != null); // off: no Origin at all
    if (origin != null) {
      options.addHeader("Origin", origin);
    }
    if (token != null) {
      options.addHeader("Authorization", "Bearer " + token);
    }
    return client.connect(options).await();
  }

  /** Emits an event in each namespace until {@code reader} has one of shop's (what it may read, and comes first). */
  void emitUntilShopArrives(Reader reader) {
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      core.events().emit("other/ledger", "Normal", "ScaledUp", "1 -> 2");
      core.events().emit("shop/orders", "Normal", "ScaledUp", "1 -> 2");
      return reader.clusters().contains("shop/orders");
    });
  }

  @Test
  void onKubernetesAReaderWithoutAnAcceptedTokenGetsNothing() {
    start(false);
    Reader anonymous = new Reader(connect(null, null), null);
    Reader forged = new Reader(connect(null, null), "t-forged");
    Reader witness = new Reader(connect(null, "t-editor"), null);
    await().atMost(Duration.ofSeconds(10)).until(() -> anonymous.refused() && forged.refused());
    assertThatThrownBy(() -> connect(null, "t-forged")).isInstanceOf(UpgradeRejectedException.class)
        .satisfies(e -> assertThat(((UpgradeRejectedException) e).getStatus()).isEqualTo(401));
    emitUntilShopArrives(witness);
    assertThat(anonymous.clusters()).isEmpty();
    assertThat(forged.clusters()).isEmpty();
  }

  @Test
  void aForeignOriginIsRefusedEvenWithAToken() {
    start(false);
    assertThatThrownBy(() -> connect("http://evil.example", "t-editor"))
        .isInstanceOf(UpgradeRejectedException.class)
        .satisfies(e -> assertThat(((UpgradeRejectedException) e).getStatus()).isEqualTo(403));
    // the same origin as the page (the Host asked) is fine
    Reader page = new Reader(connect("http://127.0.0.1:" + control, null), "t-editor");
    emitUntilShopArrives(page);
  }

  @Test
  void anAuthorizedReaderReceivesOnlyTheNamespacesItMayGet() {
    start(false);
    Reader reader = new Reader(connect(null, "t-reader"), null);           // get shop only
    Reader browser = new Reader(connect("http://127.0.0.1:" + control, null), "t-reader");
    Reader editor = new Reader(connect(null, "t-editor"), null);           // get shop and other
    emitUntilShopArrives(reader);
    emitUntilShopArrives(browser);
    await().atMost(Duration.ofSeconds(10)).until(() -> editor.clusters().contains("other/ledger"));
    assertThat(reader.clusters()).containsOnly("shop/orders");
    assertThat(browser.clusters()).containsOnly("shop/orders");
  }

  @Test
  void inLocalModeTheSameOriginPageOrTheTokenHolderReadsAndNobodyElse() {
    start(true);
    assertThatThrownBy(() -> connect(null, null)).isInstanceOf(UpgradeRejectedException.class)
        .satisfies(e -> assertThat(((UpgradeRejectedException) e).getStatus()).isEqualTo(401));
    assertThatThrownBy(() -> connect("http://evil.example", null)).isInstanceOf(UpgradeRejectedException.class)
        .satisfies(e -> assertThat(((UpgradeRejectedException) e).getStatus()).isEqualTo(403));
    Reader page = new Reader(connect("http://127.0.0.1:" + control, null), null);
    Reader cli = new Reader(connect(null, "t-editor"), null);
    emitUntilShopArrives(page);
    emitUntilShopArrives(cli);
    await().atMost(Duration.ofSeconds(10)).until(() -> page.clusters().contains("other/ledger"));
  }

  @Test
  void inLocalModeARebindingHostIsRefused() {
    start(true);
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(control)
        .setURI("/eventbus/websocket").setAllowOriginHeader(true)
        .addHeader("Host", "rebind.example:" + control).addHeader("Origin", "http://rebind.example:" + control);
    assertThatThrownBy(() -> client.connect(options).await()).isInstanceOf(UpgradeRejectedException.class)
        .satisfies(e -> assertThat(((UpgradeRejectedException) e).getStatus()).isEqualTo(403));
  }
}
