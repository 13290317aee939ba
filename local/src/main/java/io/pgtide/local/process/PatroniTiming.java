package io.pgtide.local.process;

/** Patroni's dynamic timing, passed through to its DCS configuration. */
public record PatroniTiming(int ttl, int loopWait, int retryTimeout, long maximumLagOnFailover,
                            boolean synchronousMode) {
  public static final PatroniTiming DEFAULTS = new PatroniTiming(30, 10, 10, 1048576, false);
  /** Accepted by Patroni 3.0.2; a hard kill resolves in about 10 s. */
  public static final PatroniTiming FAST = new PatroniTiming(10, 2, 4, 1048576, false);

  public PatroniTiming withSynchronousMode(boolean on) {
    return new PatroniTiming(ttl, loopWait, retryTimeout, maximumLagOnFailover, on);
  }
}
