package io.pgtide.operator.hub;

import io.pgtide.common.contract.Addresses;
import io.pgtide.common.contract.Command;
import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/** Sends a typed command to one member's sidecar over the bridge and decodes its result. */
public final class CommandClient {
  private final Vertx vertx;

  public CommandClient(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Always succeeds with a result; transport failures become {@code unreachable} / {@code timeout} results. */
  public Future<CommandResult> send(MemberId target, CommandPayload payload, long timeoutMs) {
    Command cmd = new Command(UUID.randomUUID().toString(), target, timeoutMs, payload);
    // the sidecar enforces timeoutMs; the bus waits a little longer so the sidecar's own answer wins
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(timeoutMs + 2_000);
    return vertx.eventBus().<JsonObject>request(Addresses.command(target), ContractCodec.encode(cmd), options)
        .map(msg -> ContractCodec.decodeResult(msg.body()))
        .otherwise(e -> {
          String code = e instanceof ReplyException re && re.failureType() == io.vertx.core.eventbus.ReplyFailure.TIMEOUT
              ? "timeout" : "unreachable";
          return CommandResult.error(cmd.correlationId(), code, "sidecar of " + target + ": " + e.getMessage(), null);
        });
  }
}
