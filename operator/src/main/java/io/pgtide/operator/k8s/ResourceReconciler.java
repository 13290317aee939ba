package io.pgtide.operator.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * One wrapper per kind: {@code reconcile(ns, name, desiredOrNull)} creates, updates or deletes one object. The
 * desired object's hash is kept in an annotation, so an unchanged object costs one GET and no write, whatever the
 * API server defaulted.
 */
public final class ResourceReconciler<T extends HasMetadata> {
  public static final String HASH = "pgtide.io/desired-hash";
  private final Vertx vertx;
  private final KubernetesClient client;
  private final Class<T> kind;

  public ResourceReconciler(Vertx vertx, KubernetesClient client, Class<T> kind) {
    this.vertx = vertx;
    this.client = client;
    this.kind = kind;
  }

  public enum Outcome { CREATED, UPDATED, UNCHANGED, DELETED, ABSENT }

  public Future<Outcome> reconcile(String namespace, String name, T desired) {
    return Blocking.call(vertx, () -> {
      var resource = client.resources(kind).inNamespace(namespace).withName(name);
      T current = resource.get();
      if (desired == null) {
        if (current == null) {
          return Outcome.ABSENT;
        }
        resource.delete();
        return Outcome.DELETED;
      }
      String hash = hash(desired);
      Map<String, String> annotations = new HashMap<>(desired.getMetadata().getAnnotations() == null
          ? Map.of() : desired.getMetadata().getAnnotations());
      annotations.put(HASH, hash);
      desired.getMetadata().setAnnotations(annotations);
      if (current == null) {
        client.resources(kind).inNamespace(namespace).resource(desired).create();
        return Outcome.CREATED;
      }
      Map<String, String> have = current.getMetadata().getAnnotations();
      if (have != null && hash.equals(have.get(HASH))) {
        return Outcome.UNCHANGED;
      }
      desired.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
      client.resources(kind).inNamespace(namespace).resource(desired).update();
      return Outcome.UPDATED;
    });
  }

  static String hash(HasMetadata desired) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha.digest(Serialization.asJson(desired).getBytes(StandardCharsets.UTF_8)))
          .substring(0, 32);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
