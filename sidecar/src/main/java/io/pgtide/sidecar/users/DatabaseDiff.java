package io.pgtide.sidecar.users;

import io.pgtide.common.contract.DesiredDatabase;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The pure difference between declared and actual databases: creation, owner, and database-level privileges
 * (CONNECT, CREATE, TEMPORARY) per role. Privileges a pgtide-managed role holds but is not declared to have are
 * revoked; grants to roles pgtide does not manage (and to PUBLIC) are left alone.
 */
public final class DatabaseDiff {
  static final Set<String> PRIVILEGES = Set.of("CONNECT", "CREATE", "TEMPORARY");

  private DatabaseDiff() {
  }

  /** A database as PostgreSQL has it: its owner and the privileges granted per role. */
  public record ActualDatabase(String owner, Map<String, Set<String>> privileges) {
  }

  /** One database's statements; each runs alone (CREATE DATABASE cannot run in a transaction). */
  public record DatabaseChange(String database, List<String> statements, List<String> descriptions) {
  }

  public record Plan(List<DatabaseChange> changes, Map<String, String> errors) {
    public int statementCount() {
      return changes.stream().mapToInt(c -> c.statements().size()).sum();
    }
  }

  /**
   * @param roles every role that exists once the role sync ran
   * @param managed the roles pgtide manages (only their privileges are revoked)
   */
  public static Plan plan(List<DesiredDatabase> desired, Map<String, ActualDatabase> actual, Set<String> roles,
                          Set<String> managed) {
    List<DatabaseChange> changes = new ArrayList<>();
    Map<String, String> errors = new LinkedHashMap<>();
    Set<String> seen = new TreeSet<>();
    for (DesiredDatabase db : desired) {
      String problem = validate(db, roles);
      if (problem == null && !seen.add(db.name())) {
        problem = "declared twice";
      }
      if (problem != null) {
        errors.put(db.name(), problem);
        continue;
      }
      List<String> sql = new ArrayList<>();
      List<String> what = new ArrayList<>();
      ActualDatabase a = actual.get(db.name());
      String db_ = Sql.ident(db.name());
      if (a == null) {
        sql.add("CREATE DATABASE " + db_ + (db.owner() == null ? "" : " OWNER " + Sql.ident(db.owner())));
        what.add("create");
      } else if (db.owner() != null && !db.owner().equals(a.owner())) {
        sql.add("ALTER DATABASE " + db_ + " OWNER TO " + Sql.ident(db.owner()));
        what.add("owner " + db.owner());
      }
      String owner = db.owner() != null ? db.owner() : a == null ? null : a.owner();
      Map<String, Set<String>> have = a == null ? Map.of() : a.privileges();
      Map<String, Set<String>> want = new LinkedHashMap<>();
      db.privileges().forEach((role, privs) -> want.put(role, normalize(privs)));
      want.forEach((role, privs) -> {
        Set<String> missing = new TreeSet<>(privs);
        missing.removeAll(have.getOrDefault(role, Set.of()));
        if (!missing.isEmpty()) {
          sql.add("GRANT " + String.join(", ", missing) + " ON DATABASE " + db_ + " TO " + Sql.ident(role));
          what.add("grant " + String.join(",", missing) + " to " + role);
        }
      });
      new TreeSet<>(have.keySet()).forEach(role -> {
        if (!managed.contains(role) || role.equals(owner)) {
          return;
        }
        Set<String> extra = new TreeSet<>(have.get(role));
        extra.removeAll(want.getOrDefault(role, Set.of()));
        if (!extra.isEmpty()) {
          sql.add("REVOKE " + String.join(", ", extra) + " ON DATABASE " + db_ + " FROM " + Sql.ident(role));
          what.add("revoke " + String.join(",", extra) + " from " + role);
        }
      });
      if (!sql.isEmpty()) {
        changes.add(new DatabaseChange(db.name(), sql, what));
      }
    }
    return new Plan(changes, errors);
  }

  private static String validate(DesiredDatabase db, Set<String> roles) {
    if (db.name() == null || db.name().isEmpty()) {
      return "database name is empty";
    }
    int bytes = db.name().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > RoleDiff.MAX_NAME_BYTES) {
      return "database name is " + bytes + " bytes; PostgreSQL's limit is 63 (it would silently truncate)";
    }
    if (db.name().indexOf('\0') >= 0) {
      return "database name contains a NUL byte";
    }
    if (Set.of("postgres", "template0", "template1").contains(db.name())) {
      return "database '" + db.name() + "' is reserved";
    }
    if (db.owner() != null && !roles.contains(db.owner())) {
      return "owner '" + db.owner() + "': no such role is declared or exists";
    }
    for (Map.Entry<String, List<String>> e : db.privileges().entrySet()) {
      if (!roles.contains(e.getKey())) {
        return "privileges for '" + e.getKey() + "': no such role is declared or exists";
      }
      for (String p : e.getValue()) {
        if (normalizeOne(p) == null) {
          return "privileges for '" + e.getKey() + "': unknown database privilege '" + p
              + "' (CONNECT, CREATE, TEMPORARY)";
        }
      }
    }
    return null;
  }

  static Set<String> normalize(List<String> privs) {
    Set<String> out = new TreeSet<>();
    privs.forEach(p -> out.add(normalizeOne(p)));
    return out;
  }

  private static String normalizeOne(String p) {
    if (p == null) {
      return null;
    }
    String u = p.trim().toUpperCase(java.util.Locale.ROOT);
    u = u.equals("TEMP") ? "TEMPORARY" : u;
    return PRIVILEGES.contains(u) ? u : null;
  }
}
