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

  /**
   * Kept with a cluster's state (local mode) or its backups (the backup agent): {@code secrets.json}, 0600, so a
   * restore can log in to what it restored.
   */
  public void save(java.nio.file.Path file) {
    PrivateFiles.write(file, new io.vertx.core.json.JsonObject().put("superuser", superuser)
        .put("superuserPassword", superuserPassword).put("replicationUser", replicationUser)
        .put("replicationPassword", replicationPassword).encode());
  }

  public static ClusterSecrets load(java.nio.file.Path file) throws java.io.IOException {
    io.vertx.core.json.JsonObject s = new io.vertx.core.json.JsonObject(java.nio.file.Files.readString(file));
    return new ClusterSecrets(s.getString("superuser"), s.getString("superuserPassword"),
        s.getString("replicationUser"), s.getString("replicationPassword"));
  }

  @Override
  public String toString() {
    return "ClusterSecrets[superuser=" + superuser + ", replicationUser=" + replicationUser + ", passwords redacted]";
  }
}
