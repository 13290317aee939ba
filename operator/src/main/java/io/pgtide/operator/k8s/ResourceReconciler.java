package io.pgtide.operator.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Iterator;
import java.util.Map;

/**
 * One generic {@code reconcile(ns, name, desired)} per kind: creates or repairs one owned object ({@code remove}
 * deletes it).
 * A missing object is created, an existing one is written by server-side apply under the field manager
 * {@value #FIELD_MANAGER} (forcing our own fields back, which is what repairs drift); writes happen only on a real
 * difference: when every field we declare already has
 * our value on the server ({@link #containedIn}), the reconcile costs one GET and no write, whatever the API
 * server defaulted or other managers added. An object of that name that this cluster does not own is never
 * written: pgtide takes over nothing it did not create ({@link Ownership}).
 */
public final class ResourceReconciler<T extends HasMetadata> {
  public static final String FIELD_MANAGER = "pgtide-operator";
  private final Vertx vertx;
  private final KubernetesClient client;
  private final Class<T> kind;

  public ResourceReconciler(Vertx vertx, KubernetesClient client, Class<T> kind) {
    this.vertx = vertx;
    this.client = client;
    this.kind = kind;
  }

  public enum Outcome { CREATED, UPDATED, UNCHANGED, DELETED, ABSENT }

  /**
   * Creates or repairs {@code desired}. An existing object with its name that is not this cluster's (see
   * {@link Ownership#conflict}) is left exactly as it is and the reconcile fails with {@link Ownership.NotOwned}.
   */
  public Future<Outcome> reconcile(String namespace, String name, T desired) {
    return Blocking.call(vertx, () -> {
      var resource = client.resources(kind).inNamespace(namespace).withName(name);
      T current = resource.get();
      if (current != null && Ownership.conflict(current, desired) != null) {
        throw new Ownership.NotOwned(java.util.List.of(current));
      }
      if (current != null && containedIn(Serialization.jsonMapper().valueToTree(desired),
          Serialization.jsonMapper().valueToTree(current))) {
        return Outcome.UNCHANGED;
      }
      desired.getMetadata().setResourceVersion(null);
      desired.getMetadata().setManagedFields(null);
      if (current == null) {
        client.resources(kind).inNamespace(namespace).resource(desired).create();
        return Outcome.CREATED;
      }
      client.resources(kind).inNamespace(namespace).resource(desired).fieldManager(FIELD_MANAGER).forceConflicts()
          .serverSideApply();
      return Outcome.UPDATED;
    });
  }

  /** Deletes the object only when the PostgresCluster with {@code ownerUid} controls it; anything else stays. */
  public Future<Outcome> remove(String namespace, String name, String ownerUid) {
    return Blocking.call(vertx, () -> {
      var resource = client.resources(kind).inNamespace(namespace).withName(name);
      T current = resource.get();
      if (current == null || !Ownership.controlledBy(current, ownerUid)) {
        return Outcome.ABSENT;
      }
      resource.delete();
      return Outcome.DELETED;
    });
  }

  /**
   * Whether the server's object already holds every value the desired one declares: objects by field (extra
   * fields on the server are defaults or other managers' and do not count), arrays element by element and of the
   * same length (an extra element is drift), scalars by their text (so 5432 and "5432" are one value).
   */
  static boolean containedIn(JsonNode desired, JsonNode current) {
    if (desired == null || desired.isNull()) {
      return true;
    }
    if (current == null || current.isNull() || current.isMissingNode()) {
      return desired.isObject() && desired.isEmpty() || desired.isArray() && desired.isEmpty();
    }
    if (desired.isObject()) {
      if (!current.isObject()) {
        return false;
      }
      Iterator<Map.Entry<String, JsonNode>> fields = desired.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        if (!containedIn(f.getValue(), current.get(f.getKey()))) {
          return false;
        }
      }
      return true;
    }
    if (desired.isArray()) {
      if (!current.isArray() || current.size() != desired.size()) {
        return false;
      }
      for (int i = 0; i < desired.size(); i++) {
        if (!containedIn(desired.get(i), current.get(i))) {
          return false;
        }
      }
      return true;
    }
    return !current.isContainerNode() && desired.asText().equals(current.asText());
  }
}
