package io.pgtide.operator.users;

import io.pgtide.common.contract.DesiredDatabase;
import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.contract.ScramVerifier;
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
  }

  /** The roles to send, and the users that could not be turned into one (with the reason). */
  public record Result(List<DesiredRole> roles, Map<String, String> errors) {
  }

  /** The Secret a generated password lives in, named like Zalando's. */
  public static String secretName(String user, String cluster) {
    return user + "." + cluster + ".credentials.postgresql.pgtide.io";
  }

  public static Result of(String clusterKey, List<PostgresClusterSpec.UserSpec> users, PasswordSource passwords) {
    List<DesiredRole> out = new ArrayList<>();
    Map<String, String> errors = new LinkedHashMap<>();
    for (PostgresClusterSpec.UserSpec u : users) {
      if (u.name == null || u.name.isEmpty()) {
        errors.put(String.valueOf(u.name), "user has no name");
        continue;
      }
      boolean present = !"absent".equalsIgnoreCase(u.ensure);
      if (!present && !"absent".equals(u.ensure) && u.ensure != null && !"present".equals(u.ensure)) {
        errors.put(u.name, "ensure must be present or absent, got '" + u.ensure + "'");
        continue;
      }
      String verifier = null;
      if (present && !u.disablePassword && u.login) {
        try {
          verifier = ScramVerifier.compute(clusterKey, u.name, passwords.password(u));
        } catch (IllegalStateException e) {
          errors.put(u.name, e.getMessage());
          continue;
        }
      }
      out.add(new DesiredRole(u.name, present, u.login, u.superuser, u.createdb, u.createrole, u.replication,
          u.bypassrls, u.inherit, u.connectionLimit, u.validUntil, u.memberOf, verifier, u.disablePassword,
          u.reassignTo));
    }
    return new Result(out, errors);
  }

  public static List<DesiredDatabase> databases(List<PostgresClusterSpec.DatabaseSpec> dbs) {
    return dbs.stream().map(d -> new DesiredDatabase(d.name, d.owner, Map.of(), false)).toList();
  }
}
