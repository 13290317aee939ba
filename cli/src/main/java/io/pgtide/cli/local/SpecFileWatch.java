package io.pgtide.cli.local;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.ClusterFile;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Watches the file a local cluster was started from (`local up` does, unless --no-watch): a changed content is
 * checked like `validate --local` and handed on to be applied; an invalid one is reported and not applied. Polls
 * (every {@code intervalMs}) rather than using inotify, so editors that replace the file are seen too.
 */
public final class SpecFileWatch {
  private final Vertx vertx;
  private final Path file;
  private final Consumer<PostgresCluster> apply;
  private final Consumer<String> report;
  private byte[] last;
  private long timer = -1;

  public SpecFileWatch(Vertx vertx, Path file, Consumer<PostgresCluster> apply, Consumer<String> report) {
    this.vertx = vertx;
    this.file = file;
    this.apply = apply;
    this.report = report;
  }

  public SpecFileWatch start(long intervalMs) {
    last = read();
    timer = vertx.setPeriodic(intervalMs, t -> vertx.executeBlocking(() -> {
      check();
      return null;
    }, true));
    return this;
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  /** One look at the file (blocking). */
  synchronized void check() {
    byte[] now = read();
    if (now == null || Arrays.equals(now, last)) {
      return;
    }
    last = now;
    PostgresCluster edited;
    try {
      edited = ClusterFile.load(file, true);
    } catch (RuntimeException e) {
      report.accept("not applying the edit of " + file + ": " + e.getMessage());
      return;
    }
    report.accept(file + " changed; applying it");
    apply.accept(edited);
  }

  private byte[] read() {
    try {
      return Files.readAllBytes(file);
    } catch (java.io.IOException e) {
      return null; // being replaced: look again next time
    }
  }
}
