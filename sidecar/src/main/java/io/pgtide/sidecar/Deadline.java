package io.pgtide.sidecar;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * Bounds a piece of work in time: the returned future fails at the deadline unless the work finished first. The
 * work itself is not stopped by that; {@code onExpiry} is where the caller ends it (closes its connection), so that
 * nothing waits for it forever.
 */
public final class Deadline {
  private Deadline() {
  }

  public static <T> Future<T> within(Vertx vertx, Future<T> work, long ms, Supplier<Throwable> failure,
                                     Runnable onExpiry) {
    Promise<T> promise = Promise.promise();
    long timer = vertx.setTimer(ms, t -> {
      if (promise.tryFail(failure.get())) {
        onExpiry.run();
      }
    });
    work.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        promise.tryComplete(ar.result());
      } else {
        promise.tryFail(ar.cause());
      }
    });
    return promise.future();
  }
}
