package io.pgtide.operator.k8s.api;

import io.pgtide.operator.k8s.model.MemberSelector;
import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.common.cluster.ClusterKey;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.MemberId;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.infra.Infrastructure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes side of the {@link Infrastructure} port. The primary and replica Services select on the
 * {@code spilo-role} label Patroni sets, so pointing them needs no write; the member count is the StatefulSet's
 * replicas. Fencing and confirmed death go through the member's own sidecar, which shares its pod's process
 * namespace: it kills and confirms, or only looks; only a confirmed death releases Patroni's leader lock, with a
 * compare-and-swap on the lock's ConfigMap. A pod is never force-deleted: the API server would forget it before its
 * containers are dead, and on a partitioned node the StatefulSet's one-pod-per-name guarantee would break.
 */
public final class KubernetesInfrastructure implements Infrastructure {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesInfrastructure.class);
  private static final long FENCE_TIMEOUT_MS = 10_000;
  private static final long PROBE_TIMEOUT_MS = 2_000;

  private final Vertx vertx;
  private final KubernetesClient client;
  private final CommandClient commands;

  private java.util.function.BooleanSupplier leading = () -> true;
  private StatusWriter status;

  public KubernetesInfrastructure(Vertx vertx, KubernetesClient client) {
    this.vertx = vertx;
    this.client = client;
    this.commands = new CommandClient(vertx);
    this.status = new StatusWriter(client, () -> leading.getAsBoolean());
  }

  /** Writes {@code status.desiredReplicas} through the operator's one status writer (its own otherwise). */
  public KubernetesInfrastructure writingStatusWith(StatusWriter writer) {
    this.status = writer;
    return this;
  }

  /** Acts (fences, releases a lock) only while this holds: a replica that is no longer sure it leads does nothing. */
  public KubernetesInfrastructure leadingWhile(java.util.function.BooleanSupplier leading) {
    this.leading = leading;
    return this;
  }

  private static <T> Future<T> notLeading() {
    return Future.failedFuture("this operator replica has not renewed its Lease in time; it does not act");
  }

  @Override
  public Future<Void> pointPrimary(String clusterKey, String member) {
    return Future.succeededFuture(); // Patroni labels the new primary spilo-role=master; the Service follows
  }

  @Override
  public Future<Void> pointReplicas(String clusterKey, List<String> members) {
    return Future.succeededFuture();
  }

  /**
   * The member's sidecar SIGKILLs its Patroni and PostgreSQL and confirms those processes gone; then the leader is
   * handed over and its lock released if it still names the member ({@link #releaseLeaderLock}). Spilo's runit
   * starts a new Patroni in the same container within a second (the sidecar lists it apart, as "restarted"); it
   * defers to Patroni's failover key and rejoins as a replica. Fails, changing nothing, when the sidecar cannot be
   * reached or cannot confirm.
   */
  @Override
  public Future<Void> fence(String clusterKey, String member) {
    if (!leading.getAsBoolean()) {
      return notLeading();
    }
    MemberId id = memberId(clusterKey, member);
    return commands.send(id, new CommandPayload.Fence(), FENCE_TIMEOUT_MS).compose(r -> {
      if (!r.ok() || !r.detail().getBoolean("confirmed", false)) {
        return Future.failedFuture(new IllegalStateException("fencing " + member + " through its sidecar was not "
            + "confirmed (" + describe(r) + "); its pod is left alone and Patroni's ttl decides"));
      }
      ClusterLog.of(LOG, clusterKey).info("fenced {}: killed {}", member, r.detail().getJsonArray("killed"));
      return Blocking.call(vertx, () -> releaseLeaderLock(id)).map(released -> {
        ClusterLog.of(LOG, clusterKey).info("leader lock of {} {}", member,
            released ? "released" : "not its own any more");
        return null;
      });
    });
  }

  /** The member's sidecar looks: neither Patroni nor PostgreSQL runs in the pod. Then the lock, as for a fence. */
  @Override
  public Future<Boolean> releaseIfDead(String clusterKey, String member) {
    if (!leading.getAsBoolean()) {
      return notLeading();
    }
    MemberId id = memberId(clusterKey, member);
    return commands.send(id, new CommandPayload.ProbeProcesses(), PROBE_TIMEOUT_MS).compose(r -> {
      if (!r.ok() || !r.detail().getBoolean("dead", false)) {
        return Future.succeededFuture(false); // alive, or nobody to confirm (node lost): the ttl decides
      }
      return Blocking.call(vertx, () -> releaseLeaderLock(id));
    });
  }

  /**
   * Hands the leadership of a member confirmed dead to the others, as Patroni's own switchover does, and releases its
   * leader lock in the Kubernetes DCS (ConfigMap {@code <cluster>-leader}, annotation {@code leader}):
   * <ol>
   *   <li>only while the lock names {@code id}'s member;</li>
   *   <li>first Patroni's failover key ({@code <cluster>-failover}, annotation {@code leader}: the dead member, no
   *       candidate): Spilo's runit restarts a killed Patroni within a second, and without the key that Patroni,
   *       finding the lock free, could win the election again with the data it had. With it, the old leader defers
   *       to any healthy member, the others race among themselves, and the new leader removes the key;</li>
   *   <li>then compare-and-delete of the lock, as Patroni itself releases it: only if nobody wrote the ConfigMap
   *       since we read it (its resourceVersion in the patch is the precondition).</li>
   * </ol>
   * False when the lock is someone else's or changed under us (a failover key naming a member that does not lead
   * is removed by the leader, as Patroni does with a stale one).
   */
  boolean releaseLeaderLock(MemberId id) {
    String name = id.cluster() + "-leader";
    ConfigMap lock = client.configMaps().inNamespace(id.namespace()).withName(name).get();
    Map<String, String> annotations = lock == null || lock.getMetadata().getAnnotations() == null ? Map.of()
        : lock.getMetadata().getAnnotations();
    if (!id.member().equals(annotations.get("leader"))) {
      return false;
    }
    handOverFrom(id);
    JsonObject patch = new JsonObject().put("metadata", new JsonObject()
        .put("resourceVersion", lock.getMetadata().getResourceVersion())
        .put("annotations", new JsonObject().putNull("leader")));
    try {
      client.configMaps().inNamespace(id.namespace()).withName(name)
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch.encode());
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return false;
      }
      throw e;
    }
  }

  /** Patroni's failover key naming {@code id}'s member as the leader that steps down, with no candidate. */
  private void handOverFrom(MemberId id) {
    String name = id.cluster() + "-failover";
    JsonObject annotations = new JsonObject().put("leader", id.member()).putNull("member").putNull("scheduled_at");
    ConfigMap existing = client.configMaps().inNamespace(id.namespace()).withName(name).get();
    if (existing == null) {
      // labelled like Patroni's other ConfigMaps (KUBERNETES_LABELS and the scope label), or Patroni never lists it
      client.configMaps().inNamespace(id.namespace()).resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
          .withNewMetadata().withName(name).withNamespace(id.namespace())
          .withLabels(MemberSelector.of(id.cluster()).labels())
          .addToAnnotations("leader", id.member()).endMetadata().build()).create();
    } else {
      client.configMaps().inNamespace(id.namespace()).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
          new JsonObject().put("metadata", new JsonObject().put("annotations", annotations)).encode());
    }
  }

  private static MemberId memberId(String clusterKey, String member) {
    ClusterKey k = ClusterKey.parse(clusterKey);
    return new MemberId(k.namespace(), k.name(), member);
  }

  private static String describe(CommandResult r) {
    if (!r.ok()) {
      return r.errorCode() + ": " + r.errorMessage();
    }
    return "still running: " + r.detail().getJsonArray("left") + (r.detail().containsKey("refused")
        ? ", signal refused for " + r.detail().getJsonArray("refused") : "");
  }

  /**
   * The autoscaler's member count: first into the cluster's {@code status.desiredReplicas} (so the reconciler keeps
   * it instead of resetting to {@code spec.replicas}; spec stays the user's, for GitOps), then the StatefulSet.
   */
  @Override
  public Future<Void> scale(String clusterKey, int members) {
    ClusterKey k = ClusterKey.parse(clusterKey);
    return status.cluster(k.namespace(), k.name(), s -> {
      s.desiredReplicas = members;
      return s;
    }).compose(written -> Blocking.call(vertx, () -> {
      client.apps().statefulSets().inNamespace(k.namespace()).withName(k.name()).scale(members);
      return null;
    }));
  }

  @Override
  public Future<List<String>> members(String clusterKey) {
    ClusterKey k = ClusterKey.parse(clusterKey);
    return Blocking.call(vertx, () -> client.pods().inNamespace(k.namespace())
        .withLabels(MemberSelector.of(k.name()).labels()).list().getItems().stream()
        .map(Pod::getMetadata).map(m -> m.getName()).sorted(Comparator.naturalOrder()).toList());
  }
}
