package io.pgtide.common.contract;

/** A request from the operator to the sidecar of {@code target}. */
public record Command(String correlationId, MemberId target, long timeoutMs, CommandPayload payload) {
}
