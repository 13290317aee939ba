package io.pgtide.operator.k8s.api;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.Callable;

/** The one way fabric8's blocking calls run: on a worker thread, back as a Future, never on an event loop. */
public final class Blocking {
  private Blocking() {
  }

  public static <T> Future<T> call(Vertx vertx, Callable<T> work) {
    return vertx.executeBlocking(work, false);
  }
}
