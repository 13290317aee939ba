package io.pgtide.bench;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.users.DesiredRoles;
import io.pgtide.common.contract.MemberId;
import io.pgtide.operator.users.ScramVerifier;
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
import java.util.HashMap;
import java.util.Map;
import java.util.List;

/**
 * Syncs N declared roles with memberships into an empty PostgreSQL, then a no-op sync, then a sync after 10 roles
 * drifted. Times the sidecar's sync (read, diff, apply) and counts the statements; the operator's verifier work is
 * timed apart (new verifiers; checks against the stored ones after a restart and cached).
 */
final class UserSyncBench {
  private UserSyncBench() {
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    Path dir = Files.createTempDirectory("pgtide-users-bench");
    OsUser.makeTraversable(dir);
    try (PostgresInstance pg = PostgresInstance.start(dir.resolve("pg"))) {
      Vertx vertx = Vertx.vertx();
      SidecarConfig config = new SidecarConfig(new MemberId("bench", "users", "users-0"), "127.0.0.1", pg.port(),
          "postgres", pg.password(), "postgres", "", "127.0.0.1", 1, dir, 19999, 1000, 250, 2000);
      UserSync sync = new UserSync(vertx, new PgCollector(vertx, config));
      int groups = Math.max(1, n / 20);
      List<PostgresClusterSpec.UserSpec> users = users(n, groups);
      ScramVerifier scram = new ScramVerifier();
      long v0 = System.nanoTime();
      roles(users, "warm-up-", new ScramVerifier(), Map.of());
      double verifiersColdMs = (System.nanoTime() - v0) / 1e6;
      v0 = System.nanoTime();
      List<DesiredRole> roles = roles(users, "password-", scram, Map.of());
      double verifiersFirstMs = (System.nanoTime() - v0) / 1e6;

      Table t = new Table("User sync of " + n + " roles (" + groups + " groups, 2 memberships per login role), "
          + "PostgreSQL 15 on loopback", "sync", "time ms", "write statements", "changed roles", "failed");
      double[] firstMs = {row(t, "first (empty database)", sync, roles)};
      // what the operator does on every sync: read the stored verifiers, check the passwords against them
      v0 = System.nanoTime();
      Map<String, String> stored = stored(pg);
      double readStoredMs = (System.nanoTime() - v0) / 1e6;
      v0 = System.nanoTime();
      roles(users, "password-", new ScramVerifier(), stored);
      double checkColdMs = (System.nanoTime() - v0) / 1e6;
      roles(users, "password-", scram, stored);
      v0 = System.nanoTime();
      List<DesiredRole> unchanged = roles(users, "password-", scram, stored);
      double checkCachedMs = (System.nanoTime() - v0) / 1e6;
      row(t, "no-op", sync, unchanged);
      for (int i = 0; i < 10; i++) {
        pg.query("ALTER ROLE \"user_" + (i * 7) + "\" SUPERUSER CONNECTION LIMIT 5");
      }
      row(t, "10 drifted roles", sync, unchanged);
      t.row("operator: SCRAM verifiers, cold JVM", verifiersColdMs, "-", "-", "-");
      t.row("operator: SCRAM verifiers, new passwords", verifiersFirstMs, "-", "-", "-");
      t.row("operator: read stored verifiers (SQL)", readStoredMs, "-", "-", "-");
      t.row("operator: check against stored, after a restart", checkColdMs, "-", "-", "-");
      t.row("operator: check against stored, cached", checkCachedMs, "-", "-", "-");
      t.row("operator + sidecar: first sync end to end", verifiersFirstMs + firstMs[0], "-", "-", "-");
      t.print("users");
      vertx.close().await(); // before PostgreSQL stops: no connection sees the postmaster go
    }
  }

  static double row(Table t, String name, UserSync sync, List<DesiredRole> roles) {
    long t0 = System.nanoTime();
    JsonObject r = sync.apply(new CommandPayload.SyncUsers(roles, List.of(), false), 600_000).await();
    double ms = (System.nanoTime() - t0) / 1e6;
    t.row(name, ms, r.getInteger("writeStatements"), r.getJsonArray("changed").size(), r.getJsonArray("failed").size());
    return ms;
  }

  static List<PostgresClusterSpec.UserSpec> users(int n, int groups) {
    List<PostgresClusterSpec.UserSpec> users = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
      u.name = "group_" + g;
      u.login = false;
      users.add(u);
    }
    for (int i = 0; users.size() < n; i++) {
      PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
      u.name = "user_" + i;
      u.memberOf = List.of("group_" + (i % groups), "group_" + ((i + 1) % groups));
      users.add(u);
    }
    return users;
  }

  /** The verifiers PostgreSQL stores, as the sidecar's role-verifiers command reads them. */
  static Map<String, String> stored(PostgresInstance pg) {
    Map<String, String> stored = new HashMap<>();
    for (String line : pg.query("SELECT rolname || ' ' || rolpassword FROM pg_authid"
        + " WHERE rolpassword LIKE 'SCRAM-SHA-256$%'").split("\n")) {
      if (!line.isBlank()) {
        stored.put(line.substring(0, line.indexOf(' ')), line.substring(line.indexOf(' ') + 1).trim());
      }
    }
    return stored;
  }

  /** Through the operator's own path: declared users → desired roles, verifiers checked or derived in parallel. */
  static List<DesiredRole> roles(List<PostgresClusterSpec.UserSpec> users, String passwordPrefix, ScramVerifier scram,
                                 Map<String, String> stored) {
    DesiredRoles.Result r = DesiredRoles.of(users, u -> passwordPrefix + u.name, scram, stored);
    if (!r.errors().isEmpty()) {
      throw new IllegalStateException("bench users refused: " + r.errors());
    }
    return r.roles();
  }
}
