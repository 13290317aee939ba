package io.pgtide.sidecar.users;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.DesiredDatabase;
import io.pgtide.sidecar.PgCollector;
import io.pgtide.sidecar.SidecarSql;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The user-sync command on the primary: reads the actual roles, plans the diff ({@link RoleDiff}), applies it in one
 * transaction (falling back to one transaction per role so one bad role cannot block the others), then databases
 * (CREATE DATABASE cannot run in a transaction). Returns what changed; never passwords.
 */
public final class UserSync {
  static final String ACTUAL = """
      SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication,
             r.rolbypassrls, r.rolinherit, r.rolconnlimit,
             CASE WHEN r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity' THEN NULL
                  ELSE extract(epoch FROM r.rolvaliduntil)::bigint::text END AS valid_until, r.rolpassword,
             shobj_description(r.oid, 'pg_authid') AS comment,
             coalesce(mem.member_of, ARRAY[]::text[]) AS member_of, dep.deps
        FROM pg_authid r
        LEFT JOIN (SELECT m.member, array_agg(g.rolname::text) AS member_of
                     FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid GROUP BY m.member) mem
               ON mem.member = r.oid
        LEFT JOIN (SELECT d.refobjid, string_agg(DISTINCT CASE d.deptype WHEN 'o' THEN 'owns objects'
                            ELSE 'holds privileges' END || ' in ' || coalesce(db.datname, 'shared catalogs'), ', ') AS deps
                     FROM pg_shdepend d LEFT JOIN pg_database db ON db.oid = d.dbid
                    WHERE d.refclassid = 'pg_authid'::regclass GROUP BY d.refobjid) dep
               ON dep.refobjid = r.oid
       WHERE r.rolname !~ '^pg_'
      """;

  /** The sync's fixed statements, for {@link SidecarSql}; its DDL is built by RoleDiff, DatabaseDiff, DefaultRoles. */
  public static List<SidecarSql.Statement> statements() {
    return List.of(new SidecarSql.Statement("user sync: roles", ACTUAL, 0),
        new SidecarSql.Statement("user sync: databases", ACTUAL_DATABASES, 0),
        new SidecarSql.Statement("user sync: default roles check", DefaultRoles.CHECK, 3));
  }

  private final Vertx vertx;
  private final PgCollector pg;

  public UserSync(Vertx vertx, PgCollector pg) {
    this.vertx = vertx;
    this.pg = pg;
  }

  /**
   * One sync at a time, on a connection kept between syncs (a new one would cost a SCRAM handshake each time);
   * dropped on any error so the next sync starts clean. A sync still running at {@code deadlineMs} fails and its
   * connections are closed (which ends whatever PostgreSQL was doing for it), so the next sync is never refused
   * as "already running" by one that hangs.
   */
  public Future<JsonObject> apply(CommandPayload.SyncUsers desired, long deadlineMs) {
    if (busy) {
      return Future.failedFuture(new IllegalStateException("a user sync is already running on this member"));
    }
    busy = true;
    Future<PgConnection> conn = connection != null ? Future.succeededFuture(connection) : pg.connectWithin()
        .onSuccess(c -> {
          connection = c;
          c.closeHandler(v -> connection = null);
        });
    Future<JsonObject> work = conn.compose(c -> run(c, desired).onFailure(e -> {
      connection = null;
      c.close();
    }));
    return io.pgtide.sidecar.Deadline.within(vertx, work, deadlineMs,
        () -> new IllegalStateException("the user sync did not finish within " + deadlineMs + " ms"), this::closeAll)
        .eventually(() -> {
          busy = false;
          return Future.succeededFuture();
        });
  }

  private void closeAll() {
    PgConnection c = connection;
    connection = null;
    if (c != null) {
      c.close();
    }
    extra.forEach(PgConnection::close);
    extra.clear();
  }

  /** Up to this many passwords go into the one transaction with everything else. */
  static final int PARALLEL_PASSWORDS_ABOVE = 64;
  static final int PASSWORD_CONNECTIONS = 4;
  private PgConnection connection;
  /** The extra connections of a sync that sets many passwords in parallel, while it runs. */
  private final Set<PgConnection> extra = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private boolean busy;

  private Future<JsonObject> run(PgConnection conn, CommandPayload.SyncUsers desired) {
    return conn.query(PgCollector.IN_RECOVERY).execute().compose(rs -> {
      if (rs.iterator().next().getBoolean(0)) {
        return Future.failedFuture(new IllegalStateException("this member is a replica; user sync runs on the primary"));
      }
      return conn.query(ACTUAL).execute();
    }).compose(rows -> {
      Map<String, ActualRole> actual = new HashMap<>();
      for (Row r : rows) {
        actual.put(r.getString("rolname"), toActual(r));
      }
      RoleDiff.Plan plan = RoleDiff.plan(desired.roles(), actual);
      JsonObject result = new JsonObject().put("dryRun", desired.dryRun()).put("readStatements", 2)
          .put("writeStatements", plan.statementCount());
      JsonArray failed = new JsonArray();
      plan.errors().forEach((name, reason) -> failed.add(new JsonObject().put("name", name).put("reason", reason)));
      plan.cannotDrop().forEach((name, reason) -> failed.add(new JsonObject().put("name", name)
          .put("reason", "cannotDrop: " + reason)));
      result.put("failed", failed);
      Map<String, JsonArray> byRole = new java.util.LinkedHashMap<>();
      java.util.stream.Stream.concat(plan.changes().stream(), plan.passwords().stream()).forEach(c ->
          c.descriptions().forEach(byRole.computeIfAbsent(c.role(), k -> new JsonArray())::add));
      JsonArray planned = new JsonArray();
      byRole.forEach((role, what) -> planned.add(new JsonObject().put("role", role).put("changes", what)));
      result.put("changed", planned);
      if (desired.dryRun()) {
        return databases(conn, desired.databases(), rolesAfter(actual, desired), managedAfter(actual, desired),
            failed, result).map(v -> result);
      }
      Future<Void> roles = plan.passwords().size() <= PARALLEL_PASSWORDS_ABOVE
          ? applyAll(conn, concat(plan.changes(), plan.passwords()), failed)
          : applyAll(conn, plan.changes(), failed).compose(v -> passwordsInParallel(plan.passwords(), failed));
      return roles
          .compose(v -> databases(conn, desired.databases(), rolesAfter(actual, desired), managedAfter(actual, desired),
              failed, result))
          .map(v -> result);
    });
  }

  private static Set<String> rolesAfter(Map<String, ActualRole> actual, CommandPayload.SyncUsers desired) {
    Set<String> roles = new HashSet<>(actual.keySet());
    desired.roles().forEach(r -> {
      if (r.present()) {
        roles.add(r.name());
      }
    });
    return roles;
  }

  private static Set<String> managedAfter(Map<String, ActualRole> actual, CommandPayload.SyncUsers desired) {
    Set<String> managed = new HashSet<>();
    actual.values().stream().filter(ActualRole::managed).forEach(a -> managed.add(a.name()));
    desired.roles().forEach(r -> {
      if (r.present() && (!actual.containsKey(r.name()) || actual.get(r.name()).managed())) {
        managed.add(r.name());
      }
    });
    return managed;
  }

  private static List<RoleDiff.RoleChange> concat(List<RoleDiff.RoleChange> a, List<RoleDiff.RoleChange> b) {
    List<RoleDiff.RoleChange> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /**
   * A large batch of passwords (a first sync, a mass rotation) on several connections at once: each costs the server
   * a PBKDF2 run, so one backend would take ~5 ms per role. Every role already exists without a password by now, so
   * a role whose password is not set yet cannot log in at all — never with a wrong one.
   */
  private Future<Void> passwordsInParallel(List<RoleDiff.RoleChange> passwords, JsonArray failed) {
    int n = Math.min(PASSWORD_CONNECTIONS, passwords.size());
    List<Future<Void>> chunks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<RoleDiff.RoleChange> chunk = new ArrayList<>();
      for (int j = i; j < passwords.size(); j += n) {
        chunk.add(passwords.get(j));
      }
      JsonArray chunkFailed = new JsonArray();
      chunks.add(pg.connectWithin().compose(c -> {
        extra.add(c);
        return applyAll(c, chunk, chunkFailed).eventually(() -> {
          extra.remove(c);
          return c.close();
        });
      })
          .recover(e -> {
            chunk.forEach(r -> chunkFailed.add(new JsonObject().put("name", r.role()).put("reason", e.getMessage())));
            return Future.succeededFuture();
          })
          .onComplete(ar -> failed.addAll(chunkFailed)));
    }
    return Future.join(chunks).mapEmpty();
  }

  private Future<Void> applyAll(PgConnection conn, List<RoleDiff.RoleChange> changes, JsonArray failed) {
    if (changes.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> all = new ArrayList<>();
    changes.forEach(c -> all.addAll(c.statements()));
    return transaction(conn, all).recover(e -> {
      // one role broke the batch: apply role by role so the others still sync
      Future<Void> chain = Future.succeededFuture();
      for (RoleDiff.RoleChange c : changes) {
        chain = chain.compose(v -> transaction(conn, c.statements()).recover(err -> {
          failed.add(new JsonObject().put("name", c.role()).put("reason", err.getMessage()));
          return Future.succeededFuture();
        }));
      }
      return chain;
    });
  }

  /** All statements in one round trip (simple query protocol), in one transaction; all or nothing. */
  private static Future<Void> transaction(PgConnection conn, List<String> statements) {
    return conn.begin().compose(tx -> conn.query(String.join(";\n", statements)).execute().<Void>mapEmpty()
        .compose(v -> tx.commit())
        .recover(e -> tx.rollback().transform(r -> Future.failedFuture(e))));
  }

  static final String ACTUAL_DATABASES = """
      SELECT d.datname, pg_get_userbyid(d.datdba) AS owner, pg_get_userbyid(a.grantee) AS grantee, a.privilege_type
        FROM pg_database d LEFT JOIN LATERAL aclexplode(d.datacl) a ON a.grantee <> 0
      """;

  /** Databases after roles (owners and grantees may be roles created just now); each statement alone. */
  private Future<Void> databases(PgConnection conn, List<DesiredDatabase> dbs, Set<String> roles, Set<String> managed,
                                 JsonArray failed, JsonObject result) {
    if (dbs.isEmpty()) {
      return Future.succeededFuture();
    }
    return conn.query(ACTUAL_DATABASES).execute().compose(rows -> {
      Map<String, DatabaseDiff.ActualDatabase> actual = new HashMap<>();
      for (Row r : rows) {
        DatabaseDiff.ActualDatabase db = actual.computeIfAbsent(r.getString("datname"),
            k -> new DatabaseDiff.ActualDatabase(r.getString("owner"), new HashMap<>()));
        if (r.getString("grantee") != null) {
          db.privileges().computeIfAbsent(r.getString("grantee"), k -> new HashSet<>()).add(r.getString("privilege_type"));
        }
      }
      DatabaseDiff.Plan plan = DatabaseDiff.plan(dbs, actual, roles, managed);
      plan.errors().forEach((name, reason) -> failed.add(new JsonObject().put("name", name)
          .put("reason", "database: " + reason)));
      result.put("readStatements", result.getInteger("readStatements") + 1);
      result.put("writeStatements", result.getInteger("writeStatements") + plan.statementCount());
      plan.changes().forEach(c -> result.getJsonArray("changed").add(new JsonObject().put("database", c.database())
          .put("changes", new JsonArray(c.descriptions()))));
      if (result.getBoolean("dryRun")) {
        return Future.succeededFuture();
      }
      Future<Void> chain = Future.succeededFuture();
      for (DatabaseDiff.DatabaseChange c : plan.changes()) {
        for (String sql : c.statements()) {
          chain = chain.compose(v -> conn.query(sql).execute().<Void>mapEmpty().recover(e -> {
            failed.add(new JsonObject().put("name", c.database()).put("reason", e.getMessage()));
            return Future.succeededFuture();
          }));
        }
      }
      for (DesiredDatabase db : dbs) {
        if (db.defaultRoles() && !plan.errors().containsKey(db.name())) {
          String owner = db.owner() != null ? db.owner()
              : actual.containsKey(db.name()) ? actual.get(db.name()).owner() : pg.options().getUser();
          chain = chain.compose(v -> defaultRoles(db, owner, result).recover(e -> {
            failed.add(new JsonObject().put("name", db.name()).put("reason", "default roles: " + e.getMessage()));
            return Future.succeededFuture();
          }));
        }
      }
      return chain;
    });
  }

  /** Inside the database: a read-only check, and the grants in one transaction only when something is missing. */
  private Future<Void> defaultRoles(DesiredDatabase db, String owner, JsonObject result) {
    return pg.connectWithin(db.name()).compose(c -> c.preparedQuery(DefaultRoles.CHECK)
        .execute(io.vertx.sqlclient.Tuple.of(db.readerRole(), db.writerRole(), owner))
        .compose(rows -> {
          result.put("readStatements", result.getInteger("readStatements") + 1);
          if (Boolean.TRUE.equals(rows.iterator().next().getBoolean(0))) {
            return Future.<Void>succeededFuture();
          }
          List<String> grants = DefaultRoles.grants(db.readerRole(), db.writerRole(), owner);
          result.put("writeStatements", result.getInteger("writeStatements") + grants.size());
          result.getJsonArray("changed").add(new JsonObject().put("database", db.name())
              .put("changes", new JsonArray().add("default roles")));
          return transaction(c, grants);
        })
        .eventually(c::close));
  }

  private static ActualRole toActual(Row r) {
    Object[] groups = r.getArrayOfStrings("member_of");
    Set<String> memberOf = new HashSet<>();
    if (groups != null) {
      for (Object g : groups) {
        memberOf.add((String) g);
      }
    }
    return new ActualRole(r.getString("rolname"), r.getBoolean("rolcanlogin"), r.getBoolean("rolsuper"),
        r.getBoolean("rolcreatedb"), r.getBoolean("rolcreaterole"), r.getBoolean("rolreplication"),
        r.getBoolean("rolbypassrls"), r.getBoolean("rolinherit"), r.getInteger("rolconnlimit"),
        r.getString("valid_until"), memberOf, r.getString("rolpassword"),
        RoleDiff.MARKER.equals(r.getString("comment")), r.getString("deps"));
  }
}
