package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.api.Blocking;
import io.pgtide.operator.k8s.model.Ownership;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Iterator;
import java.util.Map;

/**
 * One generic {@code reconcile(ns, name, desired)} per kind: creates or repairs one owned object ({@code remove}
 * deletes it).
 * Both creation and every later write are server-side apply under the field manager {@value #FIELD_MANAGER},
 * forcing conflicts (which is what repairs drift). Because an apply owns exactly the fields it declares, a field
 * dropped from the desired object is dropped on the server too: a removed limit, label or annotation goes.
 *
 * <p>Writes happen only on a real difference ({@link #unchanged}): the object carries the fingerprint of what pgtide
 * last applied ({@value #APPLIED}), and every value it declares is still on the server. A changed desired object
 * (a field added, changed or removed) changes the fingerprint; drift by somebody else fails the containment. So an
 * unchanged reconcile costs one GET and no write, whatever the API server defaulted or other managers added. An
 * object of that name that this cluster does not own is never written: pgtide takes over nothing it did not create
 * ({@link Ownership}).
 */
public final class ResourceReconciler<T extends HasMetadata> {
  public static final String FIELD_MANAGER = "pgtide-operator";
  /** The annotation holding the fingerprint of the desired object pgtide last applied. */
  public static final String APPLIED = "pgtide.io/applied";
  private static final ObjectMapper CANONICAL = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
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
      T current = client.resources(kind).inNamespace(namespace).withName(name).get();
      if (current != null && Ownership.conflict(current, desired) != null) {
        throw new Ownership.NotOwned(java.util.List.of(current));
      }
      desired.getMetadata().setResourceVersion(null);
      desired.getMetadata().setManagedFields(null);
      stamp(desired);
      if (current != null && unchanged(Serialization.jsonMapper().valueToTree(desired),
          Serialization.jsonMapper().valueToTree(current))) {
        return Outcome.UNCHANGED;
      }
      // one object that appeared between the GET and this apply is taken over: the ownership check is as old as
      // the GET, the same window every get-then-write has
      apply(client, namespace, desired);
      return current == null ? Outcome.CREATED : Outcome.UPDATED;
    });
  }

  /** Server-side apply of {@code desired} under pgtide's field manager, forcing conflicts. Blocking. */
  static <R extends HasMetadata> R apply(KubernetesClient client, String namespace, R desired) {
    try {
      return client.resource(desired).inNamespace(namespace).fieldManager(FIELD_MANAGER).forceConflicts()
          .serverSideApply();
    } catch (KubernetesClientException e) {
      // a real API server applies (creating a missing object). fabric8's mock server, the *MockTest tier, cannot:
      // it answers 404 for a missing object and 415 for an apply patch; there, and only there, the object is
      // created, or merged (which removes nothing: removals are proven on the real tier, RemovalK8sE2E)
      if (e.getCode() == 404 && client.resource(desired).inNamespace(namespace).get() == null) {
        return client.resource(desired).inNamespace(namespace).create();
      }
      if (e.getCode() == 415) {
        return client.resource(desired).inNamespace(namespace)
            .patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(desired));
      }
      throw e;
    }
  }

  /** Writes the fingerprint of {@code desired} (without its own annotation) into its {@value #APPLIED}. */
  static void stamp(HasMetadata desired) {
    Map<String, String> annotations = desired.getMetadata().getAnnotations() == null ? new java.util.TreeMap<>()
        : new java.util.TreeMap<>(desired.getMetadata().getAnnotations());
    annotations.remove(APPLIED);
    desired.getMetadata().setAnnotations(annotations);
    String print = fingerprint(Serialization.jsonMapper().valueToTree(desired));
    annotations.put(APPLIED, print);
  }

  /**
   * The SHA-256 of {@code desired}'s canonical JSON (keys sorted, {@value #APPLIED} left out), in hex: equal for
   * equal objects whatever the order their maps were built in.
   */
  static String fingerprint(JsonNode desired) {
    JsonNode copy = desired.deepCopy();
    JsonNode annotations = copy.path("metadata").path("annotations");
    if (annotations instanceof ObjectNode o) {
      o.remove(APPLIED);
      if (o.isEmpty()) { // no annotation but ours: the same object as one without annotations
        ((ObjectNode) copy.get("metadata")).remove("annotations");
      }
    }
    try {
      byte[] canonical = CANONICAL.writeValueAsBytes(CANONICAL.treeToValue(copy, Object.class));
      return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
    } catch (JsonProcessingException | NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Whether applying {@code desired} would change nothing pgtide is responsible for: the server's object carries
   * the fingerprint of this very desired object (so nothing was added to, changed in or removed from what pgtide
   * applied last) and still holds every value it declares (so nobody changed one of them since). Pure.
   */
  static boolean unchanged(JsonNode desired, JsonNode current) {
    String applied = current.path("metadata").path("annotations").path(APPLIED).asText(null);
    return applied != null && applied.equals(fingerprint(desired)) && containedIn(desired, current);
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
