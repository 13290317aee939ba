package io.pgtide.operator.users;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 verifiers in PostgreSQL's format, computed by the operator so plaintext never reaches the server.
 *
 * <p>Every new verifier gets a random 16-byte salt (RFC 5802, and what PostgreSQL does itself). Whether a password
 * changed is told by checking the desired password against the verifier PostgreSQL stores, with the stored salt and
 * iteration count, as a login would: a password that did not change keeps its stored verifier, so a no-op sync writes
 * nothing. Nothing derived from a password leaves the operator except a verifier PostgreSQL stores.
 */
public final class ScramVerifier {
  public static final int ITERATIONS = 4096;
  /** A stored verifier asking for more rounds than this is treated as not matching (a new one is written). */
  static final int MAX_ITERATIONS = 1_000_000;
  private static final int CACHE_LIMIT = 100_000;

  private final SecureRandom random;
  /** Keys the check cache; random per process, never stored: a cache entry tells nothing about a password. */
  private final byte[] cacheKey = new byte[32];
  /**
   * Checks already made, keyed by an HMAC of (role, password, stored verifier): a sync of 1,000 users every 30 s would
   * otherwise spend seconds in PBKDF2. Neither the password nor anything a guess could be tested against is kept.
   */
  private final Map<String, Boolean> checked = new ConcurrentHashMap<>();

  public ScramVerifier() {
    this(new SecureRandom());
  }

  ScramVerifier(SecureRandom random) {
    this.random = random;
    random.nextBytes(cacheKey);
  }

  /**
   * The verifier to declare for {@code role}: {@code stored} when {@code password} matches it (no change), otherwise
   * a new verifier with a random salt. {@code stored} may be null (no role yet, no password, or not SCRAM).
   */
  public String verifierFor(String role, String password, String stored) {
    if (stored != null && matches(role, password, stored)) {
      return stored;
    }
    byte[] salt = new byte[16];
    random.nextBytes(salt);
    return compute(password, salt, ITERATIONS);
  }

  /** Does {@code password} log in against the PostgreSQL verifier {@code stored}? Malformed → false. */
  boolean matches(String role, String password, String stored) {
    String key = Base64.getEncoder().encodeToString(hmac(cacheKey, lengthPrefixed(role, password, stored)));
    Boolean known = checked.get(key);
    if (known != null) {
      return known;
    }
    boolean result = check(password, stored);
    if (checked.size() >= CACHE_LIMIT) {
      checked.clear();
    }
    checked.put(key, result);
    return result;
  }

  /** PostgreSQL's {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}, checked as a login would. */
  static boolean check(String password, String stored) {
    String[] parts = stored.split("\\$", -1);
    if (parts.length != 3 || !"SCRAM-SHA-256".equals(parts[0])) {
      return false;
    }
    String[] head = parts[1].split(":", -1);
    String[] keys = parts[2].split(":", -1);
    if (head.length != 2 || keys.length != 2) {
      return false;
    }
    try {
      int iterations = Integer.parseInt(head[0]);
      if (iterations < 1 || iterations > MAX_ITERATIONS) {
        return false;
      }
      byte[] salt = Base64.getDecoder().decode(head[1]);
      String expected = compute(password, salt, iterations);
      // constant time: the comparison must not tell how much of a guess was right
      return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
          stored.getBytes(StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * PostgreSQL's verifier for {@code password}, computed with the SCRAM library vertx-pg-client uses
   * (com.ongres.scram), with PostgreSQL's own password preparation (SASLprep, or the password as it is where SASLprep
   * refuses it, as the server does).
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

  private static byte[] lengthPrefixed(String... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
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
