package io.pgtide.cli.local;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The local analog of a Service: a TCP port on loopback whose new connections go to the member(s) the operator
 * points it at (round robin for the replicas endpoint). Connections already open stay with their member.
 */
public final class TcpProxy {
  private final Vertx vertx;
  private final String name;
  private final Supplier<List<Integer>> targets;
  private final AtomicInteger next = new AtomicInteger();
  private NetServer server;
  private NetClient client;

  public TcpProxy(Vertx vertx, String name, Supplier<List<Integer>> targets) {
    this.vertx = vertx;
    this.name = name;
    this.targets = targets;
  }

  public Future<Void> listen(int port) {
    client = vertx.createNetClient();
    server = vertx.createNetServer().connectHandler(this::accept);
    return server.listen(port, "127.0.0.1").mapEmpty();
  }

  public String name() {
    return name;
  }

  private void accept(NetSocket front) {
    List<Integer> ports = targets.get();
    if (ports.isEmpty()) {
      front.close();
      return;
    }
    front.pause();
    int port = ports.get(Math.floorMod(next.getAndIncrement(), ports.size()));
    client.connect(port, "127.0.0.1").onComplete(ar -> {
      if (ar.failed()) {
        front.close();
        return;
      }
      NetSocket back = ar.result();
      front.pipeTo(back);
      back.pipeTo(front);
      front.resume();
    });
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
