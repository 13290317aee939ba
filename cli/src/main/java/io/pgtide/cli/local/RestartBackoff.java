package io.pgtide.cli.local;

import java.time.Duration;

/**
 * A kubelet's restart policy for one local process: the first restart at once, then 10 s, doubling, at most 5 min
 * between restarts; a process that has run for 10 minutes is forgiven its past crashes. Pure: the caller says what
 * it saw and when.
 */
public final class RestartBackoff {
  static final Duration FIRST_DELAY = Duration.ofSeconds(10);
  static final Duration MAX_DELAY = Duration.ofMinutes(5);
  static final Duration RESET_AFTER = Duration.ofMinutes(10);

  private int restarts;
  private long runningSince = -1;
  private long deadSince = -1;
  private long notBefore;

  /** The process was seen running. */
  public void running(long now) {
    if (runningSince < 0) {
      runningSince = now;
    }
    deadSince = -1;
    if (now - runningSince >= RESET_AFTER.toMillis()) {
      restarts = 0;
    }
  }

  /** The process was seen dead; true the first time for this death (when it is worth saying so). */
  public boolean dead(long now) {
    runningSince = -1;
    if (deadSince >= 0) {
      return false;
    }
    deadSince = now;
    notBefore = now + delayAfter(restarts).toMillis();
    return true;
  }

  /** Whether a dead process may be restarted now. */
  public boolean due(long now) {
    return deadSince >= 0 && now >= notBefore;
  }

  public void restarted(long now) {
    restarts++;
    deadSince = -1;
    runningSince = now;
  }

  public int restarts() {
    return restarts;
  }

  /** Milliseconds until the next restart is allowed, 0 when due. */
  public long waitMs(long now) {
    return Math.max(0, notBefore - now);
  }

  static Duration delayAfter(int restarts) {
    if (restarts == 0) {
      return Duration.ZERO;
    }
    long ms = FIRST_DELAY.toMillis() << Math.min(restarts - 1, 20);
    return Duration.ofMillis(Math.min(ms, MAX_DELAY.toMillis()));
  }
}
