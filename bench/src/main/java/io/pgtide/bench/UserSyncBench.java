package io.pgtide.bench;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.ScramVerifier;
import io.pgtide.common.process.OsUser;
import io.pgtide.sidecar.PgCollector;
import io.pgtide.sidecar.SidecarConfig;
import io.pgtide.sidecar.users.UserSync;
import io.pgtide.testkit.PostgresInstance;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Syncs N declared roles with memberships into an empty PostgreSQL, then a no-op sync, then a sync after 10 roles
 * drifted. Times the sidecar's sync (read, diff, apply) and counts the statements; verifier computation in the
 * operator is timed apart (first time and cached).
 */
final class UserSyncBench {
  private UserSyncBench() {
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    Path dir = Files.createTempDirectory("pgtide-users-bench");
    OsUser.makeTraversable(dir);
    Vertx vertx = Vertx.vertx();
    try (PostgresInstance pg = PostgresInstance.start(dir.resolve("pg"))) {
      SidecarConfig config = new SidecarConfig(new MemberId("bench", "users", "users-0"), "127.0.0.1", pg.port(),
          "postgres", pg.password(), "postgres", "", "127.0.0.1", 1, dir, 19999, 1000, 250, 2000);
      UserSync sync = new UserSync(vertx, new PgCollector(vertx, config));
      int groups = Math.max(1, n / 20);
      long v0 = System.nanoTime();
      List<DesiredRole> roles = roles(n, groups);
      double verifiersFirstMs = (System.nanoTime() - v0) / 1e6;
      v0 = System.nanoTime();
      roles(n, groups);
      double verifiersCachedMs = (System.nanoTime() - v0) / 1e6;

      Table t = new Table("User sync of " + n + " roles (" + groups + " groups, 2 memberships per login role), "
          + "PostgreSQL 15 on loopback", "sync", "time ms", "write statements", "changed roles", "failed");
      row(t, "first (empty database)", sync, roles);
      row(t, "no-op", sync, roles);
      for (int i = 0; i < 10; i++) {
        pg.query("ALTER ROLE \"user_" + (i * 7) + "\" SUPERUSER CONNECTION LIMIT 5");
      }
      row(t, "10 drifted roles", sync, roles);
      t.row("operator: SCRAM verifiers, first", verifiersFirstMs, "-", "-", "-");
      t.row("operator: SCRAM verifiers, cached", verifiersCachedMs, "-", "-", "-");
      t.print("users");
    } finally {
      vertx.close().await();
    }
  }

  static void row(Table t, String name, UserSync sync, List<DesiredRole> roles) {
    long t0 = System.nanoTime();
    JsonObject r = sync.apply(new CommandPayload.SyncUsers(roles, List.of(), false)).await();
    double ms = (System.nanoTime() - t0) / 1e6;
    t.row(name, ms, r.getInteger("writeStatements"), r.getJsonArray("changed").size(), r.getJsonArray("failed").size());
  }

  static List<DesiredRole> roles(int n, int groups) {
    List<DesiredRole> roles = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      roles.add(DesiredRole.group("group_" + g));
    }
    for (int i = 0; roles.size() < n; i++) {
      roles.add(DesiredRole.login("user_" + i, ScramVerifier.compute("bench/users", "user_" + i, "password-" + i),
          List.of("group_" + (i % groups), "group_" + ((i + 1) % groups))));
    }
    return roles;
  }
}
