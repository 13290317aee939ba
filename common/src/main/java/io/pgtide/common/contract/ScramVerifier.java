package io.pgtide.common.contract;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 verifiers in PostgreSQL's format, computed by the operator so plaintext never reaches the server.
 * The salt is derived from (cluster, role, password) with HMAC: the same password gives the same verifier, so a
 * sync can tell "unchanged" from "rotated" by comparing verifiers, while different roles still get different salts.
 */
public final class ScramVerifier {
  public static final int ITERATIONS = 4096;

  private ScramVerifier() {
  }

  /** Verifiers already computed, keyed by a SHA-256 of (cluster, role, password): a sync of 1,000 users every 30 s
   * would otherwise spend seconds in PBKDF2. The plaintext is not kept. */
  private static final java.util.Map<String, String> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

  public static String compute(String clusterKey, String role, String password) {
    String key = cacheKey(clusterKey, role, password);
    String cached = CACHE.get(key);
    if (cached != null) {
      return cached;
    }
    if (CACHE.size() > 100_000) {
      CACHE.clear();
    }
    String verifier = derive(clusterKey, role, password);
    CACHE.put(key, verifier);
    return verifier;
  }

  private static String cacheKey(String clusterKey, String role, String password) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String part : new String[] {clusterKey, role, password}) {
        byte[] b = part.getBytes(StandardCharsets.UTF_8);
        sha.update((byte) (b.length >>> 8));
        sha.update((byte) b.length);
        sha.update(b);
      }
      return Base64.getEncoder().encodeToString(sha.digest());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String derive(String clusterKey, String role, String password) {
    byte[] salt = Arrays16.first16(hmac(password.getBytes(StandardCharsets.UTF_8),
        ("pgtide-salt:" + clusterKey + ":" + role).getBytes(StandardCharsets.UTF_8)));
    return compute(password, salt, ITERATIONS);
  }

  public static String compute(String password, byte[] salt, int iterations) {
    try {
      String normalized = Normalizer.normalize(password, Normalizer.Form.NFKC);
      SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
      byte[] salted = f.generateSecret(new PBEKeySpec(normalized.toCharArray(), salt, iterations, 256)).getEncoded();
      byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.UTF_8));
      byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
      byte[] serverKey = hmac(salted, "Server Key".getBytes(StandardCharsets.UTF_8));
      Base64.Encoder b64 = Base64.getEncoder();
      return "SCRAM-SHA-256$" + iterations + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey)
          + ":" + b64.encodeToString(serverKey);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SCRAM-SHA-256 is not available", e);
    }
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

  private static final class Arrays16 {
    static byte[] first16(byte[] in) {
      return java.util.Arrays.copyOf(in, 16);
    }
  }
}
