package io.pgtide.operator.pooler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The text only; PoolerIT runs it on PostgreSQL (twice: it is idempotent) and logs in through PgBouncer. */
class PoolerSqlTest {
  static final String VERIFIER = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";

  @Test
  void theRoleIsCreatedWhenMissingAndGetsAVerifierNeverAPlaintext() {
    String sql = PoolerSql.role(VERIFIER);
    assertThat(sql).contains("IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgtide_pooler')")
        .contains("CREATE ROLE pgtide_pooler LOGIN")
        .contains("NOSUPERUSER").contains("NOREPLICATION").contains("PASSWORD '" + VERIFIER + "'");
    assertThatThrownBy(() -> PoolerSql.role("plain-password")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("plain-password");
  }

  @Test
  void theLookupIsASecurityDefinerWithAPinnedSearchPathOnlyThePoolerRoleMayRun() {
    String sql = PoolerSql.lookupFunction();
    assertThat(sql).contains("CREATE SCHEMA IF NOT EXISTS pgtide_pooler")
        .contains("CREATE OR REPLACE FUNCTION pgtide_pooler.user_lookup(i_username text)")
        .contains("SECURITY DEFINER").contains("SET search_path = pg_catalog, pg_temp")
        .contains("REVOKE ALL ON FUNCTION pgtide_pooler.user_lookup(text) FROM PUBLIC")
        .contains("GRANT EXECUTE ON FUNCTION pgtide_pooler.user_lookup(text) TO pgtide_pooler")
        .contains("NOT s.usesuper AND NOT s.userepl");
    assertThat(PoolerSql.AUTH_QUERY).isEqualTo("SELECT usename, passwd FROM pgtide_pooler.user_lookup($1)");
  }

  @Test
  void literalsDoubleTheirQuotes() {
    assertThat(PoolerSql.literal("it's")).isEqualTo("'it''s'");
  }
}
