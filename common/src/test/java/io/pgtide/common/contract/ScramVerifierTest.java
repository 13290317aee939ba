package io.pgtide.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ScramVerifierTest {
  static final ScramVerifier KEYED = new ScramVerifier(bytes(1));

  static byte[] bytes(int fill) {
    byte[] b = new byte[32];
    Arrays.fill(b, (byte) fill);
    return b;
  }

  static String salt(String verifier) {
    return verifier.split("\\$")[1].split(":")[1];
  }

  @Test
  void matchesTheRfc7677VectorComputedIndependently() {
    // StoredKey and ServerKey for "pencil" with RFC 7677's salt, computed with Python's hashlib/hmac
    byte[] salt = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    assertThat(ScramVerifier.compute("pencil", salt, 4096)).isEqualTo("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
        + "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
  }

  @Test
  void isStablePerRoleAndPasswordAndDiffersAcrossRolesAndPasswords() {
    String a = KEYED.compute("shop/orders", "alice", "s3cret");
    assertThat(KEYED.compute("shop/orders", "alice", "s3cret")).isEqualTo(a);
    assertThat(new ScramVerifier(bytes(1)).compute("shop/orders", "alice", "s3cret")).as("not only cached").isEqualTo(a);
    assertThat(KEYED.compute("shop/orders", "bob", "s3cret")).isNotEqualTo(a);
    assertThat(KEYED.compute("shop/payments", "alice", "s3cret")).isNotEqualTo(a);
    assertThat(KEYED.compute("shop/orders", "alice", "other")).isNotEqualTo(a);
    assertThat(a).doesNotContain("s3cret");
    // parts cannot be shifted into each other
    assertThat(KEYED.compute("shop/orders", "alic", "es3cret")).isNotEqualTo(a);
  }

  @Test
  void theSaltDependsOnTheSecretKeySoSeeingItDoesNotMakeGuessesCheap() {
    String one = KEYED.compute("shop/orders", "alice", "s3cret");
    String two = new ScramVerifier(bytes(2)).compute("shop/orders", "alice", "s3cret");
    assertThat(salt(one)).isNotEqualTo(salt(two));
    assertThat(salt(ScramVerifier.keyedBy("ca key A").compute("c", "r", "p")))
        .isNotEqualTo(salt(ScramVerifier.keyedBy("ca key B").compute("c", "r", "p")));
    assertThat(Base64.getDecoder().decode(salt(one))).hasSize(16);
    assertThatThrownBy(() -> new ScramVerifier(new byte[16])).isInstanceOf(IllegalArgumentException.class);
  }
}
