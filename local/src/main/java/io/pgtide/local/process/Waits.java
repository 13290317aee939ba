package io.pgtide.local.process;

import java.time.Duration;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes; the failure says what was awaited and the last state. */
public final class Waits {
  private Waits() {
  }

  /** A condition that may throw while the thing awaited is not up yet. */
  @FunctionalInterface
  public interface Check {
    boolean check() throws Exception;
  }

  public static void until(String what, Duration timeout, Check condition, Supplier<String> diagnostics) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.check()) {
          return;
        }
      } catch (Exception e) {
        // not ready yet
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + what, e);
      }
    }
    throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what + "; "
        + diagnostics.get());
  }
}
