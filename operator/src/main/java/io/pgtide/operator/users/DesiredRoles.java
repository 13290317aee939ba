package io.pgtide.operator.users;

import io.pgtide.common.contract.DesiredDatabase;
import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.contract.ScramVerifier;
import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Maps the declared users of a cluster to the contract's desired roles. Pure: passwords come from a lookup. */
public final class DesiredRoles {
  private DesiredRoles() {
  }

  /** The Secret a generated password lives in, named like Zalando's. */
  public static String secretName(String user, String cluster) {
    return user + "." + cluster + ".credentials.postgresql.pgtide.io";
  }

  /**
   * @param passwords user name → plaintext password (from its Secret); a user with none and no
   *                  {@code disablePassword} keeps whatever password it has
   */
  public static List<DesiredRole> of(String clusterKey, List<PostgresClusterSpec.UserSpec> users,
                                     Function<String, String> passwords) {
    List<DesiredRole> out = new ArrayList<>();
    for (PostgresClusterSpec.UserSpec u : users) {
      boolean present = !"absent".equalsIgnoreCase(u.ensure);
      String password = present && !u.disablePassword ? passwords.apply(u.name) : null;
      String verifier = password == null ? null : ScramVerifier.compute(clusterKey, u.name, password);
      out.add(new DesiredRole(u.name, present, u.login, u.superuser, u.createdb, u.createrole, u.replication,
          u.bypassrls, u.inherit, u.connectionLimit, u.validUntil, u.memberOf, verifier, u.disablePassword,
          u.reassignTo));
    }
    return out;
  }

  public static List<DesiredDatabase> databases(List<PostgresClusterSpec.DatabaseSpec> dbs) {
    return dbs.stream().map(d -> new DesiredDatabase(d.name, d.owner, Map.of(), false)).toList();
  }
}
