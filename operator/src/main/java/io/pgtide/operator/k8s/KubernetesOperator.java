package io.pgtide.operator.k8s;

import io.pgtide.operator.k8s.api.Blocking;
import io.pgtide.operator.k8s.model.BridgePolicyModel;
import io.pgtide.operator.k8s.reconcile.ClusterControllers;
import io.pgtide.operator.k8s.reconcile.ClusterReconciler;
import io.pgtide.operator.k8s.model.ClusterRequest;
import io.pgtide.operator.k8s.model.ClusterValidation;
import io.pgtide.operator.k8s.api.LeaseGuard;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.pgtide.operator.k8s.model.ReconcileErrors;
import io.pgtide.operator.k8s.reconcile.ResourceReconciler;
import io.pgtide.common.cluster.ClusterLog;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.pgtide.operator.k8s.model.StandbyModel;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator on Kubernetes: a Lease elects one leader among the replicas; only the leader watches
 * PostgresClusters and reconciles them (one work queue, one reconcile at a time per cluster, a change during a
 * reconcile runs it once more). The CA that signs the sidecars' certificates lives in a Secret.
 */
public final class KubernetesOperator {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesOperator.class);
  private final Vertx vertx;
  private final KubernetesClient client;
  private final OperatorConfig config;
  private final String identity;
  private final AtomicBoolean leader = new AtomicBoolean();
  /** Renew deadline 10 s, Lease 15 s: the guard closes 5 s before another replica may take over. */
  private final LeaseGuard lease = new LeaseGuard(Duration.ofSeconds(10));
  private long leaseWatch = -1;
  private long labelSweep = -1;
  /** How often the leader takes a stale leader label off the other replicas. */
  static final long LABEL_SWEEP_MS = 10_000;
  private final Set<String> running = ConcurrentHashMap.newKeySet();
  private final Set<String> again = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean bridgePolicyPending = new AtomicBoolean();
  private ClusterReconciler reconciler;
  /** One informer over all namespaces, or one per watched namespace (a namespaced install). */
  private List<SharedIndexInformer<PostgresCluster>> informers = List.of();
  private List<SharedIndexInformer<io.pgtide.common.crd.PostgresUser>> userInformers = List.of();
  private ClusterControllers controllers;
  private io.micrometer.core.instrument.MeterRegistry registry;
  /** Consecutive failed reconciles per cluster, for the back-off; absent after a success. */
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();
  private final Map<String, Long> retryTimers = new ConcurrentHashMap<>();
  private final List<SharedIndexInformer<?>> ownedInformers = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean stopped;
  private Runnable gained = () -> { };
  private Runnable lost = () -> { };
  private volatile boolean everLed; // in the current election round
  private volatile CompletableFuture<?> election;

  /** The per-cluster controllers (user sync, autoscaler, status) started for every reconciled cluster. */
  /** The operator's one writer of status, shared with the controllers and the incident store. */
  public KubernetesOperator writingStatusWith(io.pgtide.operator.k8s.api.StatusWriter writer) {
    this.statusWriter = writer;
    return this;
  }

  public KubernetesOperator controllers(ClusterControllers controllers) {
    this.controllers = controllers;
    return this;
  }

  private io.pgtide.operator.k8s.api.StatusWriter statusWriter;

  public KubernetesOperator(Vertx vertx, KubernetesClient client, OperatorConfig config, String identity) {
    this.vertx = vertx;
    this.client = client;
    this.config = config;
    this.identity = identity;
  }

  /**
   * What gaining and losing the Lease start and stop besides the reconcilers: the bridge hub and the failover
   * coordinator, so only the leader accepts sidecars and acts on their reports.
   */
  public KubernetesOperator leadership(Runnable gained, Runnable lost) {
    this.gained = gained;
    this.lost = lost;
    return this;
  }

  /** Where reconcile errors are counted ({@code pgtide_reconcile_errors_total{reason}}). */
  public KubernetesOperator metrics(io.micrometer.core.instrument.MeterRegistry registry) {
    this.registry = registry;
    return this;
  }

  /** Leads, and renewed the Lease within the renew deadline by this replica's own clock. */
  public boolean isLeader() {
    return leader.get() && lease.valid();
  }

  /** Runs the election in the background; leading starts the informer, losing the lease stops it. */
  public CompletableFuture<?> start() {
    LeaderElector elector = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
        .withName("pgtide-operator").withLock(lease.tracking(new LeaseLock(config.operatorNamespace(), "pgtide-operator", identity)))
        .withLeaseDuration(Duration.ofSeconds(15)).withRenewDeadline(Duration.ofSeconds(10))
        .withRetryPeriod(Duration.ofSeconds(2)).withReleaseOnCancel(true)
        .withLeaderCallbacks(new LeaderCallbacks(this::lead, this::follow, id -> LOG.info("leader is {}", id)))
        .build()).build();
    return elector.start();
  }

  /**
   * Stands for election until {@link #stop()} or until this replica, having led, loses the Lease (an API server that
   * did not answer in time, another replica that took over): then it returns 1, and the process exits non-zero so
   * the container restarts with nothing left of its time as leader (the hub, coordinator and controllers were
   * stopped already). A candidate whose elector failed before it ever led stands again. Returns 0 after stop().
   */
  public int runUntilStopped() {
    labelOwnPod(false); // a restarted container may find its pod still labelled from before
    while (!stopped) {
      everLed = false;
      CompletableFuture<?> round = start();
      election = round;
      if (stopped) {
        round.cancel(true);
        break;
      }
      try {
        round.join();
      } catch (java.util.concurrent.CancellationException | java.util.concurrent.CompletionException e) {
        // cancelled by stop(), or the elector failed: the loop decides
      }
      if (!stopped && everLed) {
        LOG.error("{} lost its leadership; exiting so the container restarts clean", identity);
        return 1;
      }
      if (!stopped) {
        LOG.warn("{} is no longer a candidate; standing for election again", identity);
      }
    }
    return 0;
  }

  /** Steps down: releases the Lease at once (so another replica takes over without waiting for it to expire). */
  public void stop() {
    stopped = true;
    CompletableFuture<?> round = election;
    if (round != null) {
      round.cancel(true);
    }
    follow();
  }

  /**
   * The label that puts this pod behind the operator Service (sidecars connect to the leader only). Readiness
   * does not follow leadership: a Deployment rollout waits for new pods to be Ready, and a follower never would.
   */
  public static final String LEADER_LABEL = "pgtide.io/leader";

  /**
   * Takes the leader label off every other operator pod. A replica that lost the Lease while cut off from the API
   * server exits and, restarted on its node, cannot remove its own label until the node is back: it kept it, the
   * operator Service then routed sidecars to a replica whose hub is closed (NetworkPolicyK8sE2E after
   * NodeLossK8sE2E, CI 2026-12-04). It also puts the label back on the leader's own pod when it is missing: setting
   * it on gaining the Lease is one API call, and one that failed (an API server slow to answer while a node was
   * lost) left the leader unlabelled and the operator Service empty for the rest of the run (NetworkPolicyK8sE2E
   * and RollingK8sE2E, CI of 3292a95). The leader sweeps at once and every {@link #LABEL_SWEEP_MS}.
   */
  private void sweepLeaderLabels() {
    try {
      boolean own = false;
      for (var pod : client.pods().inNamespace(config.operatorNamespace()).withLabel(LEADER_LABEL, "true").list()
          .getItems()) {
        own |= identity.equals(pod.getMetadata().getName());
        if (!identity.equals(pod.getMetadata().getName())) {
          LOG.warn("{} leads; taking the stale leader label off {}", identity, pod.getMetadata().getName());
          client.pods().inNamespace(config.operatorNamespace()).withName(pod.getMetadata().getName())
              .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                  io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), new io.vertx.core.json.JsonObject()
                  .put("metadata", new io.vertx.core.json.JsonObject().put("labels",
                      new io.vertx.core.json.JsonObject().putNull(LEADER_LABEL))).encode());
        }
      }
      if (!own && leader.get() && lease.valid()) {
        if (labelOwnPod(true)) {
          LOG.warn("{} leads but its pod had no leader label; set it", identity);
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("{} could not check the replicas' leader labels: {}", identity, e.getMessage());
    }
  }

  /** Sets or removes this pod's leader label; false when it could not or there is no such pod. */
  private boolean labelOwnPod(boolean leads) {
    try {
      var pod = client.pods().inNamespace(config.operatorNamespace()).withName(identity);
      if (pod.get() == null) {
        return false; // not running in a pod (tests, a developer's machine)
      }
      // a merge patch without a resourceVersion: the kubelet writes the pod's status all along, and an edit
      // (read, then replace) lost that race with a 409 and left the leader unlabelled, the Service empty
      pod.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
          io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), new io.vertx.core.json.JsonObject()
          .put("metadata", new io.vertx.core.json.JsonObject().put("labels", new io.vertx.core.json.JsonObject()
              .put(LEADER_LABEL, leads ? "true" : null))).encode());
      return true;
    } catch (RuntimeException e) {
      LOG.warn("{} could not {} its leader label: {}", identity, leads ? "set" : "remove", e.getMessage());
      return false;
    }
  }

  void lead() {
    LOG.info("{} leads: watching PostgresClusters", identity);
    leader.set(true);
    everLed = true;
    // a leader that could not renew in time (frozen, cut off) stops at once, whatever the elector has yet heard
    leaseWatch = vertx.setPeriodic(500, t -> {
      if (leader.get() && !lease.valid()) {
        LOG.error("{} has not renewed the Lease within its renew deadline; stepping down", identity);
        vertx.cancelTimer(t);
        // both off the event loop, and the hub first: cancelling the round makes fabric8 release the Lease, an API
        // call that waits as long as the API server is out of reach (a node cut off). Run here, it blocked this
        // event loop for the whole cut, the hub never closed, and the cut-off member's sidecar stayed connected to
        // this step-down leader instead of finding the new one (NodeLossK8sE2E's partition found it)
        vertx.executeBlocking(() -> {
          follow();
          return null;
        }, false);
        CompletableFuture<?> round = election;
        if (round != null) {
          vertx.executeBlocking(() -> round.cancel(true), false);
        }
      }
    });
    try {
      gained.run(); // the hub listens before the label routes sidecars here
    } catch (RuntimeException e) {
      LOG.error("{} leads but cannot start its hub and coordinator: {}", identity, e.toString());
    }
    labelOwnPod(true);
    sweepLeaderLabels();
    labelSweep = vertx.setPeriodic(LABEL_SWEEP_MS, t -> vertx.executeBlocking(() -> {
      if (leader.get() && lease.valid()) {
        sweepLeaderLabels();
      }
      return null;
    }, false));
    try {
      watch();
    } catch (RuntimeException e) {
      LOG.error("{} leads but cannot watch PostgresClusters: {}", identity, e.toString());
    }
  }

  private void watch() {
    reconciler = new ClusterReconciler(vertx, client, config, loadOrCreateCa(),
        statusWriter != null ? statusWriter : new io.pgtide.operator.k8s.api.StatusWriter(client, () -> true))
        .standbysFrom(this::standbysOf);
    if (controllers != null) {
      reconciler.switchingWalWith(controllers::switchWal);
      controllers.standbysFrom(this::standbysOf).reconcilingWith(cr -> vertx.runOnContext(v -> {
        PostgresCluster latest = cached(ClusterControllers.key(cr));
        if (latest != null) {
          enqueue(latest);
        }
      }));
    }
    informers = inform(PostgresCluster.class, Map.of(), new ResourceEventHandler<>() {
      @Override
      public void onAdd(PostgresCluster cr) {
        enqueue(cr);
        sourceOf(cr);
        bridgePolicyChanged();
      }

      @Override
      public void onUpdate(PostgresCluster old, PostgresCluster cr) {
        // a status write (ours) does not change the generation: nothing to reconcile; a resync (same version)
        // re-reconciles so drift in owned objects is repaired
        if (java.util.Objects.equals(old.getMetadata().getResourceVersion(), cr.getMetadata().getResourceVersion())
            || !java.util.Objects.equals(old.getMetadata().getGeneration(), cr.getMetadata().getGeneration())
            || !java.util.Objects.equals(old.getMetadata().getDeletionTimestamp(), cr.getMetadata().getDeletionTimestamp())) {
          enqueue(cr);
          sourceOf(old);
          sourceOf(cr);
          bridgePolicyChanged(); // at every resync too: a deleted or edited policy is put back
        } else if (controllers != null && !java.util.Objects.equals(request(old), request(cr))) {
          controllers.request(cr); // kubectl pgtide asked for something: no reconcile needed
        }
      }

      @Override
      public void onDelete(PostgresCluster cr, boolean unknown) {
        bridgePolicyChanged();
        sourceOf(cr);
        // owner references collect what the cluster owned; the finalizer already ran on the update
        if (controllers != null) {
          controllers.remove(ClusterControllers.key(cr));
        }
      }
    }, 60_000);
    watchOwned();
    if (controllers != null) {
      userInformers = inform(io.pgtide.common.crd.PostgresUser.class, Map.of(), new ResourceEventHandler<>() {
            @Override
            public void onAdd(io.pgtide.common.crd.PostgresUser u) {
              controllers.userChanged(u);
            }

            @Override
            public void onUpdate(io.pgtide.common.crd.PostgresUser old, io.pgtide.common.crd.PostgresUser u) {
              controllers.userChanged(u);
            }

            @Override
            public void onDelete(io.pgtide.common.crd.PostgresUser u, boolean unknown) {
              controllers.userDeleted(u);
            }
          }, 60_000);
    }
  }

  /**
   * Applies {@link BridgePolicyModel} for the clusters the informers hold, half a second after the last change: one
   * apply for a burst (the first list, a resync). Server-side apply, so a rule for a removed cluster goes too; an
   * unchanged policy is a no-op on the server. A failure is retried at the next change or resync (60 s).
   */
  private void bridgePolicyChanged() {
    if (!bridgePolicyPending.compareAndSet(false, true)) {
      return;
    }
    vertx.setTimer(500, t -> {
      bridgePolicyPending.set(false);
      if (!isLeader()) {
        return;
      }
      var desired = BridgePolicyModel.desired(config, cached());
      Blocking.call(vertx, () -> client.network().v1().networkPolicies().inNamespace(config.operatorNamespace())
              .resource(desired).fieldManager(ResourceReconciler.FIELD_MANAGER).forceConflicts().serverSideApply())
          .onFailure(e -> LOG.warn("{} could not apply NetworkPolicy {}/{}: {}", identity, config.operatorNamespace(),
              BridgePolicyModel.NAME, e.getMessage()));
    });
  }

  /**
   * Informs on {@code kind} (with {@code labels}) in every namespace — or, for a namespaced install, in each watched
   * namespace, which is all its Roles allow it to list or watch.
   */
  private <R extends io.fabric8.kubernetes.api.model.HasMetadata> List<SharedIndexInformer<R>> inform(Class<R> kind,
      Map<String, String> labels, ResourceEventHandler<R> handler, long resyncMs) {
    List<io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable<R, ?, ?>> scopes = new ArrayList<>();
    if (config.watchNamespaces().isEmpty()) {
      scopes.add(client.resources(kind).inAnyNamespace());
    } else {
      config.watchNamespaces().forEach(ns -> scopes.add(client.resources(kind).inNamespace(ns)));
    }
    return scopes.stream().map(scope -> (labels.isEmpty() ? scope : scope.withLabels(labels)).inform(handler, resyncMs))
        .toList();
  }

  /**
   * The uid of the PostgresCluster {@code namespace/name} as the informers last saw it; empty while they have not
   * (not leading, not synced yet, or no such cluster): the hub then refuses its sidecars, which retry.
   */
  public java.util.Optional<String> liveUid(String key) {
    PostgresCluster cr = cached(key);
    return cr == null ? java.util.Optional.empty() : java.util.Optional.ofNullable(cr.getMetadata().getUid());
  }

  /** The PostgresCluster {@code namespace/name} as the informers last saw it, null when none has it. */
  private PostgresCluster cached(String key) {
    for (SharedIndexInformer<PostgresCluster> i : informers) {
      PostgresCluster cr = i.getStore().getByKey(key);
      if (cr != null) {
        return cr;
      }
    }
    return null;
  }

  /** The standby clusters following {@code namespace/name}, as the informers last saw them. */
  private List<PostgresCluster> standbysOf(String namespace, String name) {
    return StandbyModel.standbysOf(namespace, name, cached());
  }

  /**
   * A standby changed, came or went: its source is reconciled too (its NetworkPolicy admits its standbys; its
   * Patroni configuration, which holds their slots, follows within {@code PATRONI_CONFIG_MS}).
   */
  private void sourceOf(PostgresCluster cr) {
    if (cr.getSpec() == null || cr.getSpec().standby == null) {
      return;
    }
    StandbyModel.Source source = StandbyModel.origin(cr);
    PostgresCluster sourceCluster = source == null ? null : cached(source.key());
    if (sourceCluster != null) {
      enqueue(sourceCluster);
    }
  }

  private List<PostgresCluster> cached() {
    return informers.stream().flatMap(i -> i.getStore().list().stream()).toList();
  }

  private static String request(PostgresCluster cr) {
    var annotations = cr.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(ClusterRequest.ANNOTATION);
  }

  void follow() {
    boolean led = leader.getAndSet(false);
    lease.reset();
    vertx.cancelTimer(leaseWatch);
    vertx.cancelTimer(labelSweep);
    if (led) {
      try {
        lost.run(); // closes the hub and its connections: sidecars reconnect to the new leader
      } catch (RuntimeException e) {
        LOG.error("{} could not stop its hub and coordinator: {}", identity, e.toString());
      }
    }
    labelOwnPod(false); // after the hub: an API server out of reach keeps this call waiting
    List<PostgresCluster> known = cached();
    informers.forEach(SharedIndexInformer::close);
    userInformers.forEach(SharedIndexInformer::close);
    userInformers = List.of();
    ownedInformers.forEach(SharedIndexInformer::close);
    ownedInformers.clear();
    retryTimers.values().forEach(vertx::cancelTimer);
    retryTimers.clear();
    informers = List.of();
    if (controllers != null) {
      known.forEach(cr -> controllers.remove(ClusterControllers.key(cr)));
    }
    LOG.info("{} no longer leads", identity);
  }

  /**
   * Drift in an object a cluster owns (edited or deleted by someone else) reconciles its cluster at once, not at
   * the next resync. Only spec or metadata changes count: a StatefulSet's status moves with every pod.
   */
  private void watchOwned() {
    List<Class<? extends io.fabric8.kubernetes.api.model.HasMetadata>> kinds = List.of(
        io.fabric8.kubernetes.api.model.apps.StatefulSet.class, io.fabric8.kubernetes.api.model.Service.class,
        io.fabric8.kubernetes.api.model.ServiceAccount.class, io.fabric8.kubernetes.api.model.rbac.Role.class,
        io.fabric8.kubernetes.api.model.rbac.RoleBinding.class,
        io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class,
        io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class,
        // the pooler's and the backup agent's (a rollout's revision annotation reconciles once: reads only)
        io.fabric8.kubernetes.api.model.apps.Deployment.class);
    kinds.forEach(this::watchOwned);
  }

  private <R extends io.fabric8.kubernetes.api.model.HasMetadata> void watchOwned(Class<R> kind) {
    ownedInformers.addAll(inform(kind, Map.of("app.kubernetes.io/managed-by", "pgtide"), new ResourceEventHandler<R>() {
          @Override
          public void onAdd(R o) {
            // what we created ourselves, or what existed before we led: the cluster's own reconcile covers it
          }

          @Override
          public void onUpdate(R old, R now) {
            if (OwnedChange.matters(old, now)) {
              enqueueOwner(now);
            }
          }

          @Override
          public void onDelete(R o, boolean unknown) {
            enqueueOwner(o);
          }
        }, 0));
  }

  private void enqueueOwner(io.fabric8.kubernetes.api.model.HasMetadata owned) {
    String owner = OwnedChange.ownerCluster(owned);
    if (owner == null || informers.isEmpty()) {
      return;
    }
    PostgresCluster cr = cached(io.pgtide.common.cluster.ClusterKey.text(owned.getMetadata().getNamespace(), owner));
    if (cr != null && cr.getMetadata().getDeletionTimestamp() == null) {
      enqueue(cr);
    }
  }

  /**
   * Per-cluster serialisation: one reconcile at a time per key; a change meanwhile reruns it once. A failed
   * reconcile is retried with exponential back-off (1 s doubling to 5 min) and counted by reason.
   */
  void enqueue(PostgresCluster cr) {
    String key = ClusterControllers.key(cr);
    if (!running.add(key)) {
      again.add(key);
      return;
    }
    Long timer = retryTimers.remove(key);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
    reconcile(cr).onComplete(ar -> {
      running.remove(key);
      // the controllers run on a valid spec only: one refused as InvalidSpec (none at all, too) keeps the last good one
      if (controllers != null && cr.getMetadata().getDeletionTimestamp() == null
          && ClusterValidation.problem(cr) == null
          && ClusterValidation.imageProblem(cr.getSpec(), config.allowedImages()) == null) {
        try {
          controllers.ensure(cr);
          controllers.request(cr); // one asked while no operator led, or with a spec change
        } catch (RuntimeException e) {
          ClusterLog.of(LOG, key).error("cannot start or refresh the cluster's controllers: {}", e.toString());
        }
      }
      if (ar.failed()) {
        retryLater(key, ar.cause());
      } else {
        failures.remove(key);
      }
      if (again.remove(key)) {
        PostgresCluster latest = cached(key);
        if (latest != null) {
          enqueue(latest);
        }
      }
    });
  }

  /** A reconcile that throws is a failed one: its key must be free for the next event, or it is never seen again. */
  private io.vertx.core.Future<Void> reconcile(PostgresCluster cr) {
    try {
      return reconciler.reconcile(cr);
    } catch (RuntimeException e) {
      return io.vertx.core.Future.failedFuture(e);
    }
  }

  private void retryLater(String key, Throwable cause) {
    int attempt = failures.merge(key, 1, Integer::sum);
    long delay = ReconcileErrors.backoffMs(attempt);
    String reason = ReconcileErrors.reason(cause);
    if (registry != null) {
      registry.counter("pgtide_reconcile_errors", "reason", reason).increment();
    }
    ClusterLog.of(LOG, key).warn("reconcile failed ({}, attempt {}): {}; retrying in {} ms", reason, attempt,
        ReconcileErrors.message(cause), delay);
    retryTimers.put(key, vertx.setTimer(delay, t -> {
      retryTimers.remove(key);
      PostgresCluster latest = cached(key);
      if (leader.get() && latest != null) {
        enqueue(latest);
      }
    }));
  }

  /**
   * The operator's CA from its Secret, created on first start; rotation: delete the Secret and restart. Two
   * operators starting together may both try to create it: the loser reads the winner's.
   */
  public CertificateAuthority loadOrCreateCa() {
    var ref = client.secrets().inNamespace(config.operatorNamespace()).withName(config.caSecretName());
    CertificateAuthority existing = fromSecret(ref.get());
    if (existing != null) {
      return existing;
    }
    CertificateAuthority ca = CertificateAuthority.create("pgtide-operator-ca", Duration.ofDays(3650));
    TlsMaterial m = ca.caMaterial();
    java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
    try {
      client.secrets().inNamespace(config.operatorNamespace()).resource(new SecretBuilder().withNewMetadata()
          .withName(config.caSecretName()).withNamespace(config.operatorNamespace()).endMetadata()
          .addToData("ca.crt", b64.encodeToString(m.certPem().getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .addToData("ca.key", b64.encodeToString(m.keyPem().getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .build()).create();
      return ca;
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      CertificateAuthority winner = e.getCode() == 409 ? fromSecret(ref.get()) : null;
      if (winner == null) {
        throw e;
      }
      return winner;
    }
  }

  private static CertificateAuthority fromSecret(Secret s) {
    if (s == null || s.getData() == null || !s.getData().containsKey("ca.key")) {
      return null;
    }
    Map<String, String> d = s.getData();
    java.util.Base64.Decoder b64 = java.util.Base64.getDecoder();
    String cert = new String(b64.decode(d.get("ca.crt")), java.nio.charset.StandardCharsets.UTF_8);
    return CertificateAuthority.load(new TlsMaterial(cert, new String(b64.decode(d.get("ca.key")),
        java.nio.charset.StandardCharsets.UTF_8), cert));
  }

  /** The hub's server certificate for the operator Service's DNS names. */
  public static TlsMaterial hubCertificate(CertificateAuthority ca, OperatorConfig config) {
    return ca.issue("pgtide-operator", List.of(config.operatorServiceHost(), "pgtide-operator",
        "localhost", "127.0.0.1"), Duration.ofDays(365));
  }
}
