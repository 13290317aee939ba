package io.pgtide.operator.users;

import io.pgtide.common.contract.DesiredDatabase;
import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Maps the declared users of a cluster to the contract's desired roles. Pure: passwords come from a source. */
public final class DesiredRoles {
  private DesiredRoles() {
  }

  /** Where passwords come from: a Secret per user (Kubernetes) or a file per user (local mode). */
  public interface PasswordSource {
    /** The user's plaintext password; throws {@link IllegalStateException} saying why when it cannot be had. */
    String password(PostgresClusterSpec.UserSpec user);

    /**
     * The users refused before any password is read, with the reason: on both paths those whose generated Secret
     * would be another role's ({@link UserSecrets#refused}). None by default.
     */
    default Map<String, String> refused(List<PostgresClusterSpec.UserSpec> users) {
      return Map.of();
    }
  }

  /** The roles to send, and the users that could not be turned into one (with the reason). */
  public record Result(List<DesiredRole> roles, Map<String, String> errors) {
  }

  /** The roles whose password the operator sets: the names to ask the primary's stored verifiers for. */
  public static List<String> withPasswords(List<PostgresClusterSpec.UserSpec> users) {
    return users.stream().filter(DesiredRoles::needsPassword).map(u -> u.name).toList();
  }

  /**
   * @param stored the verifiers PostgreSQL stores now (role → verifier), so an unchanged password keeps its own
   */
  public static Result of(List<PostgresClusterSpec.UserSpec> users, PasswordSource passwords, ScramVerifier scram,
                          Map<String, String> stored) {
    Map<String, String> refused = passwords.refused(users);
    // a first sync of many users checks or derives many verifiers (PBKDF2, ~2 ms each): spread over the cores
    // a refused user's password is never read: its generated Secret would be another role's
    List<Object> verifiers = users.parallelStream().map(u -> u.name != null && refused.containsKey(u.name) ? NONE
        : verifier(u, passwords, scram, stored)).toList();
    List<DesiredRole> out = new ArrayList<>();
    Map<String, String> errors = new LinkedHashMap<>();
    for (int i = 0; i < users.size(); i++) {
      PostgresClusterSpec.UserSpec u = users.get(i);
      if (u.name == null || u.name.isEmpty()) {
        errors.put(String.valueOf(u.name), "user has no name");
        continue;
      }
      if (u.ensure != null && !"present".equals(u.ensure) && !"absent".equals(u.ensure)) {
        errors.put(u.name, "ensure must be present or absent, got '" + u.ensure + "'");
        continue;
      }
      if (refused.containsKey(u.name)) {
        errors.put(u.name, refused.get(u.name));
        continue;
      }
      if (verifiers.get(i) instanceof RuntimeException e) {
        errors.put(u.name, e.getMessage());
        continue;
      }
      out.add(new DesiredRole(u.name, !"absent".equals(u.ensure), u.login, u.superuser, u.createdb, u.createrole,
          u.replication, u.bypassrls, u.inherit, u.connectionLimit, u.validUntil, u.memberOf,
          verifiers.get(i) instanceof String v ? v : null, u.disablePassword, u.reassignTo));
    }
    return new Result(out, errors);
  }

  /**
   * The user's SCRAM verifier, NONE when it needs none, or the exception saying why it cannot have one: any failure
   * (a Secret the API server refuses too) stays this user's, and every other user still syncs.
   */
  private static Object verifier(PostgresClusterSpec.UserSpec u, PasswordSource passwords, ScramVerifier scram,
                                 Map<String, String> stored) {
    if (!needsPassword(u)) {
      return NONE;
    }
    try {
      return scram.verifierFor(u.name, passwords.password(u), stored.get(u.name));
    } catch (RuntimeException e) {
      return e instanceof IllegalStateException ? e : new IllegalStateException("no password: " + e.getMessage(), e);
    }
  }

  static boolean needsPassword(PostgresClusterSpec.UserSpec u) {
    return u.name != null && !u.name.isEmpty() && !"absent".equals(u.ensure) && !u.disablePassword && u.login;
  }

  private static final Object NONE = new Object() {
  };

  /** Declared databases; one with {@code defaultRoles} grants CONNECT to its reader and writer roles too. */
  public static List<DesiredDatabase> databases(List<PostgresClusterSpec.DatabaseSpec> dbs) {
    return dbs.stream().map(d -> {
      Map<String, List<String>> privileges = new LinkedHashMap<>(d.privileges == null ? Map.of() : d.privileges);
      DesiredDatabase db = new DesiredDatabase(d.name, d.owner, privileges, d.defaultRoles);
      if (d.defaultRoles) {
        privileges.putIfAbsent(db.readerRole(), List.of("CONNECT"));
        privileges.putIfAbsent(db.writerRole(), List.of("CONNECT"));
      }
      return new DesiredDatabase(d.name, d.owner, privileges, d.defaultRoles);
    }).toList();
  }

  /** The declared roles plus the group roles of databases with {@code defaultRoles} (a declared one wins). */
  public static List<DesiredRole> withDefaultGroups(List<DesiredRole> roles, List<DesiredDatabase> dbs) {
    List<DesiredRole> all = new ArrayList<>(roles);
    java.util.Set<String> declared = new java.util.HashSet<>();
    roles.forEach(r -> declared.add(r.name()));
    for (DesiredDatabase db : dbs) {
      if (db.defaultRoles()) {
        for (String group : List.of(db.readerRole(), db.writerRole())) {
          if (declared.add(group)) {
            all.add(DesiredRole.group(group));
          }
        }
      }
    }
    return all;
  }
}
