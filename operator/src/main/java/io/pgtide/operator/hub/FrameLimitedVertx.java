package io.pgtide.operator.hub;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.VertxWrapper;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.internal.tls.SslContextProvider;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrafficShapingOptions;
import io.vertx.core.net.impl.NetServerInternal;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The Vert.x the hub hands to the TCP event-bus bridge: the same instance, except that every connection of the
 * servers it creates gets a {@link FrameLengthGuard} in front of the bridge's frame parser. The bridge offers no
 * hook of its own before it parses (its parser buffers a frame whole, whatever length its header declares), so the
 * guard goes into the connection's Netty pipeline when it is accepted, before any byte after the TLS handshake is
 * read. A connection whose frame header is over the limit is closed at once and {@code refused} is told.
 */
final class FrameLimitedVertx extends VertxWrapper {
  private final long maxFrameBytes;
  private final BiConsumer<NetSocket, Long> refused;

  FrameLimitedVertx(Vertx vertx, long maxFrameBytes, BiConsumer<NetSocket, Long> refused) {
    super((VertxInternal) vertx);
    this.maxFrameBytes = maxFrameBytes;
    this.refused = refused;
  }

  @Override
  public NetServerInternal createNetServer(NetServerOptions options) {
    return new Server(delegate.createNetServer(options));
  }

  private void guard(NetSocket socket) {
    ChannelHandlerContext vertxHandler = ((NetSocketInternal) socket).channelHandlerContext();
    vertxHandler.pipeline().addBefore(vertxHandler.name(), "pgtide-frame-limit", new ChannelInboundHandlerAdapter() {
      private final FrameLengthGuard frames = new FrameLengthGuard(maxFrameBytes);

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes) || frames.accept(bytes)) {
          ctx.fireChannelRead(msg);
          return;
        }
        ReferenceCountUtil.release(msg);
        refused.accept(socket, frames.refusedLength());
        ctx.close();
      }
    });
  }

  /** The server the bridge creates, with every accepted connection guarded before the bridge sees it. */
  private final class Server implements NetServerInternal {
    private final NetServerInternal server;

    Server(NetServerInternal server) {
      this.server = server;
    }

    @Override
    public NetServerInternal connectHandler(Handler<NetSocket> handler) {
      server.connectHandler(handler == null ? null : socket -> {
        guard(socket);
        handler.handle(socket);
      });
      return this;
    }

    @Override
    public Handler<NetSocket> connectHandler() {
      return server.connectHandler();
    }

    @Override
    public NetServerInternal exceptionHandler(Handler<Throwable> handler) {
      server.exceptionHandler(handler);
      return this;
    }

    @Override
    public SslContextProvider sslContextProvider() {
      return server.sslContextProvider();
    }

    @Override
    public Future<NetServer> listen(ContextInternal context, SocketAddress address) {
      return server.listen(context, address).map(s -> this);
    }

    @Override
    public Future<NetServer> listen() {
      return server.listen().map(s -> this);
    }

    @Override
    public Future<NetServer> listen(SocketAddress address) {
      return server.listen(address).map(s -> this);
    }

    @Override
    public Future<Void> shutdown(long timeout, TimeUnit unit) {
      return server.shutdown(timeout, unit);
    }

    @Override
    public int actualPort() {
      return server.actualPort();
    }

    @Override
    public Future<Boolean> updateSSLOptions(ServerSSLOptions options, boolean force) {
      return server.updateSSLOptions(options, force);
    }

    @Override
    public Future<Boolean> updateTrafficShapingOptions(TrafficShapingOptions options) {
      return server.updateTrafficShapingOptions(options);
    }

    @Override
    public boolean isMetricsEnabled() {
      return server.isMetricsEnabled();
    }
  }
}
