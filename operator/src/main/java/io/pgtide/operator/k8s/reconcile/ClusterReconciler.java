package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.model.BackupAgentModel;
import io.pgtide.operator.k8s.api.Blocking;
import io.pgtide.operator.k8s.model.ClusterCertificates;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.ClusterStatusModel;
import io.pgtide.operator.k8s.model.ClusterValidation;
import io.pgtide.operator.k8s.model.MajorUpgrade;
import io.pgtide.operator.k8s.model.MemberSelector;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.pgtide.operator.k8s.model.Ownership;
import io.pgtide.operator.k8s.model.PoolerModel;
import io.pgtide.operator.k8s.model.ReconcileErrors;
import io.pgtide.operator.k8s.api.SecretPasswords;
import io.pgtide.operator.k8s.model.ServerCertificates;
import io.pgtide.operator.k8s.model.StandbyModel;
import io.pgtide.operator.k8s.api.StatusWriter;
import io.pgtide.common.cluster.ClusterLog;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.common.secrets.ClusterSecrets;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the objects a PostgresCluster owns in shape: a flat chain of small steps, one per owned object. Secrets are
 * created once and never overwritten (passwords are never regenerated). Idempotent: an unchanged cluster costs
 * reads only. A finalizer applies the volume retention policy on delete.
 */
public final class ClusterReconciler {
  public static final String FINALIZER = "pgtide.io/finalizer";
  private static final Logger LOG = LoggerFactory.getLogger(ClusterReconciler.class);

  private final Vertx vertx;
  private final StatusWriter statusWriter;
  private final KubernetesClient client;
  private final OperatorConfig config;
  private final CertificateAuthority ca;
  private final ResourceReconciler<ServiceAccount> serviceAccounts;
  private final ResourceReconciler<Role> roles;
  private final ResourceReconciler<RoleBinding> roleBindings;
  private final ResourceReconciler<Service> services;
  private final ResourceReconciler<PodDisruptionBudget> pdbs;
  private final ResourceReconciler<NetworkPolicy> networkPolicies;
  private final ResourceReconciler<StatefulSet> statefulSets;
  private final ResourceReconciler<io.fabric8.kubernetes.api.model.apps.Deployment> deployments;
  private final ResourceReconciler<io.fabric8.kubernetes.api.model.ConfigMap> configMaps;
  /** The standby clusters following {@code namespace/name} (the informers' view); none until told. */
  private java.util.function.BiFunction<String, String, List<PostgresCluster>> standbys = (ns, name) -> List.of();

  /** Where the standbys of a cluster are looked up (its NetworkPolicy admits them). */
  public ClusterReconciler standbysFrom(java.util.function.BiFunction<String, String, List<PostgresCluster>> lookup) {
    this.standbys = lookup;
    return this;
  }

  /** Closes a cluster's current WAL segment (by key), answering its file name: done before a restore Job is made. */
  private java.util.function.Function<String, Future<String>> walSwitch =
      key -> Future.failedFuture("no sidecar hub here");

  public ClusterReconciler switchingWalWith(java.util.function.Function<String, Future<String>> walSwitch) {
    this.walSwitch = walSwitch;
    return this;
  }

  public ClusterReconciler(Vertx vertx, KubernetesClient client, OperatorConfig config, CertificateAuthority ca) {
    this(vertx, client, config, ca, new StatusWriter(client, () -> true));
  }

  /** {@code statusWriter}: the operator's one writer of status, shared with the controllers and the incident store. */
  public ClusterReconciler(Vertx vertx, KubernetesClient client, OperatorConfig config, CertificateAuthority ca,
                           StatusWriter statusWriter) {
    this.statusWriter = statusWriter;
    this.vertx = vertx;
    this.client = client;
    this.config = config;
    this.ca = ca;
    serviceAccounts = new ResourceReconciler<>(vertx, client, ServiceAccount.class);
    roles = new ResourceReconciler<>(vertx, client, Role.class);
    roleBindings = new ResourceReconciler<>(vertx, client, RoleBinding.class);
    services = new ResourceReconciler<>(vertx, client, Service.class);
    pdbs = new ResourceReconciler<>(vertx, client, PodDisruptionBudget.class);
    networkPolicies = new ResourceReconciler<>(vertx, client, NetworkPolicy.class);
    statefulSets = new ResourceReconciler<>(vertx, client, StatefulSet.class);
    deployments = new ResourceReconciler<>(vertx, client, io.fabric8.kubernetes.api.model.apps.Deployment.class);
    configMaps = new ResourceReconciler<>(vertx, client, io.fabric8.kubernetes.api.model.ConfigMap.class);
  }

  public Future<Void> reconcile(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    // the cluster is named in every line itself (ClusterLog): the steps below run on other threads, where an MDC
    // set here would be gone
    if (cr.getMetadata().getDeletionTimestamp() != null) {
      return delete(cr);
    }
    String problem = ClusterValidation.problem(cr);
    if (problem == null) {
      problem = ClusterValidation.kubernetesProblem(cr.getSpec());
    }
    if (problem == null) {
      problem = ClusterValidation.imageProblem(cr.getSpec(), config.allowedImages());
    }
    if (problem != null) {
      ClusterLog.of(LOG, ns, name).warn("invalid spec: {}", problem);
      return status(cr, "InvalidSpec", problem, null);
    }
    String scope = ClusterValidation.standbyScopeProblem(cr, config.watchNamespaces());
    if (scope != null) {
      ClusterLog.of(LOG, ns, name).warn("standby source out of reach: {}", scope);
      return status(cr, "StandbySourceOutOfScope", scope, null);
    }
    return majorVersionChange(cr).transform(change -> change.failed() ? refused(cr, change.cause(), null)
        : change.result() != null ? status(cr, "InvalidSpec", change.result(), null) : checkedApply(cr));
  }

  /**
   * A postgresVersion the cluster cannot move to from the major its StatefulSet runs (its Spilo container's
   * PGVERSION, which outlives an operator restart) is refused as InvalidSpec before anything is applied ({@link
   * MajorUpgrade#refusal}: a downgrade, or a standby's); a raise is an upgrade ({@link MajorUpgrader}). So is
   * spec.standby added to a running cluster ({@link StandbyModel#addedLater}). Null when the spec may be applied.
   */
  private Future<String> majorVersionChange(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    return Blocking.call(vertx, () -> client.apps().statefulSets().inNamespace(ns).withName(name).get())
        .map(current -> {
          String change = MajorUpgrade.refusal(ClusterModel.postgresVersion(current), cr.getSpec().postgresVersion,
              cr.getSpec().standby != null);
          if (change == null) {
            change = StandbyModel.addedLater(cr, current);
          }
          if (change != null) {
            ClusterLog.of(LOG, ns, name).warn("invalid spec: {}", change);
          }
          return change;
        });
  }

  /**
   * The ownership check, then every object: when any name the cluster wants is taken by an object it does not own,
   * nothing at all is applied (a database cluster half created is worse than one that waits) and the cluster shows
   * {@code Conflict=True} naming the objects, until they are gone or marked for adoption. When the check could not
   * run (the API server unreachable), {@code Conflict} is left as it was.
   */
  private Future<Void> checkedApply(PostgresCluster cr) {
    return ownership(cr).transform(checked -> {
      if (checked.failed()) {
        return refused(cr, checked.cause(), null);
      }
      if (!checked.result().isEmpty()) {
        var conflict = new Ownership.NotOwned(checked.result());
        ClusterLog.of(LOG, cr.getMetadata().getNamespace(), cr.getMetadata().getName())
            .warn("nothing applied: {}", conflict.getMessage());
        return refused(cr, conflict, true);
      }
      // an object that appeared since the check is still refused by ResourceReconciler, as a conflict
      return applyAll(cr).recover(e -> refused(cr, e, e instanceof Ownership.NotOwned));
    });
  }

  /** A refused request is a condition with the API server's own words, then a failure to retry. */
  private Future<Void> refused(PostgresCluster cr, Throwable e, Boolean conflicted) {
    return status(cr, ReconcileErrors.reason(e), ReconcileErrors.message(e), conflicted)
        .transform(ignored -> Future.<Void>failedFuture(e));
  }

  /** Every owned object, in order, then the status; a refused step stops the chain. */
  private Future<Void> applyAll(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    return finalizer(cr)
        .compose(v -> recoverySource(cr))
        .compose(v -> serviceAccounts.reconcile(ns, ClusterModel.patroniAccount(name), ClusterModel.serviceAccount(cr)))
        .compose(v -> roles.reconcile(ns, ClusterModel.patroniAccount(name), ClusterModel.role(cr)))
        .compose(v -> roleBindings.reconcile(ns, ClusterModel.patroniAccount(name), ClusterModel.roleBinding(cr)))
        .compose(v -> servicesStep(cr))
        .compose(v -> pdbs.reconcile(ns, name + "-pdb", ClusterModel.podDisruptionBudget(cr)))
        .compose(v -> networkPolicies.reconcile(ns, name, ClusterModel.networkPolicy(cr, config,
            standbys.apply(ns, name))))
        .compose(v -> credentialSecrets(cr))
        .compose(v -> standbyArchive(cr))
        .compose(v -> sidecarTls(cr))
        .compose(v -> serverTls(cr))
        .compose(v -> storageClass(cr))
        .compose(v -> imagePullSecrets(cr))
        .compose(v -> restoreStep(cr))
        .compose(v -> statefulSetStep(cr))
        .compose(v -> volumeSizes(cr))
        .compose(v -> poolerStep(cr))
        .compose(v -> backupAgentStep(cr))
        .compose(v -> status(cr, null, null, false));
  }

  /**
   * The existing objects holding a name this cluster wants (its owned objects, its Secrets, the backup agent's and
   * the restore's objects, its members' data volumes) that are not its own; empty when there are none. Reads only.
   */
  private Future<List<io.fabric8.kubernetes.api.model.HasMetadata>> ownership(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    return Blocking.call(vertx, () -> {
      List<io.fabric8.kubernetes.api.model.HasMetadata> conflicts = new ArrayList<>();
      for (var desired : ClusterModel.named(cr, config)) {
        var current = client.resources(desired.getClass()).inNamespace(ns)
            .withName(desired.getMetadata().getName()).get();
        if (Ownership.conflict(current, desired) != null) {
          conflicts.add(current);
        }
      }
      // the StatefulSet mounts any claim named pgdata-<cluster>-<ordinal>: a foreign one (Zalando's) is not data
      for (PersistentVolumeClaim c : client.persistentVolumeClaims().inNamespace(ns).list().getItems()) {
        if (Ownership.memberVolumeName(c.getMetadata().getName(), name) && !Ownership.memberVolume(c, name)
            && !Ownership.adoptable(c)) {
          conflicts.add(c);
        }
      }
      return conflicts;
    });
  }

  /**
   * The StatefulSet, keeping the server's volumeClaimTemplates: they are immutable (a changed size would make
   * every later update fail with 422 and silently drop replicas or image changes); sizes go to the claims. While a
   * raised postgresVersion is not yet upgraded ({@link MajorUpgrade#statefulSetMajor}, from the status as the server
   * has it now), PGVERSION stays the running major.
   */
  private Future<Void> statefulSetStep(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    return Blocking.call(vertx, () -> {
      StatefulSet sts = client.apps().statefulSets().inNamespace(ns).withName(name).get();
      Integer running = ClusterModel.postgresVersion(sts);
      if (running == null || running >= cr.getSpec().postgresVersion) {
        return new Current(sts, cr.getSpec().postgresVersion);
      }
      PostgresCluster now = client.resources(PostgresCluster.class).inNamespace(ns).withName(name).get();
      return new Current(sts, MajorUpgrade.statefulSetMajor(running, cr.getSpec().postgresVersion,
          now == null || now.getStatus() == null ? null : now.getStatus().upgrade));
    }).compose(found -> {
          StatefulSet current = found.sts();
          PostgresCluster model = cr;
          if (found.major() != cr.getSpec().postgresVersion) {
            model = io.fabric8.kubernetes.client.utils.Serialization.clone(cr);
            model.getSpec().postgresVersion = found.major();
          }
          StatefulSet desired = ClusterModel.statefulSet(model, config);
          if (current != null && current.getSpec().getVolumeClaimTemplates() != null) {
            List<PersistentVolumeClaim> kept = current.getSpec().getVolumeClaimTemplates().stream()
                .map(t -> new io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder(t).withStatus(null)
                    .build()).toList();
            desired.getSpec().setVolumeClaimTemplates(kept);
          }
          return statefulSets.reconcile(ns, name, desired).mapEmpty();
        });
  }

  /** The StatefulSet as the server has it, and the major its PGVERSION is to name. */
  private record Current(StatefulSet sts, int major) {
  }

  /**
   * Grows every data volume of the cluster to {@code storage.size} by patching its claim, when the storage class
   * allows expansion; a smaller size is refused (volumes never shrink), an unexpandable class is a clear failure.
   */
  private Future<Void> volumeSizes(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    io.fabric8.kubernetes.api.model.Quantity want = new io.fabric8.kubernetes.api.model.Quantity(
        cr.getSpec().storage.size);
    return Blocking.call(vertx, () -> {
      // only this cluster's own member volumes: another operator's claims may carry the same cluster-name label
      List<PersistentVolumeClaim> claims = client.persistentVolumeClaims().inNamespace(ns)
          .withLabels(MemberSelector.of(name).labels()).list().getItems().stream()
          .filter(c -> Ownership.memberVolume(c, name)).toList();
      List<String> grow = new ArrayList<>();
      for (PersistentVolumeClaim c : claims) {
        var have = c.getSpec().getResources().getRequests().get("storage");
        int cmp = VolumeSizes.compare(want, have);
        if (cmp < 0) {
          throw new ReconcileErrors.Refused("VolumeShrinkRefused", "storage.size " + want + " is smaller than volume "
              + c.getMetadata().getName() + " (" + have + "); volumes never shrink");
        }
        if (cmp > 0) {
          grow.add(c.getMetadata().getName());
        }
      }
      if (grow.isEmpty()) {
        return null;
      }
      String sc = claims.get(0).getSpec().getStorageClassName();
      var cls = sc == null ? null : client.storage().v1().storageClasses().withName(sc).get();
      if (cls == null || !Boolean.TRUE.equals(cls.getAllowVolumeExpansion())) {
        throw new ReconcileErrors.Refused("VolumeExpansionUnsupported", "storage.size " + want
            + " needs volume expansion, which storage class "
            + sc + " does not allow (allowVolumeExpansion); volumes " + grow + " keep their size");
      }
      for (String claim : grow) {
        ResourceReconciler.apply(client, ns, ClusterModel.claimSize(claim, want));
        ClusterLog.of(LOG, ns, name).info("volume {} grows to {}", claim, want);
      }
      return null;
    });
  }

  private Future<Void> servicesStep(PostgresCluster cr) {
    Future<?> chain = Future.succeededFuture();
    for (Service s : ClusterModel.services(cr)) {
      chain = chain.compose(v -> services.reconcile(cr.getMetadata().getNamespace(), s.getMetadata().getName(), s));
    }
    return chain.mapEmpty();
  }

  private Future<Void> finalizer(PostgresCluster cr) {
    List<String> finalizers = cr.getMetadata().getFinalizers();
    if (finalizers != null && finalizers.contains(FINALIZER)) {
      return Future.succeededFuture();
    }
    return Blocking.call(vertx, () -> client.resources(PostgresCluster.class)
        .inNamespace(cr.getMetadata().getNamespace()).withName(cr.getMetadata().getName())
        .edit(c -> {
          c.getMetadata().getFinalizers().add(FINALIZER);
          return c;
        })).mapEmpty();
  }

  /**
   * bootstrap.recovery: before the new cluster's StatefulSet exists, its first data volume is filled by a restore
   * Job from the source's backup volume; the StatefulSet is made only once the Job succeeded (its first member's
   * Patroni adopts the restored directory, the others copy it). Until then the step refuses, with what happens (a
   * failed restore keeps refusing, with its reason: nothing is created from it). The source is only read. So does a
   * standby of an S3 copy, whose Job lays the copy's newest base backup down for its first member to follow from.
   */
  private Future<Void> restoreStep(PostgresCluster cr) {
    var recovery = cr.getSpec().bootstrap == null ? null : cr.getSpec().bootstrap.recovery;
    StandbyModel.Source following = StandbyModel.following(cr) ? StandbyModel.origin(cr) : null;
    StandbyModel.Source standby = following != null && following.fromS3() ? following : null;
    if (recovery == null && standby != null) {
      // a standby of an S3 copy starts from the copy's newest base backup, laid down by the same Job
      recovery = new io.pgtide.common.crd.PostgresClusterSpec.RecoverySpec();
      recovery.source = standby.name() + "'s S3 copy";
    }
    if (recovery == null) {
      return Future.succeededFuture();
    }
    var what = recovery;
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    String job = BackupAgentModel.restoreJobName(name);
    boolean fromVolume = standby == null && recovery.s3 == null;
    return Blocking.call(vertx, () -> fromVolume
            && client.apps().statefulSets().inNamespace(ns).withName(name).get() == null
            && client.batch().v1().jobs().inNamespace(ns).withName(job).get() == null)
        .compose(toStart -> toStart ? closeSourceSegment(ns, name, what.source) : Future.<String>succeededFuture())
        .compose(closedSegment -> Blocking.call(vertx, () -> {
          if (client.apps().statefulSets().inNamespace(ns).withName(name).get() != null) {
            return null; // restored before: the cluster runs on its own now
          }
          var existing = client.batch().v1().jobs().inNamespace(ns).withName(job).get();
          if (existing == null) {
            if (client.persistentVolumeClaims().inNamespace(ns).withName("pgdata-" + name + "-0").get() == null) {
              client.persistentVolumeClaims().inNamespace(ns).resource(BackupAgentModel.firstDataVolume(cr))
                  .create();
            }
            client.batch().v1().jobs().inNamespace(ns).resource(BackupAgentModel.restoreJob(cr, config,
                closedSegment)).create();
            ClusterLog.of(LOG, ns, name).info("restoring {} to {} (Job {})", what.source,
                what.targetTime != null ? what.targetTime : what.targetLSN != null ? what.targetLSN
                    : "the latest point", job);
            throw new ReconcileErrors.Refused("Restoring", "restoring " + what.source + " (Job " + job + ")");
          }
          var st = existing.getStatus();
          if (st != null && st.getSucceeded() != null && st.getSucceeded() > 0) {
            return null;
          }
          if (st != null && st.getFailed() != null && st.getFailed() > 0) {
            throw new ReconcileErrors.Refused("RestoreFailed", "the restore of " + what.source + " failed: "
                + restoreFailure(ns, name) + " (delete this cluster, fix " + (standby != null ? "standby.s3"
                : "bootstrap.recovery") + ", create it again)");
          }
          throw new ReconcileErrors.Refused("Restoring", "restoring " + what.source + " (Job " + job + ")");
        }));
  }

  /**
   * Before a restore from a source's volume: the source's primary closes its current WAL segment (through its
   * sidecar), so its backups' receiver completes it and the restore has what the source wrote up to now: the Job
   * waits until the repository has that segment ({@code PGTIDE_SOURCE_SEGMENT}). Its name, or null. The restore
   * Job cannot do it itself (it has neither the cluster's CA nor a path to the primary). A source that is gone or
   * does not answer is no obstacle: the restore then has what was archived, as the Job's log says.
   */
  private Future<String> closeSourceSegment(String ns, String name, String source) {
    return walSwitch.apply(io.pgtide.common.cluster.ClusterKey.text(ns, source))
        .map(segment -> {
          ClusterLog.of(LOG, ns, name).info("closed {}'s current WAL segment {} for the restore", source, segment);
          return segment;
        })
        .recover(e -> {
          ClusterLog.of(LOG, ns, name).warn("could not close {}'s current WAL segment ({}): the restore has what "
              + "was archived", source, e.getMessage());
          return Future.succeededFuture();
        });
  }

  /**
   * bootstrap.recovery of a cluster not created yet: the source exists, declares backups, has its volume, and the
   * target lies in its recoverable range; refused with the reason before anything (Secrets included) is made.
   */
  private Future<Void> recoverySource(PostgresCluster cr) {
    var recovery = cr.getSpec().bootstrap == null ? null : cr.getSpec().bootstrap.recovery;
    if (recovery == null) {
      return Future.succeededFuture();
    }
    String ns = cr.getMetadata().getNamespace();
    return Blocking.call(vertx, () -> {
      if (client.apps().statefulSets().inNamespace(ns).withName(cr.getMetadata().getName()).get() != null) {
        return null; // restored before: the source may change or go now
      }
      if (recovery.s3 != null) {
        // the copy itself is read by the restore Job (its catalogue checks the target); its keys must be here
        Secret keys = client.secrets().inNamespace(ns).withName(recovery.s3.credentialsSecret).get();
        if (keys == null || SecretPasswords.valueOf(keys, "accessKeyId") == null
            || SecretPasswords.valueOf(keys, "secretAccessKey") == null) {
          throw new ReconcileErrors.Refused("RecoverySourceInvalid", "bootstrap.recovery.s3.credentialsSecret "
              + recovery.s3.credentialsSecret + ": no Secret in this namespace with accessKeyId and secretAccessKey");
        }
        return null;
      }
      String problem = ClusterValidation.recoverySourceProblem(recovery,
          client.resources(PostgresCluster.class).inNamespace(ns).withName(recovery.source).get(),
          client.persistentVolumeClaims().inNamespace(ns).withName(BackupAgentModel.name(recovery.source)).get()
              != null, java.time.Instant.now());
      if (problem != null) {
        throw new ReconcileErrors.Refused("RecoverySourceInvalid", problem);
      }
      return null;
    });
  }

  /** The restore container's termination message (its last log lines when it failed). Blocking. */
  private String restoreFailure(String ns, String cluster) {
    return client.pods().inNamespace(ns).withLabel("app.kubernetes.io/name", "pgtide-restore")
        .withLabel("app.kubernetes.io/instance", cluster).list().getItems().stream()
        .flatMap(p -> p.getStatus().getContainerStatuses() == null ? java.util.stream.Stream.empty()
            : p.getStatus().getContainerStatuses().stream())
        .filter(c -> c.getState() != null && c.getState().getTerminated() != null)
        .map(c -> String.valueOf(c.getState().getTerminated().getMessage()).strip())
        .findFirst().orElse("no reason recorded");
  }

  /**
   * spec.backup: the backup agent (its token, volume, Service, NetworkPolicy and Deployment), after the cluster's
   * Service it streams from. Without spec.backup the agent goes and its volume (the repository) stays, like a data
   * volume: backups are deleted by nobody but a person.
   */
  private Future<Void> backupAgentStep(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String agent = BackupAgentModel.name(cr.getMetadata().getName());
    if (cr.getSpec().backup == null) {
      // an unchanged cluster without backups costs reads only; objects of that name it does not own stay
      String uid = cr.getMetadata().getUid();
      return deployments.remove(ns, agent, uid)
          .compose(v -> services.remove(ns, agent, uid))
          .compose(v -> networkPolicies.remove(ns, agent, uid))
          .mapEmpty();
    }
    return Blocking.<Void>call(vertx, () -> {
      createIfMissing(ns, BackupAgentModel.tokenSecret(cr, ClusterSecrets.password(32)));
      createIfMissing(ns, BackupAgentModel.walTokenSecret(cr, ClusterSecrets.password(32)));
      if (client.persistentVolumeClaims().inNamespace(ns).withName(agent).get() == null) {
        client.persistentVolumeClaims().inNamespace(ns).resource(BackupAgentModel.volume(cr)).create();
      }
      return null;
    })
        .compose(v -> clusterTls(cr, BackupAgentModel.tlsSecret(cr.getMetadata().getName()), agent,
            BackupAgentModel.dnsNames(ns, cr.getMetadata().getName()),
            BackupAgentModel.meta(cr, BackupAgentModel.tlsSecret(cr.getMetadata().getName()))))
        .compose(v -> services.reconcile(ns, agent, BackupAgentModel.service(cr)))
        .compose(v -> networkPolicies.reconcile(ns, agent, BackupAgentModel.networkPolicy(cr, config,
            standbys.apply(ns, cr.getMetadata().getName()))))
        .compose(v -> deployments.reconcile(ns, agent, BackupAgentModel.deployment(cr, config)))
        .mapEmpty();
  }

  /**
   * spec.pooler: PgBouncer's credentials (generated once), its certificate from the cluster CA, its ConfigMap,
   * NetworkPolicy, and per pooler (the primary's, the replicas' with {@code replicas: true}) its Service,
   * PodDisruptionBudget and Deployment. A pooler no longer asked for goes (only what this cluster controls); its
   * Secrets stay with the cluster, so a pooler switched on again keeps its password. The role and lookup function
   * on the primary are the per-cluster {@code PoolerClient}'s.
   */
  private Future<Void> poolerStep(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    String uid = cr.getMetadata().getUid();
    List<PoolerModel.Kind> wanted = PoolerModel.kinds(cr);
    Future<?> chain = Future.succeededFuture();
    for (PoolerModel.Kind kind : PoolerModel.Kind.values()) {
      if (!wanted.contains(kind)) {
        String pooler = PoolerModel.name(name, kind);
        chain = chain.compose(v -> deployments.remove(ns, pooler, uid))
            .compose(v -> services.remove(ns, pooler, uid))
            .compose(v -> pdbs.remove(ns, pooler, uid));
      }
    }
    String shared = PoolerModel.sharedName(name);
    if (wanted.isEmpty()) {
      return chain.compose(v -> networkPolicies.remove(ns, shared, uid))
          .compose(v -> configMaps.remove(ns, shared, uid)).mapEmpty();
    }
    chain = chain.compose(v -> Blocking.call(vertx, () -> {
      // a standby's pooler logs in as the source's pgtide_pooler (its data's role) until promoted
      StandbyModel.CredentialSource source = StandbyModel.credentialSource(cr);
      String copied = source == null ? null : sourcePassword(source, PoolerModel.sharedName(source.cluster()));
      createIfMissing(ns, PoolerModel.credentials(cr, copied != null ? copied : ClusterSecrets.password(32)));
      if (!PoolerModel.clientTls(cr)) {
        return "";
      }
      CertificateAuthority clusterCa = clusterCa(cr);
      List<String> names = PoolerModel.dnsNames(cr);
      String tlsName = PoolerModel.tlsSecret(name);
      issuedSecret(cr, tlsName, PoolerModel.meta(cr, tlsName),
          certPem -> ServerCertificates.reissueReason(certPem, clusterCa.caPem(), uid, names, java.time.Instant.now()),
          () -> clusterCa.issueServer(PoolerModel.host(ns, name, PoolerModel.Kind.PRIMARY), names,
              ServerCertificates.uris(cr), ClusterCertificates.VALIDITY));
      return decoded(client.secrets().inNamespace(ns).withName(tlsName).get(), "tls.crt");
    }).compose(certPem -> {
      Future<?> objects = configMaps.reconcile(ns, shared, PoolerModel.configMap(cr))
          .compose(x -> networkPolicies.reconcile(ns, shared, PoolerModel.networkPolicy(cr)));
      for (PoolerModel.Kind kind : wanted) {
        String pooler = PoolerModel.name(name, kind);
        objects = objects.compose(x -> services.reconcile(ns, pooler, PoolerModel.service(cr, kind)))
            .compose(x -> pdbs.reconcile(ns, pooler, PoolerModel.podDisruptionBudget(cr, kind)))
            .compose(x -> deployments.reconcile(ns, pooler, PoolerModel.deployment(cr, config, kind, certPem)));
      }
      return objects;
    }));
    return chain.mapEmpty();
  }

  /**
   * A following standby's copy of what its restore_command needs to fetch the source's archived WAL (the source's
   * WAL token and the operator's CA, {@link StandbyModel#archiveSecret}), made once the source declares backups and
   * kept in step with it. The pods mount it as an optional volume, so none of this rolls them. Never deleted here
   * (the operator has no delete on Secrets): it goes with the cluster, and a token it holds reads only WAL the
   * standby already has a copy of.
   */
  private Future<Void> standbyArchive(PostgresCluster cr) {
    StandbyModel.Source source = StandbyModel.origin(cr);
    if (source == null || !StandbyModel.following(cr)) {
      return Future.succeededFuture();
    }
    String ns = cr.getMetadata().getNamespace();
    String name = StandbyModel.archiveSecret(cr.getMetadata().getName());
    return Blocking.call(vertx, () -> {
      Secret desired;
      if (source.fromS3()) {
        // the copy's keys, in this namespace: without them the standby could neither start nor follow
        Secret keys = client.secrets().inNamespace(ns).withName(source.s3().credentialsSecret).get();
        String id = keys == null ? null : SecretPasswords.valueOf(keys, "accessKeyId");
        String secret = keys == null ? null : SecretPasswords.valueOf(keys, "secretAccessKey");
        if (id == null || secret == null) {
          throw new ReconcileErrors.Refused("StandbySourceInvalid", "standby.s3.credentialsSecret "
              + source.s3().credentialsSecret + ": no Secret in this namespace with accessKeyId and secretAccessKey");
        }
        desired = StandbyModel.s3ArchiveSecret(cr, source.s3(), id, secret);
      } else {
        Secret token = client.secrets().inNamespace(source.namespace())
            .withName(BackupAgentModel.walTokenSecret(source.name())).get();
        String walToken = token == null ? null : SecretPasswords.passwordOf(token);
        if (walToken == null) {
          return null; // the source keeps no backups (yet): the standby follows its stream alone
        }
        desired = StandbyModel.archiveSecret(cr, walToken, ca.caPem());
      }
      var r = client.secrets().inNamespace(ns).withName(name);
      Secret existing = r.get();
      if (existing == null) {
        client.secrets().inNamespace(ns).resource(desired).create();
      } else if (desired.getStringData().entrySet().stream()
          .anyMatch(e -> !e.getValue().equals(decoded(existing, e.getKey())))) {
        LOG.info("[{}/{}] {}: the source's WAL token or the operator's CA changed", ns, cr.getMetadata().getName(),
            name);
        io.vertx.core.json.JsonObject data = new io.vertx.core.json.JsonObject();
        desired.getStringData().forEach((k, v) -> data.put(k, base64(v)));
        r.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
            io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            new io.vertx.core.json.JsonObject().put("data", data).encode());
      }
      return null;
    });
  }

  private void createIfMissing(String ns, Secret s) {
    if (client.secrets().inNamespace(ns).withName(s.getMetadata().getName()).get() == null) {
      client.secrets().inNamespace(ns).resource(s).create();
    }
  }

  /**
   * Created when missing, never updated: a Secret's password is generated once (or provided by the user). A
   * restored cluster has its source's roles, and a standby cluster a copy of its source's data: both take the
   * source's passwords ({@link StandbyModel#credentialSource}), read only for a Secret still to be made (a source
   * deleted after that changes nothing). A restore from a deleted cluster's backup volume gets new passwords: its
   * restore Job sets them on the restored roles before Patroni starts.
   */
  private Future<Void> credentialSecrets(PostgresCluster cr) {
    return Blocking.call(vertx, () -> {
      String ns = cr.getMetadata().getNamespace();
      String name = cr.getMetadata().getName();
      StandbyModel.CredentialSource source = StandbyModel.credentialSource(cr);
      for (String user : List.of("postgres", "standby")) {
        String secret = io.pgtide.operator.users.UserSecrets.secretName(user, name);
        if (client.secrets().inNamespace(ns).withName(secret).get() != null) {
          continue;
        }
        String password = source == null || detachedRepository(cr, source) ? ClusterSecrets.password(24)
            : sourcePassword(source, io.pgtide.operator.users.UserSecrets.secretName(user, source.cluster()));
        if (password == null) {
          throw new ReconcileErrors.Refused(source.reason(), "the credentials of " + source.namespace() + "/"
              + source.cluster() + " (the copied roles log in with them) are not readable"
              + (StandbyModel.origin(cr) != null && StandbyModel.origin(cr).fromS3() ? ": for a standby of its S3 "
                  + "copy, create the Secrets " + io.pgtide.operator.users.UserSecrets.secretName("postgres", name)
                  + " and " + io.pgtide.operator.users.UserSecrets.secretName("standby", name) + " in " + ns
                  + " with the source's passwords of postgres and standby (key password)" : ""));
        }
        client.secrets().inNamespace(ns).resource(ClusterModel.credentials(cr, secret, user, password)).create();
      }
      return null;
    });
  }

  /**
   * A restore whose source cluster is gone: its backup volume is what {@link #recoverySource} found (a restore from
   * S3 has no credential source at all). Blocking.
   */
  private boolean detachedRepository(PostgresCluster cr, StandbyModel.CredentialSource source) {
    return cr.getSpec().bootstrap != null && cr.getSpec().bootstrap.recovery != null
        && client.resources(PostgresCluster.class).inNamespace(source.namespace()).withName(source.cluster()).get()
        == null;
  }

  /**
   * The password in the source cluster's Secret {@code secret}; null when it has none, or when this operator may
   * not read Secrets there (a namespaced install: the refusal then says which Secrets to make). Blocking.
   */
  private String sourcePassword(StandbyModel.CredentialSource source, String secret) {
    try {
      Secret s = client.secrets().inNamespace(source.namespace()).withName(secret).get();
      return s == null ? null : SecretPasswords.passwordOf(s);
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() == 403) {
        return null;
      }
      throw e;
    }
  }

  /**
   * The sidecars' client certificate (CN namespace/cluster/*, bound to the cluster's uid), issued from the operator's
   * CA; see {@link #clusterTls}.
   */
  private Future<Void> sidecarTls(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    return clusterTls(cr, ClusterModel.sidecarTlsSecret(name), ns + "/" + name + "/*", List.of(),
        ClusterModel.meta(cr, ClusterModel.sidecarTlsSecret(name)));
  }

  /**
   * A certificate of the cluster's (bound to its uid) in a TLS Secret, issued from the operator's CA, and issued
   * again into the same Secret when {@link ClusterCertificates#reissueReason} says so (before it expires, after the
   * CA changed, or when it is not bound to this cluster's uid): the kubelet updates the mounted files, and the
   * sidecar (at its next connection) and the backup agent (within a minute) use them without a restart.
   */
  private Future<Void> clusterTls(PostgresCluster cr, String name, String commonName, List<String> dnsNames,
                                  io.fabric8.kubernetes.api.model.ObjectMeta meta) {
    String uid = cr.getMetadata().getUid();
    return Blocking.call(vertx, () -> {
      issuedSecret(cr, name, meta,
          certPem -> ClusterCertificates.reissueReason(certPem, ca.caPem(), uid, java.time.Instant.now()),
          () -> ca.issue(commonName, dnsNames, uid == null ? List.of() : List.of(ClusterCertificates.uidUri(uid)),
              ClusterCertificates.VALIDITY));
      return null;
    });
  }

  /**
   * PostgreSQL's server certificate (issue #32): the cluster's own CA (created once into {@link
   * ServerCertificates#caSecret}), its certificate published in the ConfigMap {@code <c>-ca}, and a serverAuth
   * certificate for the Services' names in {@link ServerCertificates#tlsSecret}, issued again as
   * {@link ServerCertificates#reissueReason} says. Runs before the StatefulSet, whose pods mount that Secret.
   */
  private Future<Void> serverTls(PostgresCluster cr) {
    if (cr.getSpec().tls != null) {
      return providedServerTls(cr);
    }
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    String uid = cr.getMetadata().getUid();
    return Blocking.call(vertx, () -> {
      CertificateAuthority clusterCa = clusterCa(cr);
      caConfigMap(cr, clusterCa.caPem());
      List<String> names = ServerCertificates.dnsNames(ns, name);
      issuedSecret(cr, ServerCertificates.tlsSecret(name), ClusterModel.meta(cr, ServerCertificates.tlsSecret(name)),
          certPem -> ServerCertificates.reissueReason(certPem, clusterCa.caPem(), uid, names, java.time.Instant.now()),
          () -> clusterCa.issueServer(ServerCertificates.commonName(ns, name), names, ServerCertificates.uris(cr),
              ClusterCertificates.VALIDITY));
      return null;
    });
  }

  /**
   * A server certificate the user keeps ({@code spec.tls.secretName}, cert-manager's for instance): read, never
   * written. A missing or unusable one stops the reconcile before the StatefulSet with a Degraded condition that
   * says why (a pod mounting a missing Secret would hang in ContainerCreating, PostgreSQL would refuse a broken
   * one); a good one's {@code ca.crt} is published in {@code <c>-ca} for clients and the backup agent, and followed
   * there at each reconcile as the user renews it. The kubelet updates the mounted files and the sidecar reloads
   * PostgreSQL, as with pgtide's own certificate.
   */
  private Future<Void> providedServerTls(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    String secretName = cr.getSpec().tls.secretName;
    return Blocking.call(vertx, () -> {
      Secret secret = client.secrets().inNamespace(ns).withName(secretName).get();
      if (secret == null) {
        throw new ReconcileErrors.Refused("ServerTlsSecretNotFound", "spec.tls.secretName: Secret " + secretName
            + " not found in namespace " + ns + "; the members wait for it");
      }
      String caPem = decoded(secret, "ca.crt");
      String problem = ServerCertificates.providedProblem(secretName, decoded(secret, "tls.crt"),
          decoded(secret, "tls.key"), caPem, ns, name, java.time.Instant.now());
      if (problem != null) {
        throw new ReconcileErrors.Refused("ServerTlsSecretInvalid", problem);
      }
      caConfigMap(cr, caPem);
      return null;
    });
  }

  /**
   * The cluster's CA from its Secret, made (and stored) when there is none. One that is there but unreadable is
   * replaced: nothing could be issued from it, and clients get the new one through {@code <c>-ca}.
   */
  private CertificateAuthority clusterCa(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String secretName = ServerCertificates.caSecret(cr.getMetadata().getName());
    var r = client.secrets().inNamespace(ns).withName(secretName);
    Secret existing = r.get();
    if (existing != null) {
      try {
        return CertificateAuthority.load(new TlsMaterial(decoded(existing, "ca.crt"), decoded(existing, "ca.key"),
            decoded(existing, "ca.crt")));
      } catch (IllegalArgumentException e) {
        ClusterLog.of(LOG, ns, cr.getMetadata().getName()).warn(
            "the cluster CA in {} is not readable; making a new one (clients need the new {})",
            secretName, ServerCertificates.caConfigMap(cr.getMetadata().getName()));
      }
    }
    CertificateAuthority made = CertificateAuthority.create(
        "pgtide " + ns + "/" + cr.getMetadata().getName() + " server CA", ServerCertificates.CA_VALIDITY);
    TlsMaterial m = made.caMaterial();
    Secret secret = new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withMetadata(ClusterModel.meta(cr, secretName)).withType("Opaque")
        .addToStringData("ca.crt", m.certPem()).addToStringData("ca.key", m.keyPem()).build();
    if (existing == null) {
      client.secrets().inNamespace(ns).resource(secret).create();
    } else {
      r.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
          io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), new io.vertx.core.json.JsonObject()
          .put("data", new io.vertx.core.json.JsonObject().put("ca.crt", base64(m.certPem()))
              .put("ca.key", base64(m.keyPem()))).encode());
    }
    return made;
  }

  /** The ConfigMap {@code <c>-ca} with the CA certificate: created, or patched when it holds another. */
  private void caConfigMap(PostgresCluster cr, String caPem) {
    String ns = cr.getMetadata().getNamespace();
    String cmName = ServerCertificates.caConfigMap(cr.getMetadata().getName());
    var r = client.configMaps().inNamespace(ns).withName(cmName);
    var existing = r.get();
    if (existing == null) {
      client.configMaps().inNamespace(ns).resource(ClusterModel.caConfigMap(cr, caPem)).create();
    } else if (existing.getData() == null || !caPem.equals(existing.getData().get(ServerCertificates.CA_KEY))) {
      r.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
          io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), new io.vertx.core.json.JsonObject()
          .put("data", new io.vertx.core.json.JsonObject().put(ServerCertificates.CA_KEY, caPem)).encode());
    }
  }

  /**
   * A certificate of the cluster's in a TLS Secret: created when missing, issued again into the same Secret when
   * {@code reason} gives one (a merge patch of its three keys, nothing else). Blocking.
   */
  private void issuedSecret(PostgresCluster cr, String name, io.fabric8.kubernetes.api.model.ObjectMeta meta,
                            java.util.function.Function<String, String> reason,
                            java.util.function.Supplier<TlsMaterial> issue) {
    String ns = cr.getMetadata().getNamespace();
    var r = client.secrets().inNamespace(ns).withName(name);
    Secret existing = r.get();
    String why = existing == null ? null : reason.apply(decoded(existing, "tls.crt"));
    if (existing != null && why == null) {
      return;
    }
    TlsMaterial m = issue.get();
    if (existing == null) {
      client.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
          .withMetadata(meta).withType("kubernetes.io/tls")
          .addToStringData("tls.crt", m.certPem()).addToStringData("tls.key", m.keyPem())
          .addToStringData("ca.crt", m.caPem()).build()).create();
    } else {
      LOG.info("[{}/{}] issuing {} again: {}", ns, cr.getMetadata().getName(), name, why);
      r.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
          io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), new io.vertx.core.json.JsonObject()
          .put("data", new io.vertx.core.json.JsonObject().put("tls.crt", base64(m.certPem()))
              .put("tls.key", base64(m.keyPem())).put("ca.crt", base64(m.caPem()))).encode());
    }
  }

  private static String base64(String text) {
    return java.util.Base64.getEncoder().encodeToString(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** A key of a Secret as text ("" when absent: then the certificate is unreadable and issued again). */
  private static String decoded(Secret s, String key) {
    if (s.getData() != null && s.getData().get(key) != null) {
      return new String(java.util.Base64.getDecoder().decode(s.getData().get(key)),
          java.nio.charset.StandardCharsets.UTF_8);
    }
    return s.getStringData() == null ? "" : s.getStringData().getOrDefault(key, "");
  }

  /** An unknown storage class is a clear Degraded reason, not a StatefulSet whose pods hang Pending forever. */
  private Future<Void> storageClass(PostgresCluster cr) {
    String sc = cr.getSpec().storage.storageClass;
    if (sc == null) {
      return Future.succeededFuture();
    }
    return Blocking.call(vertx, () -> client.storage().v1().storageClasses().withName(sc).get())
        .compose(found -> found != null ? Future.<Void>succeededFuture()
            : Future.<Void>failedFuture(new ReconcileErrors.Refused("StorageClassNotFound",
                "storage class " + sc + " does not exist")));
  }

  /** A missing pull secret is a clear Degraded reason, not pods stuck in ImagePullBackOff. */
  private Future<Void> imagePullSecrets(PostgresCluster cr) {
    List<String> names = cr.getSpec().imagePullSecrets;
    if (names == null || names.isEmpty()) {
      return Future.succeededFuture();
    }
    String ns = cr.getMetadata().getNamespace();
    return Blocking.call(vertx, () -> names.stream().filter(n -> client.secrets().inNamespace(ns).withName(n).get()
            == null).toList())
        .compose(missing -> missing.isEmpty() ? Future.<Void>succeededFuture()
            : Future.<Void>failedFuture(new ReconcileErrors.Refused("ImagePullSecretNotFound",
                "image pull secret(s) " + missing + " not found in namespace " + ns)));
  }

  private Future<Void> delete(PostgresCluster cr) {
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    boolean deleteVolumes = cr.getSpec() != null && cr.getSpec().storage != null
        && "Delete".equals(cr.getSpec().storage.pvcRetention);
    return Blocking.call(vertx, () -> {
      if (deleteVolumes) {
        // this cluster's member volumes only (name and pgtide's labels): a Zalando cluster's claims carry the
        // member labels too, and a label selector alone would delete them
        for (PersistentVolumeClaim c : client.persistentVolumeClaims().inNamespace(ns)
            .withLabels(MemberSelector.of(name).labels()).list().getItems()) {
          if (Ownership.memberVolume(c, name)) {
            client.persistentVolumeClaims().inNamespace(ns).withName(c.getMetadata().getName()).delete();
          }
        }
      }
      client.resources(PostgresCluster.class).inNamespace(ns).withName(name).edit(c -> {
        c.getMetadata().getFinalizers().remove(FINALIZER);
        return c;
      });
      ClusterLog.of(LOG, ns, name).info("deleted; volumes {}", deleteVolumes ? "deleted" : "retained");
      return null;
    });
  }

  /**
   * Writes what reconciling decides: observedGeneration, replicas, selector, the {@code Degraded} condition (True
   * with the reason and the API server's message when a step was refused) and, when the ownership check ran
   * ({@code conflicted} not null), the {@code Conflict} condition; only when they changed. Ready and the phase
   * follow the members, not the objects: {@link ClusterControllers#writeStatus} writes them.
   */
  private Future<Void> status(PostgresCluster cr, String failureReason, String failureMessage, Boolean conflicted) {
    PostgresClusterStatus old = cr.getStatus();
    PostgresClusterStatus s = old == null ? new PostgresClusterStatus()
        : io.fabric8.kubernetes.client.utils.Serialization.clone(old);
    s.observedGeneration = cr.getMetadata().getGeneration();
    if (cr.getSpec() != null) { // none without a spec (InvalidSpec)
      s.replicas = ClusterModel.members(cr);
    }
    s.selector = ClusterModel.selector(cr.getMetadata().getName());
    boolean degraded = failureReason != null;
    ClusterStatusModel.condition(s, "Degraded", degraded ? "True" : "False", degraded ? failureReason : "Reconciled",
        degraded ? failureMessage : "every owned object is applied", Instant.now());
    if (conflicted != null) {
      ClusterStatusModel.conflict(s, conflicted ? failureReason : null, failureMessage, Instant.now());
    }
    List<String> written = conflicted != null ? List.of("Degraded", Ownership.CONDITION) : List.of("Degraded");
    if (degraded) {
      s.phase = "Degraded";
    } else if ("Degraded".equals(s.phase) || s.phase == null) {
      s.phase = "Pending";
    }
    if (old != null && same(old, s)) {
      return Future.succeededFuture();
    }
    return statusWriter.cluster(cr.getMetadata().getNamespace(), cr.getMetadata().getName(), fresh -> {
      // the controllers own the other conditions: keep theirs as the server has them now
      List<PostgresClusterStatus.Condition> conditions = new ArrayList<>(fresh.conditions.stream()
          .filter(x -> !written.contains(x.type)).toList());
      conditions.addAll(s.conditions.stream().filter(x -> written.contains(x.type)).toList());
      conditions.sort(java.util.Comparator.comparing(x -> x.type));
      fresh.observedGeneration = s.observedGeneration;
      if (degraded || "Degraded".equals(fresh.phase) || fresh.phase == null) {
        fresh.phase = s.phase;
      }
      fresh.replicas = s.replicas;
      fresh.selector = s.selector;
      fresh.conditions = conditions;
      return fresh;
    }).mapEmpty();
  }

  private static boolean same(PostgresClusterStatus a, PostgresClusterStatus b) {
    return io.fabric8.kubernetes.client.utils.Serialization.asJson(a)
        .equals(io.fabric8.kubernetes.client.utils.Serialization.asJson(b));
  }
}
