package io.pgtide.operator.k8s.api;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.common.crd.PostgresUser;
import io.pgtide.common.crd.PostgresUserStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * The one writer of PostgresCluster and PostgresUser status (issue #30). Each part of the operator with something to
 * say hands it a change of the status as the server holds it now: the reconciler ({@code Degraded}, {@code Conflict},
 * {@code observedGeneration}), the controllers (members, {@code Ready}, users, backup, requests), the infrastructure
 * ({@code desiredReplicas}) and the incident store ({@code failover}, {@code lastFailover}). It writes them one at a
 * time on a thread of its own, so no two parts of this process race on a status; each change is applied to a copy
 * read just before, nothing is written when it changes nothing, and the write is a patch of the difference, so a
 * field a change removes is removed on the server. Only while this replica leads: a replica that resumes after a
 * freeze must not write what it decided before it lost the Lease.
 */
public final class StatusWriter implements AutoCloseable {
  private final KubernetesClient client;
  private final BooleanSupplier leading;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pgtide-status-writer");
    t.setDaemon(true);
    return t;
  });

  public StatusWriter(KubernetesClient client, BooleanSupplier leading) {
    this.client = client;
    this.leading = leading;
  }

  /** Applies {@code change} to the cluster's status; true when something was written, false for no such cluster. */
  public Future<Boolean> cluster(String namespace, String name, UnaryOperator<PostgresClusterStatus> change) {
    return queued(() -> write(PostgresCluster.class, PostgresClusterStatus.class, namespace, name,
        PostgresClusterStatus::new, change));
  }

  /** Applies {@code change} to a PostgresUser's status, as {@link #cluster}. */
  public Future<Boolean> user(String namespace, String name, UnaryOperator<PostgresUserStatus> change) {
    return queued(() -> write(PostgresUser.class, PostgresUserStatus.class, namespace, name, PostgresUserStatus::new,
        change));
  }

  private Future<Boolean> queued(java.util.concurrent.Callable<Boolean> write) {
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    thread.execute(() -> {
      try {
        done.complete(write.call());
      } catch (Throwable e) {
        done.completeExceptionally(e);
      }
    });
    // completed back on the caller's context, as a Vert.x blocking call would be
    var context = Vertx.currentContext();
    return context == null ? Future.fromCompletionStage(done) : Future.fromCompletionStage(done, context);
  }

  private <T extends CustomResource<?, S>, S> boolean write(Class<T> kind, Class<S> statusClass, String namespace,
                                                           String name, java.util.function.Supplier<S> empty,
                                                           UnaryOperator<S> change) {
    var resource = client.resources(kind).inNamespace(namespace).withName(name);
    T current = resource.get();
    if (current == null) {
      return false;
    }
    String before = current.getStatus() == null ? null : Serialization.asJson(current.getStatus());
    S copy = before == null ? empty.get() : Serialization.unmarshal(before, statusClass);
    S after = change.apply(copy);
    String written = Serialization.asJson(after);
    if (Objects.equals(before, written)) {
      return false;
    }
    if (!leading.getAsBoolean()) {
      throw new IllegalStateException("this operator replica no longer leads; the status of " + namespace + "/"
          + name + " is not written");
    }
    resource.editStatus(c -> {
      c.setStatus(Serialization.unmarshal(written, statusClass));
      return c;
    });
    return true;
  }

  @Override
  public void close() {
    thread.shutdown();
  }
}
