package io.pgtide.operator.hub;

import io.netty.buffer.ByteBuf;

/**
 * Follows the frame boundaries of one bridge connection (4-byte big-endian length, then that many bytes of JSON)
 * over the bytes as they arrive, and says when a frame's length header is over the limit. It only counts: it keeps
 * at most the 4 bytes of a header that arrived split, never a frame's body. So an oversized frame is refused from its
 * header, before the bridge's own parser (which buffers a frame whole) has buffered a byte of it.
 */
final class FrameLengthGuard {
  private final long maxFrameBytes;
  /** Bytes of the current frame's body still to pass; meaningful when {@code headerRead == 4}. */
  private long bodyLeft;
  private long header;
  private int headerRead;
  private long refusedLength = -1;

  FrameLengthGuard(long maxFrameBytes) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * Follows the readable bytes of {@code chunk} (not consumed). False once a header declares more than the limit;
   * from then on everything is refused, the connection is to be closed.
   */
  boolean accept(ByteBuf chunk) {
    if (refusedLength >= 0) {
      return false;
    }
    int i = chunk.readerIndex();
    int end = chunk.writerIndex();
    while (i < end) {
      if (headerRead < 4) {
        header = (header << 8) | chunk.getUnsignedByte(i++);
        if (++headerRead == 4) {
          if (header > maxFrameBytes) {
            refusedLength = header;
            return false;
          }
          bodyLeft = header;
        }
      } else {
        long take = Math.min(bodyLeft, end - i);
        i += (int) take;
        bodyLeft -= take;
      }
      if (headerRead == 4 && bodyLeft == 0) {
        headerRead = 0;
        header = 0;
      }
    }
    return true;
  }

  /** The length the refused header declared, or -1 while nothing was refused. */
  long refusedLength() {
    return refusedLength;
  }
}
