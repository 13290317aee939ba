package io.pgtide.operator.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class FrameLengthGuardTest {

  private static ByteBuf frame(String json) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    return Unpooled.buffer().writeInt(body.length).writeBytes(body);
  }

  @Test
  void followsFramesSplitAnywhereAndRefusesTheFirstHeaderOverTheLimit() {
    ByteBuf stream = Unpooled.buffer();
    stream.writeBytes(frame("{\"type\":\"ping\"}"));
    stream.writeBytes(frame(""));
    stream.writeBytes(frame("x".repeat(100)));
    stream.writeInt(101).writeBytes(new byte[10]); // a frame over the limit of 100, body not yet sent
    byte[] all = new byte[stream.readableBytes()];
    stream.readBytes(all);
    int refusedHeaderEnd = all.length - 10;

    for (int chunk = 1; chunk <= all.length; chunk++) {
      FrameLengthGuard guard = new FrameLengthGuard(100);
      int refusedAt = -1;
      for (int from = 0; from < all.length && refusedAt < 0; from += chunk) {
        int to = Math.min(all.length, from + chunk);
        if (!guard.accept(Unpooled.wrappedBuffer(all, from, to - from))) {
          refusedAt = to;
        }
      }
      assertThat(refusedAt).as("chunks of %d bytes", chunk).isGreaterThanOrEqualTo(refusedHeaderEnd)
          .isLessThan(refusedHeaderEnd + chunk);
      assertThat(guard.refusedLength()).isEqualTo(101);
      assertThat(guard.accept(frame("{}"))).as("refused for good").isFalse();
    }
  }

  @Test
  void aHeaderOfTwoGigabytesOrANegativeOneIsRefusedAtOnce() {
    FrameLengthGuard huge = new FrameLengthGuard(4 << 20);
    assertThat(huge.accept(Unpooled.buffer().writeInt(Integer.MAX_VALUE))).isFalse();
    assertThat(huge.refusedLength()).isEqualTo(Integer.MAX_VALUE);
    FrameLengthGuard negative = new FrameLengthGuard(4 << 20);
    assertThat(negative.accept(Unpooled.buffer().writeInt(-1))).isFalse();
    assertThat(negative.refusedLength()).isEqualTo(0xFFFFFFFFL);
  }

  @Test
  void framesUpToTheLimitPass() {
    FrameLengthGuard guard = new FrameLengthGuard(100);
    assertThat(guard.accept(Unpooled.buffer().writeInt(100).writeBytes(new byte[100]))).isTrue();
    assertThat(guard.accept(frame("{}"))).isTrue();
    assertThat(guard.refusedLength()).isEqualTo(-1);
  }
}
