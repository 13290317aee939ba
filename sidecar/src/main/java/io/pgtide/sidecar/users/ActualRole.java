package io.pgtide.sidecar.users;

import java.util.Set;

/** A role as PostgreSQL has it ({@code pg_authid} + {@code pg_auth_members} + its comment). */
public record ActualRole(String name, boolean login, boolean superuser, boolean createdb, boolean createrole,
                         boolean replication, boolean bypassrls, boolean inherit, int connectionLimit,
                         String validUntil, Set<String> memberOf, String password, boolean managed,
                         String dependencies) {
  public ActualRole {
    memberOf = memberOf == null ? Set.of() : Set.copyOf(memberOf);
  }
}
