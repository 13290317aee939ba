package io.pgtide.sidecar;

import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.BridgeFrames;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.tls.TlsMaterial;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar's end of the bridge: mutual TLS to the operator's hub, registers for its own command address, sends
 * reports, pings so a silent death is noticed on both ends (the hub's idle timer; here an operator that stopped
 * answering), and on loss reconnects with exponential backoff and jitter, then sends a full snapshot at once.
 */
public final class BridgeClient {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeClient.class);
  private static final long MIN_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 5_000;
  private static final long PING_MS = 1_000;
  /**
   * The operator answers every ping: silence this long means the path to it is gone even though TCP has not noticed
   * (a partition drops packets, it sends no reset: the kernel would retransmit for many minutes), so the sidecar
   * drops the connection and reconnects through the Service, to whichever replica leads now.
   */
  public static final long SILENCE_MS = 6_000;
  /** Without anything from the operator for this long, a ping asks for an answer. */
  private static final long ASK_AFTER_MS = 2_000;

  private final Vertx vertx;
  private final MemberId id;
  private final String host;
  private final int port;
  /** The certificate, read again before every connection: a rotated one is used from the next connection on. */
  private final Supplier<TlsMaterial> tlsSource;
  private TlsMaterial tls;
  private NetClient client;
  private final Supplier<JsonObject> snapshot;
  private final BiConsumer<JsonObject, String> commandHandler;
  private NetSocket socket;
  private long backoffMs = MIN_BACKOFF_MS;
  private long pingTimer = -1;
  private boolean closed;
  private long connects;
  private long attempts;
  private long framesRefused;
  private volatile long lastSentNanos;
  private volatile long lastReceivedNanos;

  /**
   * @param snapshot       the latest full report, sent right after every (re)connect (null when none yet)
   * @param commandHandler receives (command JSON, reply address)
   */
  public BridgeClient(Vertx vertx, MemberId id, String host, int port, TlsMaterial tls, Supplier<JsonObject> snapshot,
                      BiConsumer<JsonObject, String> commandHandler) {
    this(vertx, id, host, port, () -> tls, snapshot, commandHandler);
  }

  /**
   * @param tls read before every connection attempt (the files of the mounted Secret: the operator issues the
   *            certificate again before it expires, and the kubelet updates them); when it cannot be read, the last
   *            good material is used
   */
  public BridgeClient(Vertx vertx, MemberId id, String host, int port, Supplier<TlsMaterial> tls,
                      Supplier<JsonObject> snapshot, BiConsumer<JsonObject, String> commandHandler) {
    this.vertx = vertx;
    this.id = id;
    this.host = host;
    this.port = port;
    this.tlsSource = tls;
    this.tls = tls.get();
    this.client = vertx.createNetClient(this.tls.clientOptions().setConnectTimeout(2_000));
    this.snapshot = snapshot;
    this.commandHandler = commandHandler;
  }

  /** A client for the current certificate: a new one when the material changed since the last connection. */
  private NetClient currentClient() {
    TlsMaterial now;
    try {
      now = tlsSource.get();
    } catch (RuntimeException e) {
      LOG.warn("[{}] cannot read the TLS material ({}); connecting with the last good one", id, e.getMessage());
      return client;
    }
    if (!now.equals(tls)) {
      LOG.info("[{}] the certificate changed; connecting with the new one", id);
      NetClient old = client;
      tls = now;
      client = vertx.createNetClient(now.clientOptions().setConnectTimeout(2_000));
      old.close();
    }
    return client;
  }

  /** Completes at the first successful connection; keeps retrying in the background either way. */
  public Future<Void> start() {
    Promise<Void> first = Promise.promise();
    connect(first);
    return first.future();
  }

  public boolean connected() {
    return socket != null;
  }

  public long connects() {
    return connects;
  }

  /** Connection attempts so far, successful or not. */
  public long attempts() {
    return attempts;
  }

  public long framesRefused() {
    return framesRefused;
  }

  /** Sends a report when connected; returns false (and drops it, the next snapshot supersedes it) when not. */
  public boolean send(JsonObject report) {
    NetSocket s = socket;
    if (s == null) {
      return false;
    }
    BridgeFrames.publish(s, Addresses.REPORTS, report);
    lastSentNanos = System.nanoTime();
    return true;
  }

  public void reply(String replyAddress, JsonObject result) {
    NetSocket s = socket;
    if (s != null && replyAddress != null) {
      BridgeFrames.reply(s, replyAddress, result);
    }
  }

  public Future<Void> close() {
    closed = true;
    vertx.cancelTimer(pingTimer);
    NetSocket s = socket;
    socket = null;
    return (s == null ? Future.<Void>succeededFuture() : s.close()).compose(v -> client.close());
  }

  private void connect(Promise<Void> first) {
    if (closed) {
      return;
    }
    attempts++;
    currentClient().connect(port, host).onComplete(ar -> {
      if (ar.succeeded()) {
        onConnected(ar.result());
        first.tryComplete();
      } else {
        LOG.warn("[{}] cannot reach operator at {}:{}: {}; retrying in {} ms", id, host, port,
            ar.cause().getMessage(), backoffMs);
        scheduleReconnect(first);
      }
    });
  }

  private void scheduleReconnect(Promise<Void> first) {
    long delay = backoffMs / 2 + ThreadLocalRandom.current().nextLong(backoffMs / 2 + 1);
    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    vertx.setTimer(Math.max(1, delay), t -> connect(first));
  }

  private void onConnected(NetSocket s) {
    socket = s;
    connects++;
    backoffMs = MIN_BACKOFF_MS;
    LOG.info("[{}] connected to operator at {}:{}", id, host, port);
    lastReceivedNanos = System.nanoTime();
    s.handler(BridgeFrames.parser(frame -> {
      lastReceivedNanos = System.nanoTime();
      if (frame.failed()) {
        LOG.warn("[{}] unreadable frame from operator: {}", id, frame.cause().getMessage());
        return;
      }
      onFrame(frame.result());
    }));
    s.closeHandler(v -> {
      if (socket == s) {
        socket = null;
        vertx.cancelTimer(pingTimer);
        if (!closed) {
          LOG.warn("[{}] connection to operator lost; reconnecting", id);
          scheduleReconnect(Promise.promise());
        }
      }
    });
    s.exceptionHandler(e -> LOG.debug("[{}] bridge socket error: {}", id, e.getMessage()));
    BridgeFrames.register(s, Addresses.command(id));
    JsonObject latest = snapshot.get();
    if (latest != null) {
      BridgeFrames.publish(s, Addresses.REPORTS, latest);
    }
    vertx.cancelTimer(pingTimer);
    // a ping only when nothing else went out: any frame keeps the hub's idle timer from firing, and at 1 Hz reports
    // pinging anyway would double the frames the hub reads
    pingTimer = vertx.setPeriodic(PING_MS, t -> {
      NetSocket current = socket;
      if (current == null) {
        return;
      }
      long now = System.nanoTime();
      long silentMs = (now - lastReceivedNanos) / 1_000_000L;
      if (silentMs >= SILENCE_MS) {
        LOG.warn("[{}] no answer from the operator for {} ms; dropping the connection", id, silentMs);
        current.close(); // the close handler reconnects
      } else if (silentMs >= ASK_AFTER_MS || now - lastSentNanos >= (PING_MS - PING_MS / 10) * 1_000_000L) {
        BridgeFrames.ping(current);
        lastSentNanos = now;
      }
    });
  }

  private void onFrame(JsonObject frame) {
    String type = frame.getString("type", "");
    switch (type) {
      case "message" -> {
        if (Addresses.command(id).equals(frame.getString("address")) && frame.getValue("body") instanceof JsonObject b) {
          commandHandler.accept(b, frame.getString("replyAddress"));
        }
      }
      case "err" -> {
        framesRefused++;
        LOG.warn("[{}] operator refused a frame: {}", id, frame.getString("message"));
      }
      default -> {
        // pong and others: the connection is alive
      }
    }
  }
}
