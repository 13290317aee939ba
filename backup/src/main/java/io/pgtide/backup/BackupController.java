package io.pgtide.backup;

import io.pgtide.common.backup.Backups;
import io.pgtide.common.backup.BackupPolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Tags;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgtide.common.metrics.ClusterMeters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Keeps one cluster's backups: every {@code tickMs} the archiving lag, and Barman's maintenance pass (WAL receiver
 * up, streamed WAL filed, retention applied) whenever the receiver is not streaming and otherwise once a minute; a
 * base backup when the schedule fires (and one at once when the
 * repository has none, so a new cluster is restorable from its first minutes). One action at a time; all Barman
 * calls run on a worker thread. Its status is what {@code status.backup} shows.
 */
public final class BackupController implements Backups {
  private final Vertx vertx;
  private final String key;
  private final Barman barman;
  private final Supplier<PostgresClusterSpec.BackupSpec> spec;
  private final ArchivingLag lag;
  private final Verification verification;
  private final List<io.vertx.core.Promise<JsonObject>> verifyRequested = new java.util.ArrayList<>();
  private volatile double verifiedOk = Double.NaN;
  private volatile double verifiedEpoch = Double.NaN;
  private long expectedRows;
  private Instant nextVerifyAt;
  private JsonObject lastVerification;
  private final Events events;
  private final MeterRegistry registry;
  private final AtomicBoolean busy = new AtomicBoolean();
  private final AtomicReference<JsonObject> status = new AtomicReference<>(new JsonObject());
  private final Counter failures;
  private volatile double lastSuccessEpoch = Double.NaN;
  private volatile double lastDurationSeconds = Double.NaN;
  private volatile double lastSizeBytes = Double.NaN;
  private volatile double firstRecoverableEpoch = Double.NaN;
  private volatile double lagBytes = Double.NaN;
  private volatile double lagSeconds = Double.NaN;
  private volatile double intervalSeconds = Double.NaN;
  /** When this controller started watching the cluster's backups: PgtideBackupMissed counts from here until a first success. */
  private final double enabledEpoch = System.currentTimeMillis() / 1000.0;
  private volatile double count = Double.NaN;
  private Instant nextBackupAt;
  private JsonObject lastBackup;
  private JsonObject lastFailure;
  private final List<io.vertx.core.Promise<JsonObject>> requested = new java.util.ArrayList<>();
  private long timer = -1;
  private final io.pgtide.common.metrics.KnownGauges gauges;
  private String maintenanceError;
  private int failedInARow;
  static final long MAINTENANCE_EVERY_MS = 60_000;
  /** How long {@link #stop()} lets a running pass finish before its Barman call is killed. */
  static final Duration PASS_BOUND_ON_STOP = Duration.ofSeconds(20);
  /** How long an aborted pass gets to unwind before the receiver is stopped anyway. */
  private static final Duration ABORTED_PASS_GRACE = Duration.ofSeconds(5);
  private List<Barman.BackupInfo> catalogue;
  private long maintainedAt;
  private Instant retryAt;

  /**
   * Where the controller's events go: the operator's record of a cluster's events in local mode, the agent's own
   * (which the operator reads over its API and relays) on Kubernetes.
   */
  public interface Events {
    void emit(String clusterKey, String type, String reason, String message);
  }

  /** Restore-and-check of the newest backup, and the check row written before each base backup. Blocking. */
  public interface Verification {
    /** Writes a check row on the primary; returns how many the check table holds now. */
    long mark();

    /** Restores the newest backup into a scratch instance, checks it, throws it away; the result as status. */
    JsonObject verify(long expectedRows);
  }

  /** The WAL not yet in the repository, measured on the primary: bytes and seconds, or null with no receiver. */
  public interface ArchivingLag {
    Lag measure();

    record Lag(Long bytes, Double seconds, boolean streaming) {
    }
  }

  public BackupController(Vertx vertx, String key, Barman barman, Supplier<PostgresClusterSpec.BackupSpec> spec,
                          ArchivingLag lag, Verification verification, Events events, MeterRegistry registry) {
    this.verification = verification;
    this.vertx = vertx;
    this.key = key;
    this.barman = barman;
    this.spec = spec;
    this.lag = lag;
    this.events = events;
    this.registry = registry;
    Tags tags = ClusterMeters.tags(key);
    // absent until known (NaN fields: nothing measured yet), never NaN
    gauges = new io.pgtide.common.metrics.KnownGauges(registry, tags);
    gauges.add("pgtide_backup_last_success_timestamp_seconds", "when the last base backup completed (Unix time)",
        () -> lastSuccessEpoch);
    gauges.add("pgtide_backup_last_duration_seconds", "how long the last base backup took",
        () -> lastDurationSeconds);
    gauges.add("pgtide_backup_last_size_bytes", "size of the last base backup", () -> lastSizeBytes);
    gauges.add("pgtide_backup_first_recoverable_timestamp_seconds", "the earliest point a restore can reach (end of the oldest base backup, Unix time)",
        () -> firstRecoverableEpoch);
    gauges.add("pgtide_backup_archiving_lag_bytes", "WAL written on the primary and not yet in the backup repository",
        () -> lagBytes);
    gauges.add("pgtide_backup_archiving_lag_seconds", "how far the backup repository's WAL is behind the primary",
        () -> lagSeconds);
    gauges.add("pgtide_backup_schedule_interval_seconds", "time between two scheduled base backups",
        () -> intervalSeconds);
    gauges.add("pgtide_backup_enabled_timestamp_seconds", "when backups were declared or the operator started "
        + "watching them (Unix time)", () -> enabledEpoch);
    gauges.add("pgtide_backup_backups", "base backups in the repository", () -> count);
    gauges.add("pgtide_backup_last_verification_success", "1 when the last restore-and-check of the newest backup passed, 0 when it failed",
        () -> verifiedOk);
    gauges.add("pgtide_backup_last_verification_timestamp_seconds", "when the last verification ran (Unix time)",
        () -> verifiedEpoch);
    failures = Counter.builder("pgtide_backup_failures").description("base backups that failed")
        .tags(tags).register(registry);
  }

  public void start(long tickMs) {
    timer = vertx.setPeriodic(1, tickMs, t -> tick());
  }

  /** {@link #stop(Duration)} with {@link #PASS_BOUND_ON_STOP}. */
  public Future<Void> stop() {
    return stop(PASS_BOUND_ON_STOP);
  }

  /**
   * Stops the passes and the WAL receiver. A running pass may finish within {@code passBound}; past it its Barman
   * call is killed and Barman refuses further calls, so the receiver is not restarted after it is stopped even if
   * the pass never returns (e.g. stuck in a verification). Completes within {@code passBound} + 5 s + the receiver
   * stop's own 60 s bound.
   */
  public Future<Void> stop(Duration passBound) {
    vertx.cancelTimer(timer);
    return vertx.executeBlocking(() -> {
      if (!awaitIdle(passBound)) {
        barman.abortCalls();
        awaitIdle(ABORTED_PASS_GRACE);
      }
      barman.stopReceiver();
      return null;
    }, false);
  }

  /** Waits until no pass runs, and keeps a new one from starting; false when {@code bound} passed first. */
  private boolean awaitIdle(Duration bound) throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!busy.compareAndSet(false, true)) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  /**
   * A base backup now, outside the schedule ({@code pgtide backup now}): taken on the next pass; completes with the
   * backup's status entry, or fails with Barman's reason.
   */
  @Override
  public synchronized Future<JsonObject> backupNow() {
    io.vertx.core.Promise<JsonObject> p = io.vertx.core.Promise.promise();
    requested.add(p);
    return p.future();
  }

  /** A verification now ({@code pgtide backup verify}): on the next pass; completes with its result. */
  @Override
  public synchronized Future<JsonObject> verifyNow() {
    if (verification == null) {
      return Future.failedFuture("this cluster's backups cannot be verified here");
    }
    io.vertx.core.Promise<JsonObject> p = io.vertx.core.Promise.promise();
    verifyRequested.add(p);
    return p.future();
  }

  @Override
  public JsonObject status() {
    return status.get().copy();
  }

  void tick() {
    if (!busy.compareAndSet(false, true)) {
      return;
    }
    vertx.executeBlocking(() -> {
      pass();
      return null;
    }, false).onComplete(ar -> {
      busy.set(false);
      gauges.refresh();
      // one event per distinct failure (and one when it clears), not one every pass while it lasts
      String error = ar.failed() ? String.valueOf(ar.cause().getMessage()) : null;
      if (error != null) {
        ClusterMeters.controllerErrors(registry, ClusterMeters.tags(key), "backup").increment();
      }
      if (!java.util.Objects.equals(error, maintenanceError)) {
        if (error != null) {
          events.emit(key, "Warning", "BackupMaintenanceFailed", error);
        } else {
          events.emit(key, "Normal", "BackupMaintenanceRecovered", "Barman's maintenance pass works again");
        }
        maintenanceError = error;
      }
    });
  }

  private void pass() {
    BackupPolicy policy;
    try {
      policy = BackupPolicy.from(spec.get());
    } catch (IllegalArgumentException e) {
      publish(null, List.of(), null, e.getMessage());
      synchronized (this) {
        requested.forEach(p -> p.tryFail(e.getMessage()));
        requested.clear();
      }
      return;
    }
    // each Barman call starts a Python process (~0.3 s of CPU): its maintenance pass and catalogue run when the WAL
    // receiver is not streaming (it restarts it, e.g. after a failover) and otherwise once a minute
    ArchivingLag.Lag lagNow = lag.measure();
    List<Barman.BackupInfo> backups = maintainedCatalogue(lagNow.streaming());
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    boolean due;
    List<io.vertx.core.Promise<JsonObject>> waiting;
    synchronized (this) {
      if (nextBackupAt == null) {
        nextBackupAt = policy.schedule().next(now).toInstant();
      }
      waiting = List.copyOf(requested);
      requested.clear();
      due = backupDue(now.toInstant(), nextBackupAt, retryAt, !waiting.isEmpty(),
          backups.stream().anyMatch(Barman.BackupInfo::done));
    }
    if (due) {
      if (backups.stream().noneMatch(Barman.BackupInfo::done)) {
        // Barman refuses a first backup until the WAL archive holds a segment: close the current one
        barman.switchWal();
      }
      String failure = takeBackup();
      synchronized (this) {
        waiting.forEach(p -> {
          if (failure == null) {
            p.tryComplete(lastBackup.copy());
          } else {
            p.tryFail(failure);
          }
        });
      }
      synchronized (this) {
        nextBackupAt = policy.schedule().next(ZonedDateTime.now(ZoneOffset.UTC)).toInstant();
        // a failed backup is retried with back-off (30 s doubling to 10 min), not on every pass
        failedInARow = failure == null ? 0 : failedInARow + 1;
        retryAt = failure == null ? null : Instant.now().plus(retryAfter(failedInARow));
      }
      backups = barman.backups();
      catalogue = backups;
    }
    intervalSeconds = policy.schedule().typicalIntervalSeconds(now);
    publish(policy, backups, lagNow, null);
    if (verification != null) {
      verifyWhenDue(policy, backups, now);
    }
  }

  /** Barman's maintenance pass and the catalogue, when due; otherwise the catalogue it last read. */
  private List<Barman.BackupInfo> maintainedCatalogue(boolean streaming) {
    long nowMs = System.currentTimeMillis();
    if (catalogue != null && streaming && nowMs - maintainedAt < MAINTENANCE_EVERY_MS) {
      return catalogue;
    }
    long checkedFrom = maintainedAt == 0 ? nowMs : maintainedAt;
    barman.cron();
    if (!streaming && barman.receiverOnAbandonedTimeline(checkedFrom - 1_000)) {
      // the receiver would be refused forever: restart it where the new primary is, and back up at once so the
      // stretch it could not stream is covered by a base backup
      barman.resetReceiver();
      barman.cron();
      synchronized (this) {
        retryAt = null;
        nextBackupAt = Instant.now();
      }
      events.emit(key, "Warning", "BackupReceiverReset", "Barman's WAL receiver was ahead of the new primary (WAL "
          + "the old primary had was lost in the failover); restarted at the new primary's current WAL and taking a "
          + "base backup now");
    }
    catalogue = barman.backups();
    maintainedAt = nowMs;
    return catalogue;
  }

  private void verifyWhenDue(BackupPolicy policy, List<Barman.BackupInfo> backups, ZonedDateTime now) {
    List<io.vertx.core.Promise<JsonObject>> waiting;
    boolean due;
    synchronized (this) {
      if (nextVerifyAt == null && policy.verifySchedule() != null) {
        nextVerifyAt = policy.verifySchedule().next(now).toInstant();
      }
      waiting = List.copyOf(verifyRequested);
      verifyRequested.clear();
      due = !waiting.isEmpty() || (nextVerifyAt != null && !now.toInstant().isBefore(nextVerifyAt));
    }
    if (!due) {
      return;
    }
    JsonObject result;
    if (backups.stream().noneMatch(Barman.BackupInfo::done)) {
      result = new JsonObject().put("ok", false).put("reason", "no completed base backup to verify");
    } else {
      try {
        result = verification.verify(expectedRows);
      } catch (RuntimeException e) {
        result = new JsonObject().put("ok", false).put("reason", String.valueOf(e.getMessage()));
      }
    }
    result.put("time", Instant.now().toString());
    boolean ok = result.getBoolean("ok", false);
    verifiedOk = ok ? 1 : 0;
    verifiedEpoch = System.currentTimeMillis() / 1000.0;
    events.emit(key, ok ? "Normal" : "Warning", ok ? "BackupVerified" : "BackupVerificationFailed",
        result.getString("reason"));
    synchronized (this) {
      lastVerification = result;
      nextVerifyAt = policy.verifySchedule() == null ? null
          : policy.verifySchedule().next(ZonedDateTime.now(ZoneOffset.UTC)).toInstant();
      status.set(status.get().copy().put("lastVerification", result.copy())
          .put("nextVerificationAt", nextVerifyAt == null ? null : nextVerifyAt.toString()));
    }
    JsonObject done = result;
    waiting.forEach(p -> p.tryComplete(done.copy()));
  }

  /**
   * Whether a base backup is due: asked for ({@code backup now}) always; otherwise not while a failed one waits for
   * its retry, and then when the repository has none yet or the schedule fired. Pure.
   */
  static boolean backupDue(Instant now, Instant nextScheduled, Instant retryAt, boolean requested,
                           boolean haveOne) {
    if (requested) {
      return true;
    }
    if (retryAt != null && now.isBefore(retryAt)) {
      return false;
    }
    return !haveOne || !now.isBefore(nextScheduled);
  }

  /** After the n-th failure in a row: 30 s, doubling, at most 10 min. Pure. */
  static java.time.Duration retryAfter(int failuresInARow) {
    return java.time.Duration.ofSeconds(Math.min(600, 30L << Math.min(5, Math.max(0, failuresInARow - 1))));
  }

  /** Null on success, else the reason. */
  private String takeBackup() {
    long started = System.currentTimeMillis();
    long marked = -1;
    if (verification != null) {
      try {
        marked = verification.mark(); // a row the verification of this backup must find
      } catch (RuntimeException e) {
        events.emit(key, "Warning", "BackupCheckRowFailed", "the check row for verification was not written: "
            + e.getMessage());
      }
    }
    try {
      String id = barman.backup();
      if (marked >= 0) {
        synchronized (this) {
          expectedRows = marked;
        }
      }
      double seconds = (System.currentTimeMillis() - started) / 1000.0;
      Barman.BackupInfo info = barman.backups().stream().filter(b -> b.id().equals(id)).findFirst().orElse(null);
      long size = info == null ? 0 : info.sizeBytes();
      synchronized (this) {
        lastBackup = new JsonObject().put("id", id).put("time", Instant.ofEpochMilli(System.currentTimeMillis())
            .toString()).put("sizeBytes", size).put("durationSeconds", seconds);
      }
      lastSuccessEpoch = System.currentTimeMillis() / 1000.0;
      lastDurationSeconds = seconds;
      lastSizeBytes = size;
      events.emit(key, "Normal", "BackupSucceeded", "base backup " + id + " (" + size / (1024 * 1024) + " MiB) in "
          + String.format(java.util.Locale.ROOT, "%.1f", seconds) + " s");
      return null;
    } catch (RuntimeException e) {
      failures.increment();
      synchronized (this) {
        lastFailure = new JsonObject().put("time", Instant.now().toString()).put("reason", e.getMessage());
      }
      events.emit(key, "Warning", "BackupFailed", e.getMessage());
      return e.getMessage();
    }
  }

  private synchronized void publish(BackupPolicy policy, List<Barman.BackupInfo> backups, ArchivingLag.Lag lagNow,
                                    String invalid) {
    List<Barman.BackupInfo> done = backups.stream().filter(Barman.BackupInfo::done).toList();
    Instant first = done.isEmpty() ? null : done.get(0).endedAt();
    count = done.size();
    firstRecoverableEpoch = first == null ? Double.NaN : first.getEpochSecond();
    JsonObject s = new JsonObject().put("repository", barman.repository().toString());
    if (invalid != null) {
      s.put("invalid", invalid);
    }
    if (policy != null) {
      s.put("schedule", policy.schedule().toString()).put("retention", policy.barmanRetention()
          + (policy.minimumRedundancy() > 0 ? ", at least " + policy.minimumRedundancy() + " backups" : ""));
    }
    if (nextBackupAt != null) {
      s.put("nextBackupAt", nextBackupAt.toString());
    }
    if (lastBackup == null && !done.isEmpty()) {
      // after a restart of the operator: the catalogue's newest (its duration was not recorded)
      Barman.BackupInfo newest = done.get(done.size() - 1);
      lastBackup = new JsonObject().put("id", newest.id()).put("time", String.valueOf(newest.endedAt()))
          .put("sizeBytes", newest.sizeBytes());
      lastSuccessEpoch = newest.endedAt() == null ? Double.NaN : newest.endedAt().getEpochSecond();
      lastSizeBytes = newest.sizeBytes();
    }
    s.put("lastBackup", lastBackup).put("lastFailure", lastFailure);
    if (retryAt != null) {
      s.put("retryAt", retryAt.toString());
    }
    s.put("lastVerification", lastVerification == null ? null : lastVerification.copy());
    if (nextVerifyAt != null) {
      s.put("nextVerificationAt", nextVerifyAt.toString());
    }
    s.put("firstRecoverablePoint", first == null ? null : first.toString());
    barman.lastArchivedWalAt().ifPresent(t -> s.put("lastArchivedWalAt", t.toString()));
    if (lagNow != null) {
      lagBytes = lagNow.bytes() == null ? Double.NaN : lagNow.bytes();
      lagSeconds = lagNow.seconds() == null ? Double.NaN : lagNow.seconds();
      s.put("archiving", new JsonObject().put("streaming", lagNow.streaming()).put("lagBytes", lagNow.bytes())
          .put("lagSeconds", lagNow.seconds()));
    }
    JsonArray list = new JsonArray();
    done.forEach(b -> list.add(new JsonObject().put("id", b.id()).put("endedAt", String.valueOf(b.endedAt()))
        .put("sizeBytes", b.sizeBytes())));
    s.put("backups", list);
    status.set(s);
  }
}
