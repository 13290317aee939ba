package io.pgtide.operator.patroni;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Keeps Patroni's dynamic configuration on what the spec declares, after bootstrap too: when the declared config
 * changes (and once after every start, since PATCH is idempotent) it is sent to the primary's Patroni through its
 * sidecar. Patroni reloads PostgreSQL for parameters that allow it and flags the others as pending restart.
 */
public final class PatroniConfigController {
  private final Vertx vertx;
  private final ClusterState state;
  private final CommandClient commands;
  private final ClusterEvents events;
  private final String key;
  private final Supplier<PostgresClusterSpec> spec;
  private final Set<String> declared = new HashSet<>();
  private final Set<String> declaredStandbySlots = new HashSet<>();
  private Supplier<java.util.List<String>> standbySlots = java.util.List::of;
  private JsonObject applied;
  private long timer = -1;

  public PatroniConfigController(Vertx vertx, ClusterState state, CommandClient commands, ClusterEvents events,
                                 String key, Supplier<PostgresClusterSpec> spec) {
    this.vertx = vertx;
    this.state = state;
    this.commands = commands;
    this.events = events;
    this.key = key;
    this.spec = spec;
  }

  /** The slots of the standby clusters following this one (Kubernetes: from the informers' PostgresClusters). */
  public PatroniConfigController withStandbySlots(Supplier<java.util.List<String>> slots) {
    this.standbySlots = slots;
    return this;
  }

  public void start(long intervalMs) {
    timer = vertx.setPeriodic(1_000, intervalMs, t -> apply());
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  /** Sends the declared configuration when it differs from what was last applied; succeeds with it (or null). */
  public synchronized Future<JsonObject> apply() {
    PostgresClusterSpec s = spec.get();
    java.util.List<String> slots = standbySlots.get();
    JsonObject desired = PatroniDynamicConfig.of(s, Set.of(), slots, Set.of());
    if (desired.equals(applied)) {
      return Future.succeededFuture(null);
    }
    String problem = io.pgtide.operator.k8s.model.ClusterValidation.problem(s);
    if (problem != null) {
      events.emit(key, "Warning", "PatroniConfigRefused", problem);
      return Future.failedFuture(problem);
    }
    Optional<MemberView> primary = state.view(key).primary();
    if (primary.isEmpty()) {
      return Future.failedFuture("no live primary in " + key + " to configure Patroni through");
    }
    Set<String> removed = new HashSet<>(declared);
    removed.removeAll(s.parameters.keySet());
    Set<String> goneSlots = new HashSet<>(declaredStandbySlots);
    slots.forEach(goneSlots::remove);
    JsonObject changes = PatroniDynamicConfig.of(s, removed, slots, goneSlots);
    return commands.send(primary.get().id(), new CommandPayload.PatroniConfig(changes), 30_000)
        .compose(r -> r.ok() ? Future.succeededFuture(r.detail())
            : Future.failedFuture("Patroni refused the configuration: " + r.errorCode() + ": " + r.errorMessage()))
        .map(detail -> {
          synchronized (this) {
            applied = desired;
            declared.clear();
            declared.addAll(s.parameters.keySet());
            declaredStandbySlots.clear();
            declaredStandbySlots.addAll(slots);
            Set<String> stale = PatroniDynamicConfig.staleStandbySlots(detail.getString("patroni", ""), slots);
            if (!stale.isEmpty()) {
              declaredStandbySlots.addAll(stale); // removed (null) at the next apply
              applied = null;
            }
          }
          events.emit(key, "Normal", "PatroniConfigApplied", "ttl " + s.patroni.ttl + ", loop_wait "
              + s.patroni.loopWait + ", retry_timeout " + s.patroni.retryTimeout + ", synchronous_mode "
              + s.patroni.synchronousMode + ", parameters " + s.parameters.keySet()
              + (removed.isEmpty() ? "" : ", removed " + removed)
              + (slots.isEmpty() && goneSlots.isEmpty() ? "" : ", standby slots " + slots));
          return changes;
        })
        .onFailure(e -> events.emit(key, "Warning", "PatroniConfigFailed", e.getMessage()));
  }

  /**
   * Promotes a standby cluster: {@code standby_cluster: null} in a PATCH of Patroni's dynamic configuration through
   * the leader's sidecar; Patroni's standby leader then promotes itself and its replicas follow it. Idempotent.
   */
  public Future<JsonObject> promote() {
    Optional<MemberView> leader = state.view(key).primary();
    if (leader.isEmpty()) {
      return Future.failedFuture("no live standby leader in " + key + " to promote through");
    }
    return commands.send(leader.get().id(), new CommandPayload.PatroniConfig(PatroniDynamicConfig.promotion()),
            30_000)
        .compose(r -> r.ok() ? Future.succeededFuture(r.detail())
            : Future.failedFuture("Patroni refused to drop standby_cluster: " + r.errorCode() + ": "
                + r.errorMessage()));
  }
}
