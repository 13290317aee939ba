package io.pgtide.common.contract;

import java.util.List;

/**
 * One role as the operator wants it, sent to the primary's sidecar. The password travels only as a SCRAM-SHA-256
 * verifier ({@code passwordVerifier}); null with {@code disablePassword=false} means "leave the password alone".
 */
public record DesiredRole(String name, boolean present, boolean login, boolean superuser, boolean createdb,
                          boolean createrole, boolean replication, boolean bypassrls, boolean inherit,
                          int connectionLimit, String validUntil, List<String> memberOf, String passwordVerifier,
                          boolean disablePassword, String reassignTo) {
  public DesiredRole {
    memberOf = memberOf == null ? List.of() : List.copyOf(memberOf);
  }

  public static DesiredRole login(String name, String verifier, List<String> memberOf) {
    return new DesiredRole(name, true, true, false, false, false, false, false, true, -1, null, memberOf, verifier,
        false, null);
  }

  public static DesiredRole group(String name) {
    return new DesiredRole(name, true, false, false, false, false, false, false, true, -1, null, List.of(), null,
        false, null);
  }

  public static DesiredRole absent(String name, String reassignTo) {
    return new DesiredRole(name, false, false, false, false, false, false, false, true, -1, null, List.of(), null,
        false, reassignTo);
  }
}
