package io.pgtide.operator;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.autoscale.AutoscalerController;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.infra.Infrastructure;
import io.pgtide.operator.patroni.PatroniConfigController;
import io.pgtide.operator.patroni.PendingRestartController;
import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.operator.users.DesiredRoles;
import io.pgtide.operator.users.ScramVerifier;
import io.pgtide.operator.users.UserSyncController;
import io.vertx.core.Future;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controllers of one cluster, wired once for both modes (Kubernetes' {@code ClusterControllers}, local mode's
 * {@code LocalRunner}): failover policy, user sync (and after every failover), Patroni's configuration, pending
 * restarts, the autoscaler and the Pushgateway. What differs by mode comes in as values: where passwords come from,
 * the infrastructure, and whether members may be restarted now ({@link Wiring#membersSettled}: on Kubernetes no pod
 * rolling update is under way; locally nothing else restarts members). Pending restarts are considered every
 * {@value #RESTART_CHECK_MS} ms in both modes, once that says yes, so two restarts of members never overlap.
 */
public final class ClusterControllerSet {
  public static final long RESTART_CHECK_MS = 5_000;
  public static final long PATRONI_CONFIG_MS = 30_000;
  private static final Logger LOG = LoggerFactory.getLogger(ClusterControllerSet.class);
  private final OperatorCore core;
  private final String key;
  private final UserSyncController users;
  private final PatroniConfigController patroniConfig;
  private final PendingRestartController restarts;
  private final AutoscalerController autoscaler;
  private final long restartTimer;
  private String pushUrl;
  private String pushTarget;

  /**
   * What one cluster's controllers need from the mode they run in.
   *
   * @param spec           the cluster's spec as it is now
   * @param usersSpec      the spec whose users are synced (Kubernetes adds the PostgresUsers naming the cluster)
   * @param membersSettled the mode's step before each pending-restart check, answering whether members may be
   *                       restarted now (Kubernetes writes the status and steps the pod rolling update here)
   * @param standbySlots   the replication slots of the standby clusters following this one (Kubernetes only)
   * @param readOnly       why nothing may be written on the cluster's leader now (a standby cluster: its roles come
   *                       from its source), or null
   */
  public record Wiring(String key, Supplier<PostgresClusterSpec> spec, Supplier<PostgresClusterSpec> usersSpec,
                       DesiredRoles.PasswordSource passwords, ScramVerifier scram, Infrastructure infra,
                       long userSyncIntervalMs, Supplier<Future<Boolean>> membersSettled,
                       Supplier<java.util.List<String>> standbySlots, Supplier<String> readOnly) {
    /** A cluster no standby follows and that is never read-only (local mode). */
    public Wiring(String key, Supplier<PostgresClusterSpec> spec, Supplier<PostgresClusterSpec> usersSpec,
                  DesiredRoles.PasswordSource passwords, ScramVerifier scram, Infrastructure infra,
                  long userSyncIntervalMs, Supplier<Future<Boolean>> membersSettled) {
      this(key, spec, usersSpec, passwords, scram, infra, userSyncIntervalMs, membersSettled, java.util.List::of,
          () -> null);
    }
  }

  private ClusterControllerSet(OperatorCore core, Wiring w) {
    this.core = core;
    this.key = w.key();
    users = new UserSyncController(core.vertx(), core.state(), core.commands(), core.events(), key, w.usersSpec(),
        w.passwords(), w.scram(), core.metrics()).skipWhile(w.readOnly());
    patroniConfig = new PatroniConfigController(core.vertx(), core.state(), core.commands(), core.events(), key,
        w.spec()).withStandbySlots(w.standbySlots());
    restarts = new PendingRestartController(core.vertx(), core.state(), core.commands(), core.failover(),
        core.events(), key);
    autoscaler = new AutoscalerController(core.vertx(), key, core.state(), w.infra(), core.failover(), core.events(),
        core.metrics(), w.spec());
    core.http().userSync(key, users);
    core.http().autoscaler(key, autoscaler);
    core.failover().afterFailover(key, () -> users.sync(false));
    users.start(w.userSyncIntervalMs());
    patroniConfig.start(PATRONI_CONFIG_MS);
    restartTimer = core.vertx().setPeriodic(RESTART_CHECK_MS, t -> w.membersSettled().get()
        .compose(settled -> settled ? restarts.step().<Void>mapEmpty() : Future.<Void>succeededFuture())
        .onFailure(e -> ClusterLog.of(LOG, key).warn("pending restart step failed: {}", e.toString())));
  }

  /** Starts the controllers of the cluster {@code w} names and follows its spec as it is now. */
  public static ClusterControllerSet start(OperatorCore core, Wiring w) {
    ClusterControllerSet set = new ClusterControllerSet(core, w);
    set.follow(w.spec().get());
    return set;
  }

  /**
   * Follows a changed spec (every reconcile on Kubernetes, {@code local apply} locally): failover policy, the
   * autoscaler on or off, the Pushgateway target (the group at a target left is deleted).
   */
  public synchronized void follow(PostgresClusterSpec spec) {
    core.failover().policy(key, FailoverCoordinator.ClusterPolicy.of(spec));
    if (spec.autoscaling.enabled && !autoscaler.running()) {
      autoscaler.start();
    } else if (!spec.autoscaling.enabled && autoscaler.running()) {
      autoscaler.stop();
    }
    var monitoring = spec.monitoring;
    String url = monitoring == null || monitoring.pushgateway == null || monitoring.pushgateway.isBlank() ? null
        : monitoring.pushgateway;
    String target = url == null ? null : url + "@" + monitoring.pushIntervalSeconds;
    if (Objects.equals(target, pushTarget)) {
      return;
    }
    if (pushUrl != null) {
      String left = pushUrl;
      core.pusher().delete(key, left).onFailure(e -> ClusterLog.of(LOG, key)
          .warn("could not delete the Pushgateway group at {}: {}", left, e.toString()));
    }
    if (url != null) {
      core.pusher().start(key, url, monitoring.pushIntervalSeconds * 1000L);
      ClusterLog.of(LOG, key).info("pushing metrics to {} every {} s", url, monitoring.pushIntervalSeconds);
    }
    pushUrl = url;
    pushTarget = target;
  }

  /** Stops every controller of the cluster and deletes its Pushgateway group. */
  public synchronized void stop() {
    core.vertx().cancelTimer(restartTimer);
    users.stop();
    patroniConfig.stop();
    autoscaler.stop();
    if (pushUrl != null) {
      core.pusher().delete(key, pushUrl);
    }
  }

  public UserSyncController users() {
    return users;
  }

  public PatroniConfigController patroniConfig() {
    return patroniConfig;
  }

  public PendingRestartController restarts() {
    return restarts;
  }

  public AutoscalerController autoscaler() {
    return autoscaler;
  }
}
