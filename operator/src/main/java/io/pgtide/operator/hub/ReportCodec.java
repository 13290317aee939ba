package io.pgtide.operator.hub;

import io.pgtide.common.contract.InstanceReport;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/** Passes decoded reports between the hub and the state inside one JVM: immutable records, so no copy. */
public final class ReportCodec implements MessageCodec<InstanceReport, InstanceReport> {
  public static final String NAME = "pgtide-instance-report";

  public static synchronized void register(Vertx vertx) {
    try {
      vertx.eventBus().registerCodec(new ReportCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // one codec per Vert.x instance
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, InstanceReport report) {
    throw new UnsupportedOperationException("reports stay in this JVM");
  }

  @Override
  public InstanceReport decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException("reports stay in this JVM");
  }

  @Override
  public InstanceReport transform(InstanceReport report) {
    return report;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
