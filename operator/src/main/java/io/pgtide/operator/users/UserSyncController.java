package io.pgtide.operator.users;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.DesiredDatabase;
import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.contract.MemberId;
import java.util.List;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Sends the declared users to the primary's sidecar: every sync interval (default 30 s), after every failover, and on
 * demand (dry run for {@code pgtide users sync --dry-run}). Keeps the last result for status.
 */
public final class UserSyncController {
  private final Vertx vertx;
  private final ClusterState state;
  private final CommandClient commands;
  private final ClusterEvents events;
  private final String clusterKey;
  private final Supplier<PostgresClusterSpec> spec;
  private final DesiredRoles.PasswordSource passwords;
  private final ScramVerifier scram;
  private final io.pgtide.operator.metrics.OperatorMetrics metrics;
  private volatile JsonObject last;
  private boolean running;

  public UserSyncController(Vertx vertx, ClusterState state, CommandClient commands, ClusterEvents events,
                            String clusterKey, Supplier<PostgresClusterSpec> spec, DesiredRoles.PasswordSource passwords,
                            ScramVerifier scram, io.pgtide.operator.metrics.OperatorMetrics metrics) {
    this.vertx = vertx;
    this.state = state;
    this.commands = commands;
    this.events = events;
    this.clusterKey = clusterKey;
    this.spec = spec;
    this.passwords = passwords;
    this.scram = scram;
    this.metrics = metrics;
  }

  private long timer = -1;
  private Supplier<String> readOnly = () -> null;

  /**
   * Syncs nothing while {@code reason} gives a reason (a standby cluster: read-only, its roles are its source's);
   * the result says so ({@code skipped}), and the status shows it.
   */
  public UserSyncController skipWhile(Supplier<String> reason) {
    this.readOnly = reason;
    return this;
  }

  public void start(long intervalMs) {
    timer = vertx.setPeriodic(intervalMs, intervalMs, t -> sync(false));
  }

  public void stop() {
    vertx.cancelTimer(timer);
  }

  public JsonObject last() {
    return last;
  }

  public Future<JsonObject> sync(boolean dryRun) {
    String skipped = readOnly.get();
    if (skipped != null) {
      JsonObject result = new JsonObject().put("changed", new io.vertx.core.json.JsonArray())
          .put("failed", new io.vertx.core.json.JsonArray()).put("synced", 0).put("skipped", skipped);
      if (!dryRun) {
        last = result;
      }
      return Future.succeededFuture(result);
    }
    Optional<MemberView> primary = state.view(clusterKey).primary();
    if (primary.isEmpty()) {
      return Future.failedFuture("no live primary in " + clusterKey + " to sync users on");
    }
    if (running && !dryRun) {
      return Future.failedFuture("a user sync of " + clusterKey + " is already running");
    }
    PostgresClusterSpec s = spec.get();
    running = !dryRun;
    MemberId target = primary.get().id();
    // the verifiers PostgreSQL holds now: an unchanged password keeps its own (and its salt), so nothing is written
    Future<java.util.Map<String, String>> storedF = commands.send(target,
        new CommandPayload.RoleVerifiers(DesiredRoles.withPasswords(s.users)), 30_000).compose(this::check)
        .map(d -> {
          java.util.Map<String, String> stored = new java.util.HashMap<>();
          d.getJsonObject("verifiers", new JsonObject()).forEach(e -> stored.put(e.getKey(), (String) e.getValue()));
          return stored;
        });
    // reading password Secrets and checking or deriving SCRAM verifiers (PBKDF2) are blocking: off the event loop
    Future<DesiredRoles.Result> desiredF = storedF.compose(stored -> vertx.executeBlocking(
        () -> DesiredRoles.of(s.users, passwords, scram, stored), false));
    List<DesiredDatabase> databases = DesiredRoles.databases(s.databases);
    return desiredF.compose(desired -> {
      List<DesiredRole> roles = DesiredRoles.withDefaultGroups(desired.roles(), databases);
      return commands.send(target, new CommandPayload.SyncUsers(roles, databases, dryRun), 60_000)
          .compose(this::check)
          .map(r -> {
            java.util.Set<String> failedRoles = new java.util.HashSet<>();
            r.getJsonArray("failed").forEach(f -> failedRoles.add(((JsonObject) f).getString("name")));
            desired.errors().forEach((name, reason) -> r.getJsonArray("failed")
                .add(new JsonObject().put("name", name).put("reason", reason)));
            return r.put("synced", (int) roles.stream().filter(x -> !failedRoles.contains(x.name())).count());
          });
    })
        .onSuccess(r -> {
          if (!dryRun) {
            last = r;
            if (!r.getJsonArray("changed").isEmpty()) {
              events.emit(clusterKey, "Normal", "UsersSynced", r.getJsonArray("changed").encode());
            }
            if (!r.getJsonArray("failed").isEmpty()) {
              // step "users": what the PgtideUsersNotSynced alert watches
              metrics.controllerError(clusterKey, "users");
              events.emit(clusterKey, "Warning", "UsersNotSynced", r.getJsonArray("failed").encode());
            }
          }
        })
        .onFailure(e -> {
          if (!dryRun) {
            metrics.controllerError(clusterKey, "users");
            events.emit(clusterKey, "Warning", "UsersNotSynced", "user sync failed: " + e.getMessage());
          }
        })
        .onComplete(ar -> {
          if (!dryRun) {
            running = false;
          }
        });
  }

  private Future<JsonObject> check(CommandResult r) {
    return r.ok() ? Future.succeededFuture(r.detail()) : Future.failedFuture(r.errorCode() + ": " + r.errorMessage());
  }
}
