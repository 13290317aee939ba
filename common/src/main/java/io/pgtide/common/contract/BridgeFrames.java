package io.pgtide.common.contract;

import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.WriteStream;
import io.vertx.ext.eventbus.bridge.tcp.impl.protocol.FrameHelper;
import io.vertx.ext.eventbus.bridge.tcp.impl.protocol.FrameParser;

/** The TCP event-bus bridge's wire frames (4-byte length + JSON) as the sidecar uses them. */
public final class BridgeFrames {
  private BridgeFrames() {
  }

  public static void publish(WriteStream<Buffer> out, String address, JsonObject body) {
    FrameHelper.sendFrame("publish", address, body, out);
  }

  public static void register(WriteStream<Buffer> out, String address) {
    FrameHelper.sendFrame("register", address, null, out);
  }

  /** Answers a request that arrived with {@code replyAddress}. */
  public static void reply(WriteStream<Buffer> out, String replyAddress, JsonObject body) {
    FrameHelper.sendFrame("send", replyAddress, body, out);
  }

  public static void ping(WriteStream<Buffer> out) {
    FrameHelper.sendFrame("ping", out);
  }

  public static Handler<Buffer> parser(Handler<AsyncResult<JsonObject>> frames) {
    return new FrameParser(frames);
  }
}
