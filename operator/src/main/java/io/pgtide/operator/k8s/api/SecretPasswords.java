package io.pgtide.operator.k8s.api;

import io.pgtide.operator.k8s.model.ClusterModel;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.secrets.ClusterSecrets;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgtide.operator.users.DesiredRoles;
import io.pgtide.operator.users.UserSecrets;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Passwords from Kubernetes Secrets: the one a user references, or the generated one (named by
 * {@link UserSecrets#secretName}, created on first use, never overwritten; a user whose Secret would be another
 * role's is refused, and a Secret the API server refuses fails that user only). The
 * namespace's Secrets are listed once per sync, not fetched per user, and re-read after {@code maxAgeMs} so a
 * changed Secret rotates the password at the next sync. Blocking: call it off the event loop.
 */
public final class SecretPasswords implements DesiredRoles.PasswordSource {
  private final KubernetesClient client;
  private final PostgresCluster cluster;
  private final long maxAgeMs;
  private Map<String, Secret> secrets;
  private long readAt;

  public SecretPasswords(KubernetesClient client, PostgresCluster cluster, long maxAgeMs) {
    this.client = client;
    this.cluster = cluster;
    this.maxAgeMs = maxAgeMs;
  }

  @Override
  public String password(PostgresClusterSpec.UserSpec user) {
    if (user.passwordSecret != null) {
      Secret s = secrets().get(user.passwordSecret.name);
      if (s == null) {
        throw new IllegalStateException("password Secret " + user.passwordSecret.name + " not found in namespace "
            + namespace());
      }
      String value = valueOf(s, user.passwordSecret.key);
      if (value == null || value.isEmpty()) {
        throw new IllegalStateException("password Secret " + user.passwordSecret.name + " has no key "
            + user.passwordSecret.key);
      }
      return value;
    }
    return generated(user.name);
  }

  @Override
  public Map<String, String> refused(List<PostgresClusterSpec.UserSpec> users) {
    return UserSecrets.refused(cluster.getMetadata().getName(), users);
  }

  private synchronized String generated(String user) {
    String name = UserSecrets.secretName(user, cluster.getMetadata().getName());
    Secret s = secrets().get(name);
    if (s == null) {
      try {
        s = client.secrets().inNamespace(namespace()).resource(ClusterModel.credentials(cluster, name, user,
            ClusterSecrets.password(24))).create();
      } catch (KubernetesClientException e) {
        // the API server's own words (never the object: it holds the password)
        String why = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
            : "HTTP " + e.getCode();
        throw new IllegalStateException("the API server refused the password Secret " + name + ": " + why, e);
      }
      secrets.put(name, s);
    }
    String value = passwordOf(s);
    if (value == null || value.isEmpty()) {
      throw new IllegalStateException("generated password Secret " + name + " has no key password");
    }
    return value;
  }

  private synchronized Map<String, Secret> secrets() {
    long now = System.currentTimeMillis();
    if (secrets == null || now - readAt > maxAgeMs) {
      Map<String, Secret> byName = new HashMap<>();
      client.secrets().inNamespace(namespace()).list().getItems()
          .forEach(s -> byName.put(s.getMetadata().getName(), s));
      secrets = byName;
      readAt = now;
    }
    return secrets;
  }

  /** The {@code password} key of a Secret; null when it has none. */
  public static String passwordOf(Secret s) {
    return valueOf(s, "password");
  }

  /**
   * A key of a Secret as text: {@code data} decoded (base64, UTF-8), else {@code stringData}; null when it has none.
   * The one place pgtide decodes a Secret's value.
   */
  public static String valueOf(Secret s, String key) {
    if (s.getData() != null && s.getData().get(key) != null) {
      return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }
    return s.getStringData() == null ? null : s.getStringData().get(key);
  }

  private String namespace() {
    return cluster.getMetadata().getNamespace();
  }
}
