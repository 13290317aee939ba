package io.pgtide.common.contract;

import io.vertx.core.json.JsonObject;

/**
 * The answer to a {@link Command}. On failure {@code errorCode} is stable (e.g. {@code timeout}, {@code patroni},
 * {@code wrong-target}, {@code invalid}) and {@code errorMessage} says what happened; {@code detail} carries
 * command-specific data (Patroni's answer verbatim, the user-sync changes, …).
 */
public record CommandResult(String correlationId, boolean ok, String errorCode, String errorMessage, JsonObject detail) {

  public static CommandResult ok(String correlationId, JsonObject detail) {
    return new CommandResult(correlationId, true, null, null, detail == null ? new JsonObject() : detail);
  }

  public static CommandResult error(String correlationId, String code, String message, JsonObject detail) {
    return new CommandResult(correlationId, false, code, message, detail == null ? new JsonObject() : detail);
  }
}
