package io.pgtide.operator.users;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class ScramVerifierTest {
  /** RFC 7677's salt; StoredKey and ServerKey for "pencil" computed apart with Python's hashlib/hmac. */
  static final String PENCIL = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
      + "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

  static String salt(String verifier) {
    return verifier.split("\\$")[1].split(":")[1];
  }

  @Test
  void matchesTheRfc7677VectorComputedIndependently() {
    assertThat(ScramVerifier.compute("pencil", Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096))
        .isEqualTo(PENCIL);
    assertThat(ScramVerifier.check("pencil", PENCIL)).isTrue();
    assertThat(ScramVerifier.check("pencil ", PENCIL)).isFalse();
  }

  @Test
  void everyNewVerifierHasItsOwnRandomSixteenByteSalt() {
    ScramVerifier scram = new ScramVerifier();
    String a = scram.verifierFor("alice", "s3cret", null);
    String b = scram.verifierFor("alice", "s3cret", null);
    String c = scram.verifierFor("bob", "s3cret", null);
    assertThat(Base64.getDecoder().decode(salt(a))).hasSize(16);
    assertThat(java.util.Set.of(salt(a), salt(b), salt(c))).hasSize(3);
    assertThat(a).startsWith("SCRAM-SHA-256$4096:").doesNotContain("s3cret");
    assertThat(ScramVerifier.check("s3cret", a)).isTrue();
    assertThat(ScramVerifier.check("s3cret", c)).isTrue();
  }

  @Test
  void anUnchangedPasswordKeepsTheStoredVerifierAChangedOneGetsANewSalt() {
    ScramVerifier scram = new ScramVerifier();
    assertThat(scram.verifierFor("alice", "pencil", PENCIL)).isSameAs(PENCIL);
    assertThat(scram.verifierFor("alice", "pencil", PENCIL)).as("from the check cache").isSameAs(PENCIL);
    assertThat(new ScramVerifier().verifierFor("alice", "pencil", PENCIL)).as("a restarted operator").isEqualTo(PENCIL);
    String rotated = scram.verifierFor("alice", "pen", PENCIL);
    assertThat(rotated).isNotEqualTo(PENCIL);
    assertThat(salt(rotated)).isNotEqualTo(salt(PENCIL));
    assertThat(ScramVerifier.check("pen", rotated)).isTrue();
  }

  @Test
  void aStoredValueThatIsNotAUsableScramVerifierIsReplaced() {
    ScramVerifier scram = new ScramVerifier();
    for (String bad : new String[] {"md5" + "0".repeat(32), "SCRAM-SHA-256$x:abc$def:ghi", "SCRAM-SHA-256$4096:!!$a:b",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==", "", PENCIL.replace("4096:", "2000000:"),
        PENCIL.replace("4096:", "0:")}) {
      assertThat(scram.matches("alice", "pencil", bad)).as(bad).isFalse();
      assertThat(ScramVerifier.check("pencil", scram.verifierFor("alice", "pencil", bad))).isTrue();
    }
  }

  @Test
  void aVerifierPostgresqlMadeWithOtherIterationsIsCheckedWithItsOwnCount() {
    byte[] salt = new byte[16];
    String stored = ScramVerifier.compute("pencil", salt, 10_000);
    assertThat(new ScramVerifier().verifierFor("alice", "pencil", stored)).isEqualTo(stored);
  }
}
