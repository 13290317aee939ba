package io.pgtide.sidecar;

import io.pgtide.common.contract.Role;
import io.vertx.core.json.JsonObject;

/** The parts of Patroni's {@code GET /patroni} the sidecar reports. */
public record PatroniStatus(Role role, String rawRole, String state, Long timeline, boolean noFailover,
                            boolean pendingRestart) {

  /** Parses Patroni's answer; a malformed answer is an {@link IllegalArgumentException} with the reason. */
  public static PatroniStatus parse(String body) {
    JsonObject json;
    try {
      json = new JsonObject(body);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Patroni answered something that is not a JSON object");
    }
    Object role = json.getValue("role");
    Object state = json.getValue("state");
    if (!(role instanceof String) || !(state instanceof String)) {
      throw new IllegalArgumentException("Patroni's answer has no 'role' and 'state' strings");
    }
    Object tl = json.getValue("timeline");
    JsonObject tags = json.getValue("tags") instanceof JsonObject t ? t : new JsonObject();
    boolean noFailover = Boolean.TRUE.equals(tags.getValue("nofailover"));
    return new PatroniStatus(Role.fromPatroni((String) role), (String) role, (String) state,
        tl instanceof Number n ? n.longValue() : null, noFailover, Boolean.TRUE.equals(json.getValue("pending_restart")));
  }
}
