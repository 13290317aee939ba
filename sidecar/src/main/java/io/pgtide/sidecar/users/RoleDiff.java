package io.pgtide.sidecar.users;

import io.pgtide.common.contract.DesiredRole;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The pure difference between declared and actual roles: the statements that repair every drift (flags,
 * memberships, passwords, connection limit, validity, existence) of roles pgtide manages, and a per-role error for
 * every role that cannot be applied. Roles pgtide never managed and never declared are not touched.
 */
public final class RoleDiff {
  public static final String MARKER = "managed by pgtide";
  static final int MAX_NAME_BYTES = 63;

  private RoleDiff() {
  }

  /** One role's statements, applied together. */
  public record RoleChange(String role, List<String> statements, List<String> descriptions) {
  }

  /**
   * What to run: {@code changes} (existence, flags, memberships) then {@code passwords}. Passwords are separate
   * because each costs the server one PBKDF2 run (PostgreSQL checks a new SCRAM verifier against the empty
   * password), so a large batch of them may be spread over several connections.
   */
  public record Plan(List<RoleChange> changes, List<RoleChange> passwords, Map<String, String> errors,
                     Map<String, String> cannotDrop) {
    public int statementCount() {
      return changes.stream().mapToInt(c -> c.statements().size()).sum()
          + passwords.stream().mapToInt(c -> c.statements().size()).sum();
    }
  }

  public static Plan plan(List<DesiredRole> desired, Map<String, ActualRole> actual) {
    Map<String, String> errors = new LinkedHashMap<>();
    Map<String, String> cannotDrop = new LinkedHashMap<>();
    Map<String, DesiredRole> byName = new LinkedHashMap<>();
    for (DesiredRole r : desired) {
      String problem = validateName(r.name());
      if (problem == null && byName.containsKey(r.name())) {
        problem = "declared twice";
      }
      if (problem != null) {
        errors.put(r.name(), problem);
      } else {
        byName.put(r.name(), r);
      }
    }
    for (DesiredRole r : byName.values()) {
      for (String group : r.memberOf()) {
        String problem = validateName(group);
        if (problem != null) {
          errors.put(r.name(), "memberOf '" + group + "': " + problem);
        } else if (!actual.containsKey(group) && !(byName.containsKey(group) && byName.get(group).present())) {
          errors.put(r.name(), "memberOf '" + group + "': no such role is declared or exists");
        }
      }
      if (r.reassignTo() != null && !actual.containsKey(r.reassignTo()) && !byName.containsKey(r.reassignTo())) {
        errors.put(r.name(), "reassignTo '" + r.reassignTo() + "': no such role");
      }
    }
    for (String member : cycles(byName)) {
      errors.put(member, "membership cycle through " + member);
    }
    List<RoleChange> creates = new ArrayList<>();
    List<RoleChange> others = new ArrayList<>();
    List<RoleChange> passwords = new ArrayList<>();
    for (DesiredRole r : byName.values()) {
      if (errors.containsKey(r.name())) {
        continue;
      }
      ActualRole a = actual.get(r.name());
      if (!r.present()) {
        if (a != null && a.managed()) {
          if (a.dependencies() != null && r.reassignTo() == null) {
            cannotDrop.put(r.name(), a.dependencies());
          } else {
            others.add(drop(r));
          }
        }
        continue;
      }
      if (a != null && !a.managed()) {
        errors.put(r.name(), "role exists but is not managed by pgtide (no '" + MARKER
            + "' comment); adopt it with COMMENT ON ROLE … IS '" + MARKER + "'");
        continue;
      }
      RoleChange change = a == null ? create(r) : alter(r, a);
      if (!change.statements().isEmpty()) {
        (a == null ? creates : others).add(change);
      }
      if (r.passwordVerifier() != null && !r.disablePassword()
          && (a == null || !r.passwordVerifier().equals(a.password()))) {
        passwords.add(new RoleChange(r.name(), List.of("ALTER ROLE " + Sql.ident(r.name()) + password(r)),
            List.of("password")));
      }
    }
    // memberships may name roles created in this same plan: create every role first
    List<RoleChange> all = new ArrayList<>();
    for (RoleChange c : creates) {
      all.add(new RoleChange(c.role(), c.statements().stream().filter(s -> s.startsWith("CREATE ")
          || s.startsWith("COMMENT ")).toList(), List.of("create")));
    }
    for (RoleChange c : creates) {
      List<String> rest = c.statements().stream().filter(s -> !s.startsWith("CREATE ") && !s.startsWith("COMMENT "))
          .toList();
      if (!rest.isEmpty()) {
        all.add(new RoleChange(c.role(), rest, List.of("memberships")));
      }
    }
    all.addAll(others);
    return new Plan(all, passwords, errors, cannotDrop);
  }

  static String validateName(String name) {
    if (name == null || name.isEmpty()) {
      return "role name is empty";
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
      return "role name is " + name.getBytes(StandardCharsets.UTF_8).length
          + " bytes; PostgreSQL's limit is 63 (it would silently truncate)";
    }
    if (name.indexOf('\0') >= 0) {
      return "role name contains a NUL byte";
    }
    if (name.equals("postgres") || name.startsWith("pg_") || name.equals("public") || name.equals("standby")) {
      return "role name '" + name + "' is reserved";
    }
    return null;
  }

  private static RoleChange create(DesiredRole r) {
    List<String> sql = new ArrayList<>();
    sql.add("CREATE ROLE " + Sql.ident(r.name()) + " " + flags(r));
    sql.add("COMMENT ON ROLE " + Sql.ident(r.name()) + " IS " + Sql.literal(MARKER));
    for (String g : r.memberOf()) {
      sql.add("GRANT " + Sql.ident(g) + " TO " + Sql.ident(r.name()));
    }
    return new RoleChange(r.name(), sql, List.of("create"));
  }

  private static RoleChange alter(DesiredRole r, ActualRole a) {
    List<String> sql = new ArrayList<>();
    List<String> what = new ArrayList<>();
    boolean flagsDrift = r.login() != a.login() || r.superuser() != a.superuser() || r.createdb() != a.createdb()
        || r.createrole() != a.createrole() || r.replication() != a.replication() || r.bypassrls() != a.bypassrls()
        || r.inherit() != a.inherit() || r.connectionLimit() != a.connectionLimit()
        || !Objects.equals(normalizeValid(r.validUntil()), normalizeValid(a.validUntil()));
    if (flagsDrift) {
      sql.add("ALTER ROLE " + Sql.ident(r.name()) + " " + flags(r));
      what.add("flags");
    }
    if (r.disablePassword() && a.password() != null) {
      sql.add("ALTER ROLE " + Sql.ident(r.name()) + " PASSWORD NULL");
      what.add("password disabled");
    }
    Set<String> want = new TreeSet<>(r.memberOf());
    for (String g : want) {
      if (!a.memberOf().contains(g)) {
        sql.add("GRANT " + Sql.ident(g) + " TO " + Sql.ident(r.name()));
        what.add("grant " + g);
      }
    }
    for (String g : new TreeSet<>(a.memberOf())) {
      if (!want.contains(g)) {
        sql.add("REVOKE " + Sql.ident(g) + " FROM " + Sql.ident(r.name()));
        what.add("revoke " + g);
      }
    }
    return new RoleChange(r.name(), sql, what);
  }

  private static RoleChange drop(DesiredRole r) {
    List<String> sql = new ArrayList<>();
    if (r.reassignTo() != null) {
      sql.add("REASSIGN OWNED BY " + Sql.ident(r.name()) + " TO " + Sql.ident(r.reassignTo()));
      sql.add("DROP OWNED BY " + Sql.ident(r.name()));
    }
    sql.add("DROP ROLE " + Sql.ident(r.name()));
    return new RoleChange(r.name(), sql, List.of("drop"));
  }

  private static String flags(DesiredRole r) {
    return String.join(" ", r.login() ? "LOGIN" : "NOLOGIN", r.superuser() ? "SUPERUSER" : "NOSUPERUSER",
        r.createdb() ? "CREATEDB" : "NOCREATEDB", r.createrole() ? "CREATEROLE" : "NOCREATEROLE",
        r.replication() ? "REPLICATION" : "NOREPLICATION", r.bypassrls() ? "BYPASSRLS" : "NOBYPASSRLS",
        r.inherit() ? "INHERIT" : "NOINHERIT", "CONNECTION LIMIT " + r.connectionLimit(),
        "VALID UNTIL " + Sql.literal(r.validUntil() == null ? "infinity" : r.validUntil()));
  }

  private static String password(DesiredRole r) {
    if (r.passwordVerifier() == null) {
      return "";
    }
    if (!r.passwordVerifier().startsWith("SCRAM-SHA-256$")) {
      throw new IllegalArgumentException("only SCRAM-SHA-256 verifiers are accepted");
    }
    return " PASSWORD " + Sql.literal(r.passwordVerifier());
  }

  /** Declared validity (ISO date or timestamp) and actual (epoch seconds from PostgreSQL) compared as instants. */
  static String normalizeValid(String v) {
    if (v == null || v.equals("infinity")) {
      return null;
    }
    if (v.matches("-?[0-9]+(\\.[0-9]+)?")) {
      return Long.toString((long) Double.parseDouble(v));
    }
    try {
      return Long.toString(java.time.OffsetDateTime.parse(v).toEpochSecond());
    } catch (java.time.format.DateTimeParseException e) {
      return Long.toString(java.time.LocalDate.parse(v).atStartOfDay(java.time.ZoneOffset.UTC).toEpochSecond());
    }
  }

  /** Members of a membership cycle among the declared roles. */
  private static Set<String> cycles(Map<String, DesiredRole> roles) {
    Map<String, List<String>> edges = new HashMap<>();
    roles.values().forEach(r -> edges.put(r.name(), r.memberOf()));
    Set<String> inCycle = new HashSet<>();
    for (String start : edges.keySet()) {
      if (reaches(edges, start, start, new HashSet<>())) {
        inCycle.add(start);
      }
    }
    return inCycle;
  }

  private static boolean reaches(Map<String, List<String>> edges, String from, String target, Set<String> seen) {
    for (String next : edges.getOrDefault(from, List.of())) {
      if (next.equals(target)) {
        return true;
      }
      if (seen.add(next) && reaches(edges, next, target, seen)) {
        return true;
      }
    }
    return false;
  }
}
