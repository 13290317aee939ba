package io.pgtide.operator.k8s.model;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * An action asked of the operator through the Kubernetes API: the annotation {@code pgtide.io/request} on a
 * PostgresCluster, e.g. {@code {"id":"…","action":"switchover","to":"orders-1","requestedAt":"…"}} or
 * {@code {"id":"…","action":"users-sync","dryRun":true,"requestedAt":"…"}}. Writing the annotation needs {@code patch}
 * on that PostgresCluster, so the API server's authentication, RBAC and audit log decide and record who may ask — with
 * any kubeconfig credential (certificate, token, exec plugin), which the control API's bearer tokens cannot match
 * through the API server's service proxy (it strips the caller's Authorization header). The answer is
 * {@code status.lastRequest} with the same id. Pure: parsing and the age rule only.
 */
public record ClusterRequest(String id, String action, String to, boolean dryRun, Instant requestedAt) {
  /**
   * What may be asked: a switchover, a user sync, a base backup now, a verification of the newest backup, the
   * promotion of a standby cluster.
   */
  public static final java.util.List<String> ACTIONS = java.util.List.of("switchover", "users-sync", "backup",
      "backup-verify", "promote");
  public static final String ANNOTATION = "pgtide.io/request";
  /** A request older than this when first seen (the operator was down) is not acted on: the asker gave up. */
  public static final Duration MAX_AGE = Duration.ofMinutes(10);

  /** Thrown for an annotation that is not a request; the id, when readable, lets the answer name it. */
  public static final class Invalid extends IllegalArgumentException {
    public final String id;

    Invalid(String id, String message) {
      super(message);
      this.id = id;
    }
  }

  public static ClusterRequest parse(String annotation) {
    JsonObject json;
    try {
      json = new JsonObject(annotation);
    } catch (DecodeException | ClassCastException e) {
      throw new Invalid(null, ANNOTATION + " is not a JSON object");
    }
    String id = json.getValue("id") instanceof String s ? s : null;
    if (id == null || !id.matches("[A-Za-z0-9-]{1,64}")) {
      throw new Invalid(null, ANNOTATION + ": id must be 1-64 letters, digits or '-'");
    }
    Object action = json.getValue("action");
    if (!ACTIONS.contains(action)) {
      throw new Invalid(id, ANNOTATION + ": action must be one of " + String.join(", ", ACTIONS) + ", got " + action);
    }
    Object to = json.getValue("to");
    if (to != null && !(to instanceof String)) {
      throw new Invalid(id, ANNOTATION + ": to must be a member name");
    }
    Object dryRun = json.getValue("dryRun");
    if (dryRun != null && !(dryRun instanceof Boolean)) {
      throw new Invalid(id, ANNOTATION + ": dryRun must be true or false");
    }
    Instant at;
    try {
      at = Instant.parse(json.getString("requestedAt", ""));
    } catch (DateTimeParseException | ClassCastException e) {
      throw new Invalid(id, ANNOTATION + ": requestedAt must be an RFC 3339 time");
    }
    return new ClusterRequest(id, (String) action, (String) to, Boolean.TRUE.equals(dryRun), at);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id).put("action", action).put("requestedAt", requestedAt.toString());
    if (to != null) {
      json.put("to", to);
    }
    if (dryRun) {
      json.put("dryRun", true);
    }
    return json;
  }

  public boolean tooOld(Instant now) {
    return requestedAt.plus(MAX_AGE).isBefore(now);
  }
}
