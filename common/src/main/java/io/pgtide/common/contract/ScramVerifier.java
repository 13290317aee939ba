package io.pgtide.common.contract;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 verifiers in PostgreSQL's format, computed by the operator so plaintext never reaches the server.
 *
 * <p>The salt is an HMAC of (cluster, role, password) under a key only the operator holds: the same password gives
 * the same verifier, so a sync tells "unchanged" from "rotated" by comparing verifiers, and different roles get
 * different salts. The key matters: the salt is public (PostgreSQL sends it to any client that starts a SCRAM login,
 * and it sits in {@code pg_authid} and every backup). Were it computable from the password alone, anyone who saw it
 * could test a guess with one HMAC instead of 4,096 PBKDF2 rounds; under a secret key a guess costs the full
 * PBKDF2, as with a random salt.
 */
public final class ScramVerifier {
  public static final int ITERATIONS = 4096;

  private final byte[] saltKey;
  /** Verifiers already computed, keyed by a SHA-256 of (cluster, role, password): a sync of 1,000 users every 30 s
   * would otherwise spend seconds in PBKDF2. The plaintext is not kept. */
  private final java.util.Map<String, String> cache = new java.util.concurrent.ConcurrentHashMap<>();

  /** @param saltKey at least 32 bytes of secret material only the operator has */
  public ScramVerifier(byte[] saltKey) {
    if (saltKey == null || saltKey.length < 32) {
      throw new IllegalArgumentException("the salt key must be at least 32 bytes");
    }
    this.saltKey = saltKey.clone();
  }

  /** A salt key derived from secret material the operator already keeps (its CA's private key on Kubernetes). */
  public static ScramVerifier keyedBy(String secretMaterial) {
    try {
      return new ScramVerifier(MessageDigest.getInstance("SHA-256").digest(
          ("pgtide-scram-salt-key\0" + secretMaterial).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public String compute(String clusterKey, String role, String password) {
    byte[] input = lengthPrefixed(clusterKey, role, password);
    String key;
    try {
      key = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(input));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    String cached = cache.get(key);
    if (cached != null) {
      return cached;
    }
    if (cache.size() > 100_000) {
      cache.clear();
    }
    String verifier = compute(password, java.util.Arrays.copyOf(hmac(saltKey, input), 16), ITERATIONS);
    cache.put(key, verifier);
    return verifier;
  }

  private static byte[] lengthPrefixed(String... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (String part : parts) {
      byte[] b = part.getBytes(StandardCharsets.UTF_8);
      out.write(b.length >>> 24);
      out.write(b.length >>> 16);
      out.write(b.length >>> 8);
      out.write(b.length);
      out.writeBytes(b);
    }
    return out.toByteArray();
  }

  /**
   * PostgreSQL's {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>} for {@code password}, computed
   * with the SCRAM library vertx-pg-client uses (com.ongres.scram), with PostgreSQL's own password preparation
   * (SASLprep, or the password as it is where SASLprep refuses it, as the server does).
   */
  public static String compute(String password, byte[] salt, int iterations) {
    byte[] salted = ScramFunctions.saltedPassword(ScramMechanism.SCRAM_SHA_256, StringPreparation.POSTGRESQL_PREPARATION,
        password.toCharArray(), salt, iterations);
    byte[] storedKey = ScramFunctions.storedKey(ScramMechanism.SCRAM_SHA_256,
        ScramFunctions.clientKey(ScramMechanism.SCRAM_SHA_256, salted));
    byte[] serverKey = ScramFunctions.serverKey(ScramMechanism.SCRAM_SHA_256, salted);
    Base64.Encoder b64 = Base64.getEncoder();
    return "SCRAM-SHA-256$" + iterations + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey)
        + ":" + b64.encodeToString(serverKey);
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
