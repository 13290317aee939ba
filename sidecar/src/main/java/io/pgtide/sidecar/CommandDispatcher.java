package io.pgtide.sidecar;

import io.pgtide.common.contract.Command;
import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.ContractException;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.secrets.BasicCredentials;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One handler per command type, a per-command timeout, and a clear error. A command addressed to another member is
 * refused. Commands only arrive over the operator's authenticated bridge connection.
 */
public final class CommandDispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(CommandDispatcher.class);
  private static final long MAX_TIMEOUT_MS = 300_000;
  static final String STORED_VERIFIERS = "SELECT rolname::text, rolpassword FROM pg_authid"
      + " WHERE rolname = ANY($1::text[]) AND rolpassword LIKE 'SCRAM-SHA-256$%'";
  static final String CHECKPOINT = "CHECKPOINT";
  static final String SWITCH_WAL = "SELECT l::text, pg_walfile_name(l) FROM pg_switch_wal() AS l";
  static final String RELOAD = "SELECT pg_reload_conf()";

  private final Vertx vertx;
  private final MemberId self;
  private final PgCollector pg;
  private final WebClient http;
  private final String patroniUrl;
  private final BasicCredentials patroniCredentials; // null: Patroni asks for none
  private final BiFunction<CommandPayload.SyncUsers, Long, Future<JsonObject>> userSync;
  private final SidecarMetrics metrics;
  private final PodProcesses pod; // null where the sidecar does not share its pod's process namespace
  private final java.util.function.Function<CommandPayload.Logs, JsonObject> logs;

  public CommandDispatcher(Vertx vertx, MemberId self, PgCollector pg, WebClient http, String patroniUrl,
                           BasicCredentials patroniCredentials,
                           BiFunction<CommandPayload.SyncUsers, Long, Future<JsonObject>> userSync, SidecarMetrics metrics,
                           PodProcesses pod, java.util.function.Function<CommandPayload.Logs, JsonObject> logs) {
    this.logs = logs;
    this.vertx = vertx;
    this.self = self;
    this.pg = pg;
    this.http = http;
    this.patroniUrl = patroniUrl;
    this.patroniCredentials = patroniCredentials;
    this.userSync = userSync;
    this.metrics = metrics;
    this.pod = pod;
  }

  /** Decodes, checks and runs a command; the future always succeeds with a result (never a raw failure). */
  public Future<CommandResult> handle(JsonObject json) {
    Command cmd;
    try {
      cmd = ContractCodec.decodeCommand(json);
    } catch (ContractException e) {
      metrics.command("invalid", "refused");
      return Future.succeededFuture(CommandResult.error(json.getString("correlationId", ""), e.code(),
          e.getMessage(), null));
    }
    String type = cmd.payload().type();
    if (!self.equals(cmd.target())) {
      metrics.command(type, "refused");
      return Future.succeededFuture(CommandResult.error(cmd.correlationId(), "wrong-target",
          "this sidecar is " + self + ", the command is for " + cmd.target(), null));
    }
    long timeout = Math.min(Math.max(cmd.timeoutMs(), 100), MAX_TIMEOUT_MS);
    LOG.info("[{}] command {} ({})", self, type, cmd.correlationId());
    return withTimeout(run(cmd.payload(), timeout), timeout)
        .map(detail -> CommandResult.ok(cmd.correlationId(), detail))
        .otherwise(e -> {
          String code = e instanceof TimeoutException ? "timeout" : e instanceof PatroniRefused ? "patroni"
              : e instanceof UnsupportedOperationException ? "unsupported" : "failed";
          JsonObject detail = e instanceof PatroniRefused p ? p.detail : null;
          return CommandResult.error(cmd.correlationId(), code, e.getMessage(), detail);
        })
        .onSuccess(r -> {
          metrics.command(type, r.ok() ? "ok" : r.errorCode());
          LOG.info("[{}] command {} ({}) -> {}", self, type, cmd.correlationId(), r.ok() ? "ok" : r.errorMessage());
        });
  }

  private Future<JsonObject> run(CommandPayload payload, long timeoutMs) {
    if (payload instanceof CommandPayload.SyncUsers s) {
      return userSync.apply(s, timeoutMs);
    }
    if (payload instanceof CommandPayload.RoleVerifiers r) {
      return pg.query(STORED_VERIFIERS, io.vertx.sqlclient.Tuple.of(r.roles().toArray(String[]::new))).map(rows -> {
        JsonObject verifiers = new JsonObject();
        rows.forEach(row -> verifiers.put(row.getString(0), row.getString(1)));
        return new JsonObject().put("verifiers", verifiers);
      });
    }
    if (payload instanceof CommandPayload.Switchover s) {
      JsonObject body = new JsonObject();
      if (s.leader() != null) {
        body.put("leader", s.leader());
      }
      if (s.candidate() != null) {
        body.put("candidate", s.candidate());
      }
      return patroni("/switchover", body);
    }
    if (payload instanceof CommandPayload.Failover f) {
      return patroni("/failover", new JsonObject().put("candidate", f.candidate()));
    }
    if (payload instanceof CommandPayload.PatroniConfig c) {
      return authorized(http.patchAbs(patroniUrl + "/config")).timeout(30_000).sendJsonObject(c.changes())
          .compose(this::patroniAnswer);
    }
    if (payload instanceof CommandPayload.Restart) {
      return patroni("/restart", new JsonObject().put("restart_pending", true));
    }
    if (payload instanceof CommandPayload.Fence || payload instanceof CommandPayload.ProbeProcesses) {
      if (pod == null) {
        return Future.failedFuture(new UnsupportedOperationException(
            "this sidecar does not share its pod's process namespace; it cannot see Patroni or PostgreSQL"));
      }
      // the kill's own wait ends before the command's deadline, so its answer (confirmed or not) is what returns
      long bound = Math.max(100, timeoutMs - 500);
      return vertx.executeBlocking(() -> payload instanceof CommandPayload.Fence ? pod.fence(bound) : pod.probe(),
          false);
    }
    if (payload instanceof CommandPayload.Logs l) {
      return Future.succeededFuture(logs.apply(l)); // the buffer is in memory, on this event loop
    }
    if (payload instanceof CommandPayload.Checkpoint) {
      return pg.execute(CHECKPOINT).map(v -> new JsonObject().put("done", "checkpoint"));
    }
    if (payload instanceof CommandPayload.SwitchWal) {
      return pg.query(SWITCH_WAL).map(rows -> {
        var row = rows.iterator().next();
        return new JsonObject().put("lsn", row.getString(0)).put("segment", row.getString(1));
      });
    }
    return pg.execute(RELOAD).map(v -> new JsonObject().put("done", "reload"));
  }

  private Future<JsonObject> patroni(String path, JsonObject body) {
    return authorized(http.postAbs(patroniUrl + path)).timeout(60_000).sendJsonObject(body)
        .compose(this::patroniAnswer);
  }

  /** Patroni demands credentials (where configured) of every request that changes its state. */
  private HttpRequest<Buffer> authorized(HttpRequest<Buffer> request) {
    return patroniCredentials == null ? request : request.putHeader("Authorization", patroniCredentials.header());
  }

  private Future<JsonObject> patroniAnswer(HttpResponse<Buffer> response) {
    String text = response.bodyAsString() == null ? "" : response.bodyAsString();
    JsonObject detail = new JsonObject().put("status", response.statusCode()).put("patroni", text);
    if (response.statusCode() / 100 == 2) {
      return Future.succeededFuture(detail);
    }
    return Future.failedFuture(new PatroniRefused("Patroni answered " + response.statusCode() + ": " + text, detail));
  }

  private <T> Future<T> withTimeout(Future<T> future, long timeoutMs) {
    // the work's own bounds end what it started (a user sync closes its connections at the same deadline)
    return Deadline.within(vertx, future, timeoutMs,
        () -> new TimeoutException("command did not finish within " + timeoutMs + " ms"), () -> { });
  }

  static final class PatroniRefused extends RuntimeException {
    final JsonObject detail;

    PatroniRefused(String message, JsonObject detail) {
      super(message);
      this.detail = detail;
    }
  }
}
