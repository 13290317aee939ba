package io.pgtide.common.secrets;

import java.security.SecureRandom;

/** The superuser and replication credentials of a local cluster. Never logged. */
public record ClusterSecrets(String superuser, String superuserPassword, String replicationUser,
                             String replicationPassword) {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

  public static ClusterSecrets generate() {
    return new ClusterSecrets("postgres", password(24), "standby", password(24));
  }

  public static String password(int length) {
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return "ClusterSecrets[superuser=" + superuser + ", replicationUser=" + replicationUser + ", passwords redacted]";
  }
}
