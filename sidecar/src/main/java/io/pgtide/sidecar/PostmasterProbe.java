package io.pgtide.sidecar;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

/**
 * Does the postmaster still take new connections? A frozen postmaster keeps the sample's open session working while
 * every new connection hangs, so every sample opens a new one. It sends only PostgreSQL's SSLRequest and waits for
 * the one-byte answer ('S' or 'N'): that byte comes from a backend the postmaster has just forked, which is exactly
 * what a new client needs. No startup packet, so no authentication: a full login per sample would cost a SCRAM
 * exchange (4096 PBKDF2 rounds on both sides) every second. A backend that sees the connection close before its
 * startup packet exits without logging.
 */
final class PostmasterProbe {
  private static final int SSL_REQUEST_CODE = 80877103;

  /**
   * The connection was taken (or the connect itself timed out, the listen queue being full) and nothing answered:
   * the postmaster lives but does not serve. Every other failure (refused, no socket, closed) means it is down.
   */
  static final class NoAnswer extends RuntimeException {
    NoAnswer(String message) {
      super(message, null, false, false);
    }
  }

  /** Did this probe failure come from a postmaster that took the connection and never answered? */
  static boolean hung(Throwable failure) {
    return failure instanceof NoAnswer || failure instanceof io.netty.channel.ConnectTimeoutException;
  }

  private final Vertx vertx;
  private final SocketAddress address;
  private final long timeoutMs;
  private final NetClient client;

  PostmasterProbe(Vertx vertx, String host, int port, long timeoutMs) {
    this.vertx = vertx;
    // a host that is a directory is the unix socket directory, as libpq and the pg client read it
    this.address = host.startsWith("/") ? SocketAddress.domainSocketAddress(host + "/.s.PGSQL." + port)
        : SocketAddress.inetSocketAddress(port, host);
    this.timeoutMs = timeoutMs;
    this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) timeoutMs));
  }

  Future<Void> check() {
    Promise<Void> answered = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, t -> answered.tryFail(new NoAnswer(
        "no new connection within " + timeoutMs + " ms (PostgreSQL is not accepting connections)")));
    client.connect(address).onComplete(ar -> {
      if (ar.failed()) {
        vertx.cancelTimer(timer);
        answered.tryFail(ar.cause());
        return;
      }
      NetSocket socket = ar.result();
      answered.future().onComplete(done -> socket.close());
      socket.handler(bytes -> {
        vertx.cancelTimer(timer);
        answered.tryComplete();
      });
      socket.closeHandler(v -> {
        vertx.cancelTimer(timer);
        answered.tryFail("PostgreSQL closed a new connection before answering");
      });
      socket.write(Buffer.buffer(8).appendInt(8).appendInt(SSL_REQUEST_CODE));
    });
    return answered.future();
  }

  Future<Void> close() {
    return client.close();
  }
}
