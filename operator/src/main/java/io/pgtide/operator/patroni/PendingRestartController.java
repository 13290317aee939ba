package io.pgtide.operator.patroni;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.state.ClusterState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Carries out {@link PendingRestart} one step per call, so parameters that need a restart (changed through
 * {@link PatroniConfigController}) reach every member: restarts go through each member's Patroni
 * ({@code POST /restart}, only when pending), the switchover through the {@link FailoverCoordinator}.
 */
public final class PendingRestartController {
  private static final long RESTART_TIMEOUT_MS = 180_000;
  private final Vertx vertx;
  private final ClusterState state;
  private final CommandClient commands;
  private final FailoverCoordinator failover;
  private final ClusterEvents events;
  private final String key;
  private boolean busy;
  private long timer = -1;
  private volatile PendingRestart.Step last = new PendingRestart.Step(PendingRestart.Action.NONE, null, "not run yet");

  public PendingRestartController(Vertx vertx, ClusterState state, CommandClient commands, FailoverCoordinator failover,
                                  ClusterEvents events, String key) {
    this.vertx = vertx;
    this.state = state;
    this.commands = commands;
    this.failover = failover;
    this.events = events;
    this.key = key;
  }

  /** Steps on its own every {@code intervalMs} (local mode; on Kubernetes the rolling update drives {@link #step}). */
  public void start(long intervalMs) {
    timer = vertx.setPeriodic(intervalMs, t -> step());
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  public PendingRestart.Step last() {
    return last;
  }

  public synchronized Future<PendingRestart.Step> step() {
    if (busy) {
      return Future.succeededFuture(new PendingRestart.Step(PendingRestart.Action.WAIT, null, "a step is running"));
    }
    PendingRestart.Step step = PendingRestart.next(state.view(key));
    last = step;
    switch (step.action()) {
      case RESTART -> {
        busy = true;
        events.emit(key, "Normal", "RestartStarted", step.reason() + ": restarting it through Patroni");
        return restart(step).eventually(this::idle);
      }
      case SWITCHOVER -> {
        busy = true;
        events.emit(key, "Normal", "RestartSwitchover", step.reason());
        return failover.switchover(key, null).map(step)
            .onFailure(e -> events.emit(key, "Warning", "RestartBlocked", "switchover away from " + step.target()
                + " failed, its restart waits: " + e.getMessage()))
            .eventually(this::idle);
      }
      default -> {
        return Future.succeededFuture(step);
      }
    }
  }

  private Future<PendingRestart.Step> restart(PendingRestart.Step step) {
    var member = state.view(key).members().get(step.target());
    if (member == null) {
      return Future.failedFuture(step.target() + " left the cluster");
    }
    return commands.send(member.id(), new CommandPayload.Restart(), RESTART_TIMEOUT_MS)
        .compose(r -> r.ok() ? Future.succeededFuture(step)
            : Future.failedFuture(r.errorCode() + ": " + r.errorMessage()))
        .onSuccess(s -> events.emit(key, "Normal", "Restarted", step.target() + " restarted with its pending parameters"))
        .onFailure(e -> events.emit(key, "Warning", "RestartFailed", step.target() + ": " + e.getMessage()));
  }

  private synchronized Future<Void> idle() {
    busy = false;
    return Future.succeededFuture();
  }
}
