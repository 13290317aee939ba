package io.pgtide.common.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class ScramVerifierTest {
  @Test
  void hasPostgresVerifierFormat() {
    // PostgreSQL accepting a login with it is asserted against a real server (UserSyncIT, LocalModeE2E)
    byte[] salt = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    String v = ScramVerifier.compute("pencil", salt, 4096);
    assertThat(v).startsWith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$");
    assertThat(v.split("\\$")[2].split(":")).hasSize(2);
  }

  @Test
  void isStablePerRoleAndPasswordAndDiffersAcrossRolesAndPasswords() {
    String a = ScramVerifier.compute("shop/orders", "alice", "s3cret");
    assertThat(ScramVerifier.compute("shop/orders", "alice", "s3cret")).isEqualTo(a);
    assertThat(ScramVerifier.compute("shop/orders", "bob", "s3cret")).isNotEqualTo(a);
    assertThat(ScramVerifier.compute("shop/orders", "alice", "other")).isNotEqualTo(a);
    assertThat(a).doesNotContain("s3cret");
  }
}
