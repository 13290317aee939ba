package io.pgtide.operator.pooler;

/**
 * The SQL behind PgBouncer's {@code auth_query} (issue #32), as Zalando and CloudNativePG do it: a login role
 * {@value #ROLE} that pgtide manages, and a SECURITY DEFINER function that returns a role's SCRAM verifier to it and to
 * no one else. Every statement is idempotent: run again after a failover, an upgrade or on a new database. Pure.
 */
public final class PoolerSql {
  /** PgBouncer's {@code auth_user} and admin console user. */
  public static final String ROLE = "pgtide_pooler";
  /** The lookup function's schema: its own, so granting it touches nothing of the users'. */
  public static final String SCHEMA = "pgtide_pooler";
  /** What PgBouncer runs, as {@value #ROLE}, in the database a client asks for. */
  public static final String AUTH_QUERY = "SELECT usename, passwd FROM " + SCHEMA + ".user_lookup($1)";

  private PoolerSql() {
  }

  /**
   * The role, once per cluster (roles are cluster-wide): created when missing, then set to a plain login role with
   * {@code scramVerifier} as its password (a verifier, so the plaintext never reaches the server or its logs).
   */
  public static String role(String scramVerifier) {
    if (scramVerifier == null || !scramVerifier.startsWith("SCRAM-SHA-256$")) {
      throw new IllegalArgumentException("the pooler role's password must be a SCRAM-SHA-256 verifier");
    }
    return """
        DO $pgtide$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '%1$s') THEN
            CREATE ROLE %1$s LOGIN;
          END IF;
        END $pgtide$;
        ALTER ROLE %1$s WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT \
        PASSWORD %2$s;
        """.formatted(ROLE, literal(scramVerifier));
  }

  /**
   * The lookup function, in every database the pooler serves: PgBouncer 1.18 (Debian 12) has no {@code auth_dbname},
   * so it runs the auth query in the database the client asks for. The function runs as its owner (a superuser) to
   * read {@code pg_shadow}; its search_path is pinned so no one's objects can stand in for the catalog's, and only
   * {@value #ROLE} may call it. Superusers and replication roles are never returned: a leaked pooler password must
   * not hand out the verifiers worth most to an offline guess, so those roles connect directly, not through the
   * pooler. Run it after {@link #role}: the grants name the role.
   */
  public static String lookupFunction() {
    return """
        CREATE SCHEMA IF NOT EXISTS %1$s;
        REVOKE ALL ON SCHEMA %1$s FROM PUBLIC;
        GRANT USAGE ON SCHEMA %1$s TO %2$s;
        CREATE OR REPLACE FUNCTION %1$s.user_lookup(i_username text)
          RETURNS TABLE (usename name, passwd text)
          LANGUAGE sql STABLE SECURITY DEFINER
          SET search_path = pg_catalog, pg_temp
          AS $pgtide$
            SELECT s.usename, s.passwd FROM pg_catalog.pg_shadow s
            WHERE s.usename = i_username AND NOT s.usesuper AND NOT s.userepl
          $pgtide$;
        REVOKE ALL ON FUNCTION %1$s.user_lookup(text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION %1$s.user_lookup(text) TO %2$s;
        """.formatted(SCHEMA, ROLE);
  }

  /** A string literal: single quotes doubled, with standard_conforming_strings (PostgreSQL's default since 9.1). */
  static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }
}
