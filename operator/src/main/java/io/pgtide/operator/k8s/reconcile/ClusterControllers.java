package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.api.BackupAgentClient;
import io.pgtide.operator.k8s.api.Blocking;
import io.pgtide.operator.k8s.model.ClusterRequest;
import io.pgtide.operator.k8s.model.ClusterStatusModel;
import io.pgtide.operator.k8s.model.ClusterUsers;
import io.pgtide.operator.k8s.api.KubernetesInfrastructure;
import io.pgtide.operator.k8s.api.LeaseGuard;
import io.pgtide.operator.k8s.model.MemberSelector;
import io.pgtide.operator.k8s.model.RollingUpdate;
import io.pgtide.operator.k8s.model.StandbyModel;
import io.pgtide.operator.k8s.api.SecretPasswords;
import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.common.cluster.ClusterKey;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.common.crd.PostgresUser;
import io.pgtide.common.crd.PostgresUserStatus;
import io.pgtide.operator.OperatorCore;
import io.pgtide.operator.autoscale.AutoscalerController;
import io.pgtide.operator.users.UserSyncController;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-cluster controllers on Kubernetes, the same ones local mode runs: user sync (inline users plus
 * PostgresUser resources, passwords from Secrets), the autoscaler (when enabled) and a status writer that puts
 * members, users, the autoscaler's decision and the last failover into the cluster's status, and each
 * PostgresUser's outcome into its own status. Started by the first reconcile, stopped when the cluster goes.
 */
public final class ClusterControllers {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterControllers.class);
  private final OperatorCore core;
  private final KubernetesClient client;
  private final long userSyncIntervalMs;
  private final io.pgtide.operator.users.ScramVerifier scram;
  private final long secretsMaxAgeMs;
  private final Map<String, Controllers> byKey = new ConcurrentHashMap<>();
  private final Map<String, PostgresUser> postgresUsers = new ConcurrentHashMap<>();
  private final ConfigMapEventHistory history;

  private static final class Controllers {
    volatile PostgresCluster latest;
    io.pgtide.operator.ClusterControllerSet set;           // the controllers both modes run
    RollingUpdater rolling;
    MajorUpgrader upgrader;
    volatile RollingUpdate.Step lastRollingStep;
    volatile String handlingRequest;                       // the id being acted on
    volatile PostgresClusterStatus.Request lastRequest;    // its answer, for status.lastRequest
    BackupAgentClient backups;                             // while spec.backup is declared
    io.pgtide.operator.k8s.api.PoolerClient pooler;        // while spec.pooler is declared
    volatile PostgresClusterStatus.Standby standby;        // status.standby as last written (a status write
                                                           // does not reconcile, so latest may hold an older one)
  }

  /** The standby clusters following {@code namespace/name} (the informers' view); none until told. */
  private java.util.function.BiFunction<String, String, List<PostgresCluster>> standbys = (ns, n) -> List.of();
  /** Asks for a reconcile of a cluster now (a major upgrade that succeeded: its StatefulSet takes the new major). */
  private java.util.function.Consumer<PostgresCluster> reconcileNow = cr -> { };

  public ClusterControllers reconcilingWith(java.util.function.Consumer<PostgresCluster> reconcile) {
    this.reconcileNow = reconcile;
    return this;
  }

  private List<String> standbyNames(PostgresCluster cr) {
    return standbys.apply(cr.getMetadata().getNamespace(), cr.getMetadata().getName()).stream()
        .map(ClusterControllers::key).toList();
  }

  public ClusterControllers standbysFrom(java.util.function.BiFunction<String, String, List<PostgresCluster>> lookup) {
    this.standbys = lookup;
    return this;
  }

  /**
   * Closes the current WAL segment of cluster {@code key}'s primary through its sidecar ({@code pg_switch_wal()}):
   * what a restore to the latest point needs first, so the backups' receiver completes the segment holding the last
   * writes. The closed segment's file name; failed when no primary reports or the sidecar refused.
   */
  public Future<String> switchWal(String key) {
    var primary = core.state().view(key).primary();
    if (primary.isEmpty()) {
      return Future.failedFuture("no primary of " + key + " reports");
    }
    return core.commands().send(primary.get().id(), new io.pgtide.common.contract.CommandPayload.SwitchWal(), 15_000)
        .compose(r -> r.ok() ? Future.succeededFuture(r.detail().getString("segment"))
            : Future.failedFuture(primary.get().id().member() + ": " + r.errorMessage()));
  }

  /**
   * @param secretsMaxAgeMs how old the listed Secrets may be when a sync reads a password (a changed Secret
   *     rotates the password at the first sync after this)
   */
  private java.util.function.BooleanSupplier leading = () -> true;
  private io.pgtide.operator.k8s.api.StatusWriter statusWriter;

  /**
   * Writes status only while this holds: a replica that resumes after a freeze or a partition has timers due at
   * once, and its view is minutes old ({@link LeaseGuard}).
   */
  public ClusterControllers leadingWhile(java.util.function.BooleanSupplier leading) {
    this.leading = leading;
    return this;
  }

  /** The operator's CA: the only one a backup agent's certificate is trusted from (null: its Secret's ca.crt). */
  private volatile String backupAgentCa;

  /** The operator's one writer of status, shared with the reconciler and the incident store. */
  public ClusterControllers writingStatusWith(io.pgtide.operator.k8s.api.StatusWriter writer) {
    this.statusWriter = writer;
    return this;
  }

  public ClusterControllers backupAgentCa(String caPem) {
    this.backupAgentCa = caPem;
    return this;
  }

  public ClusterControllers(OperatorCore core, KubernetesClient client, long userSyncIntervalMs,
                            long secretsMaxAgeMs, io.pgtide.operator.users.ScramVerifier scram) {
    this.scram = scram;
    this.core = core;
    this.client = client;
    this.statusWriter = new io.pgtide.operator.k8s.api.StatusWriter(client, () -> leading.getAsBoolean());
    this.userSyncIntervalMs = userSyncIntervalMs;
    this.secretsMaxAgeMs = secretsMaxAgeMs;
    this.history = new ConfigMapEventHistory(core.vertx(), client, core.events(), this::cluster).start(2_000);
  }

  public static String key(PostgresCluster cr) {
    return ClusterKey.text(cr.getMetadata().getNamespace(), cr.getMetadata().getName());
  }

  /** The cluster resource as last reconciled, null when no controllers run for it. */
  public PostgresCluster cluster(String key) {
    Controllers c = byKey.get(key);
    return c == null ? null : c.latest;
  }

  public UserSyncController users(String key) {
    return byKey.get(key).set.users();
  }

  public io.pgtide.operator.patroni.PatroniConfigController patroniConfig(String key) {
    return byKey.get(key).set.patroniConfig();
  }

  public AutoscalerController autoscaler(String key) {
    return byKey.get(key).set.autoscaler();
  }

  /** Starts the controllers of a cluster on its first reconcile; later ones only refresh the spec they read. */
  public synchronized void ensure(PostgresCluster cr) {
    String key = key(cr);
    PostgresClusterSpec spec = cr.getSpec();
    Controllers c = byKey.get(key);
    if (c == null) {
      c = new Controllers();
      c.latest = cr;
      c.standby = cr.getStatus() == null ? null : cr.getStatus().standby;
      history.restore(cr);
      Controllers self = c;
      c.rolling = new RollingUpdater(core.vertx(), client, core.failover(), core.events());
      c.upgrader = new MajorUpgrader(core.vertx(), client, core.failover(), core.state(), core.events(), statusWriter,
          cr.getStatus() == null ? null : cr.getStatus().upgrade, () -> reconcileNow.accept(self.latest));
      // one 5 s loop: the status (showing the step taken the loop before), the rolling update, then, only once no
      // pod rolling update is under way (both restart members), the pending restart
      c.set = io.pgtide.operator.ClusterControllerSet.start(core, new io.pgtide.operator.ClusterControllerSet.Wiring(
          key, () -> self.latest.getSpec(), () -> usersSpec(self.latest),
          new SecretPasswords(client, cr, secretsMaxAgeMs), scram,
          new KubernetesInfrastructure(core.vertx(), client).leadingWhile(() -> leading.getAsBoolean())
              .writingStatusWith(statusWriter),
          userSyncIntervalMs, () -> writeStatus(key)
              // a promotion that cannot go on now (no leader yet) is retried in 5 s; the rest of the loop runs
              .compose(v -> standbyStep(key, self, false).<Void>mapEmpty().recover(e -> Future.succeededFuture()))
              // a major upgrade under way stops or restarts members itself: nothing else moves them meanwhile
              .compose(v -> self.upgrader.step(self.latest, self.lastRollingStep == null ? null
                  : self.lastRollingStep.action() == RollingUpdate.Action.DONE, standbyNames(self.latest)))
              .compose(upgrading -> upgrading ? Future.succeededFuture(false)
                  : self.rolling.step(self.latest).map(step -> {
                    self.lastRollingStep = step;
                    return step.action() == RollingUpdate.Action.DONE;
                  })),
          () -> StandbyModel.slots(standbys.apply(cr.getMetadata().getNamespace(), cr.getMetadata().getName())),
          () -> following(self) ? "a standby of " + StandbyModel.origin(self.latest).key() + " is read-only; its "
              + "roles and passwords are its source's" : null));
      byKey.put(key, c);
      ClusterLog.of(LOG, key).info("controllers started");
    }
    c.latest = cr;
    c.set.follow(spec);
    backupsOf(key, c, cr);
    poolerOf(key, c, cr);
  }

  /** How often the pooler's role, lookup functions and pool statistics are seen to. */
  static final long POOLER_POLL_MS = 15_000;

  /** spec.pooler: its role and functions on the primary and its pool statistics; nothing without it. */
  private void poolerOf(String key, Controllers c, PostgresCluster cr) {
    if (cr.getSpec().pooler != null && c.pooler == null) {
      c.pooler = new io.pgtide.operator.k8s.api.PoolerClient(core.vertx(), client, core.metrics().pooler(),
          () -> c.latest).start(POOLER_POLL_MS);
    } else if (cr.getSpec().pooler == null && c.pooler != null) {
      c.pooler.stop();
      c.pooler = null;
    }
  }

  /** spec.backup: the agent's status and actions through the control API and status.backup; none without it. */
  private void backupsOf(String key, Controllers c, PostgresCluster cr) {
    if (cr.getSpec().backup != null && c.backups == null) {
      c.backups = new BackupAgentClient(core.vertx(), client, core.events(), cr.getMetadata().getNamespace(),
          cr.getMetadata().getName(), backupAgentCa).start(10_000);
      core.http().backups(key, c.backups);
    } else if (cr.getSpec().backup == null && c.backups != null) {
      c.backups.stop();
      c.backups = null;
      core.http().backups(key, null);
    }
  }

  public synchronized void remove(String key) {
    Controllers c = byKey.remove(key);
    if (c != null) {
      c.set.stop();
      if (c.backups != null) {
        c.backups.stop();
        core.http().backups(key, null);
      }
      if (c.pooler != null) {
        c.pooler.stop();
      }
      core.state().forgetCluster(key);
      core.customQueryFailures().forget(key);
      core.failover().forget(key);
      core.metrics().standbyLag(key, null);
      history.forget(key);
      ClusterLog.of(LOG, key).info("controllers stopped");
    }
  }

  /** A PostgresUser changed: its cluster syncs it at the next interval; one naming no cluster fails at once. */
  public Future<Void> userChanged(PostgresUser u) {
    postgresUsers.put(u.getMetadata().getNamespace() + "/" + u.getMetadata().getName(), u);
    String clusterKey = u.getMetadata().getNamespace() + "/" + u.getSpec().cluster; // null: names no cluster
    if (byKey.containsKey(clusterKey)) {
      return Future.succeededFuture();
    }
    return Blocking.call(core.vertx(), () -> client.resources(PostgresCluster.class)
            .inNamespace(u.getMetadata().getNamespace()).withName(u.getSpec().cluster).get() == null)
        .compose(unknown -> !unknown || Objects.equals(u.getStatus(), ClusterUsers.unknownCluster(u))
            ? Future.<Void>succeededFuture()
            : statusWriter.user(u.getMetadata().getNamespace(), u.getMetadata().getName(),
                ignored -> ClusterUsers.unknownCluster(u)).mapEmpty());
  }

  public void userDeleted(PostgresUser u) {
    postgresUsers.remove(u.getMetadata().getNamespace() + "/" + u.getMetadata().getName());
  }

  private List<PostgresUser> postgresUsers(String namespace) {
    return postgresUsers.values().stream().filter(u -> namespace.equals(u.getMetadata().getNamespace())).toList();
  }

  private PostgresClusterSpec usersSpec(PostgresCluster cr) {
    PostgresClusterSpec copy = Serialization.clone(cr.getSpec());
    copy.users = ClusterUsers.merge(cr.getMetadata().getName(), cr.getSpec(),
        postgresUsers(cr.getMetadata().getNamespace())).users();
    return copy;
  }

  /**
   * Acts on the cluster's {@link ClusterRequest} annotation once per id: a switchover (through the coordinator, like
   * the control API's) or a user sync. The answer goes to {@code status.lastRequest}; an id already answered there
   * (also by an earlier operator) or being acted on is left alone.
   */
  public void request(PostgresCluster cr) {
    String key = key(cr);
    Controllers c = byKey.get(key);
    Map<String, String> annotations = cr.getMetadata().getAnnotations();
    String raw = annotations == null ? null : annotations.get(ClusterRequest.ANNOTATION);
    if (c == null || raw == null) {
      return;
    }
    ClusterRequest request;
    try {
      request = ClusterRequest.parse(raw);
    } catch (ClusterRequest.Invalid e) {
      if (e.id == null || !answered(c, cr, e.id)) {
        answer(key, c, e.id, null, "Refused", e.getMessage());
      }
      return;
    }
    if (answered(c, cr, request.id())) {
      return;
    }
    c.handlingRequest = request.id();
    if (request.tooOld(Instant.now())) {
      answer(key, c, request.id(), request.action(), "Refused", "asked at " + request.requestedAt()
          + ", more than " + ClusterRequest.MAX_AGE.toMinutes() + " minutes before the operator saw it; not acted on");
      return;
    }
    ClusterLog.of(LOG, key).info("request {}: {}", request.id(), request.toJson().encode());
    Future<String> done = switch (request.action()) {
      case "switchover" -> core.failover().switchover(key, request.to()).map(r -> r.from().equals(r.to())
          ? r.to() + " already is primary" : r.from() + " -> " + r.to() + " in " + r.durationMs() + " ms");
      case "promote" -> standbyStep(key, c, true);
      case "backup", "backup-verify" -> c.backups == null
          ? Future.failedFuture(key + " declares no spec.backup")
          : (request.action().equals("backup") ? c.backups.backupNow() : c.backups.verifyNow()).map(JsonObject::encode);
      default -> c.set.users().sync(request.dryRun()).map(r -> (request.dryRun() ? "would change: " : "changed: ")
          + r.getValue("changed", r.encode()));
    };
    done.onComplete(ar -> answer(key, c, request.id(), request.action(), ar.succeeded() ? "Succeeded" : "Failed",
        ar.succeeded() ? ar.result() : ar.cause().getMessage()));
  }

  private static boolean answered(Controllers c, PostgresCluster cr, String id) {
    PostgresClusterStatus.Request last = cr.getStatus() == null ? null : cr.getStatus().lastRequest;
    return id.equals(c.handlingRequest) || (last != null && id.equals(last.id))
        || (c.lastRequest != null && id.equals(c.lastRequest.id));
  }

  private void answer(String key, Controllers c, String id, String action, String outcome, String message) {
    PostgresClusterStatus.Request r = new PostgresClusterStatus.Request();
    r.id = id;
    r.action = action;
    r.outcome = outcome;
    r.message = message;
    r.completedAt = Instant.now().toString();
    c.lastRequest = r;
    ClusterLog.of(LOG, key).info("request {} {}: {}", id, outcome, message);
    writeStatus(key);
  }

  /** The pods of the cluster's StatefulSet (a foreign pod carrying the same labels is not a member). Blocking. */
  private List<io.fabric8.kubernetes.api.model.Pod> memberPods(String ns, String name) {
    return client.pods().inNamespace(ns).withLabels(MemberSelector.of(name).labels())
        .list().getItems().stream().filter(p -> p.getMetadata().getOwnerReferences().stream()
            .anyMatch(o -> "StatefulSet".equals(o.getKind()) && name.equals(o.getName()))).toList();
  }

  /** Status of the cluster and of its PostgresUsers, written only when something changed. */
  public Future<Void> writeStatus(String key) {
    Controllers c = byKey.get(key);
    if (c == null) {
      return Future.succeededFuture();
    }
    var view = core.state().view(key);
    var users = c.set.users().last();
    var autoscaler = c.set.autoscaler().running() ? c.set.autoscaler().status() : null;
    var lastFailover = core.failover().lastFailover(key).orElse(null);
    // plain maps and lists all the way down (a JsonObject inside would not serialize as JSON)
    @SuppressWarnings("unchecked")
    java.util.Map<String, Object> backup = c.backups == null ? null : c.backups.status().mapTo(java.util.Map.class);
    String ns = c.latest.getMetadata().getNamespace();
    String name = c.latest.getMetadata().getName();
    return Blocking.<Observed>call(core.vertx(), () -> {
      if (!leading.getAsBoolean()) {
        return null;
      }
      postgresUsers.keySet().removeIf(k -> k.startsWith(ns + "/"));
      client.resources(PostgresUser.class).inNamespace(ns).list().getItems()
          .forEach(u -> postgresUsers.put(ns + "/" + u.getMetadata().getName(), u));
      PostgresCluster cr = client.resources(PostgresCluster.class).inNamespace(ns).withName(name).get();
      return cr == null ? null : new Observed(cr, routedToPrimary(ns, name), memberPods(ns, name));
    }).compose(o -> o == null ? Future.<Void>succeededFuture() : statusWriter.cluster(ns, name, status -> {
      ClusterStatusModel.observe(status, view, users, autoscaler, lastFailover, Instant.now());
      ClusterStatusModel.progressing(status, c.lastRollingStep, c.set.restarts().last(), Instant.now());
      ClusterStatusModel.ready(status, view, o.routed(), Instant.now());
      ClusterStatusModel.placement(status, o.pods(), Instant.now());
      if (c.lastRequest != null) {
        status.lastRequest = c.lastRequest;
      }
      status.backup = backup;
      standbyStatus(key, c, status, view);
      return status;
    }).compose(written -> {
      ClusterUsers.Merged merged = ClusterUsers.merge(name, o.cluster().getSpec(), postgresUsers(ns));
      List<Future<Boolean>> userWrites = new java.util.ArrayList<>();
      for (PostgresUser u : postgresUsers(ns)) {
        if (name.equals(u.getSpec().cluster)) {
          PostgresUserStatus userStatus = ClusterUsers.status(u, merged, users);
          if (!Objects.equals(u.getStatus(), userStatus)) {
            userWrites.add(statusWriter.user(ns, u.getMetadata().getName(), ignored -> userStatus));
          }
        }
      }
      return Future.all(userWrites).<Void>mapEmpty();
    })).onFailure(e -> ClusterLog.of(LOG, key).debug("status not written this time: {}", e.getMessage()));
  }

  /** spec.standby: the cluster follows its source now (no promotion decided). */
  private static boolean following(Controllers c) {
    return c.latest.getSpec().standby != null && (c.standby == null || !c.standby.promoted);
  }

  /** The leader's role as Patroni names it (standby_leader while following); null while none reports. */
  private static String leaderRole(io.pgtide.operator.state.ClusterView view) {
    return view.primary().map(m -> m.report() == null ? null : m.report().patroniRole()).orElse(null);
  }

  /**
   * status.standby (source, lag, streaming, the promotion), the Standby condition and the lag gauge, for a cluster
   * that is or was a standby; {@code status} is the server's, so a promotion recorded there is kept.
   */
  private void standbyStatus(String key, Controllers c, PostgresClusterStatus status,
                             io.pgtide.operator.state.ClusterView view) {
    StandbyModel.Source source = StandbyModel.origin(c.latest);
    PostgresClusterStatus.Standby previous = status.standby != null ? status.standby : c.standby;
    if (source == null && previous == null) {
      return;
    }
    if (source != null) {
      status.standby = StandbyModel.status(source, core.state().view(source.key()), view, previous);
    }
    c.standby = status.standby;
    core.metrics().standbyLag(key, status.standby.promoted ? null : status.standby.lagBytes);
    StandbyModel.condition(status, c.latest.getSpec().standby != null, leaderRole(view), Instant.now());
  }

  /**
   * The promotion of a standby, one step at a time ({@link StandbyModel#promotion}): decided (a promote request,
   * {@code asked}, or spec.standby removed), it is first recorded in status.standby, then Patroni's standby_cluster
   * is removed through the leader until the leader is a primary. Succeeds with what was done.
   */
  private Future<String> standbyStep(String key, Controllers c, boolean asked) {
    var view = core.state().view(key);
    String role = leaderRole(view);
    boolean specStandby = c.latest.getSpec().standby != null;
    if (asked && !specStandby && c.standby == null) {
      return Future.failedFuture(key + " is not a standby cluster (no spec.standby)");
    }
    String ns = c.latest.getMetadata().getNamespace();
    String name = c.latest.getMetadata().getName();
    return switch (StandbyModel.promotion(specStandby, c.standby, asked, role)) {
      case NONE -> Future.succeededFuture("nothing to do now");
      case DONE -> Future.succeededFuture("promoted at " + c.standby.promotedAt + "; "
          + view.primary().map(p -> p.id().member()).orElse("no member") + " leads");
      case RECORD -> {
        PostgresClusterStatus.Standby record = StandbyModel.promotedRecord(StandbyModel.origin(c.latest), c.standby,
            Instant.now());
        ClusterLog.of(LOG, key).info("promotion decided ({}): recording it before Patroni is told",
            asked ? "promote request" : "spec.standby removed");
        yield statusWriter.cluster(ns, name, status -> {
          status.standby = record;
          return status;
        }).compose(written -> {
          c.standby = record;
          core.events().emit(key, "Normal", "StandbyPromoting", "promotion of the standby of " + record.source
              + " decided");
          return standbyStep(key, c, asked);
        });
      }
      case REMOVE_STANDBY_CONFIG -> c.set.patroniConfig().promote().map(detail -> {
        core.events().emit(key, "Normal", "StandbyPromoted", "standby_cluster removed from Patroni's configuration; "
            + view.primary().map(p -> p.id().member()).orElse("the leader") + " promotes");
        return "standby_cluster removed; " + view.primary().map(p -> p.id().member()).orElse("the leader")
            + " promotes";
      }).recover(e -> Future.failedFuture("promotion recorded, not carried out yet (retried every 5 s): "
          + e.getMessage())).onFailure(e -> ClusterLog.of(LOG, key).warn("{}", e.getMessage()));
    };
  }

  /** What the status is computed from besides the controllers' own state: read from the API server. */
  private record Observed(PostgresCluster cluster, java.util.Set<String> routed,
                          List<io.fabric8.kubernetes.api.model.Pod> pods) {
  }

  /** The pods the primary Service's endpoints name (ready addresses only). */
  private java.util.Set<String> routedToPrimary(String ns, String name) {
    var endpoints = client.endpoints().inNamespace(ns).withName(name).get();
    if (endpoints == null || endpoints.getSubsets() == null) {
      return java.util.Set.of();
    }
    return endpoints.getSubsets().stream().filter(x -> x.getAddresses() != null)
        .flatMap(x -> x.getAddresses().stream()).filter(a -> a.getTargetRef() != null)
        .map(a -> a.getTargetRef().getName()).collect(java.util.stream.Collectors.toSet());
  }
}
