package io.pgtide.operator.k8s.model;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresUser;
import io.pgtide.common.crd.PostgresUserStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A cluster's users: the ones declared inline plus the {@code PostgresUser} resources of its namespace that name
 * it, and what each PostgresUser's status should say. Pure. A user declared twice is refused, never merged.
 */
public final class ClusterUsers {
  private ClusterUsers() {
  }

  /** The users to sync, and the PostgresUsers (by resource name) refused with the reason. */
  public record Merged(List<PostgresClusterSpec.UserSpec> users, Map<String, String> refused) {
  }

  public static Merged merge(String cluster, PostgresClusterSpec spec, List<PostgresUser> resources) {
    List<PostgresClusterSpec.UserSpec> users = new ArrayList<>(spec.users);
    Map<String, String> declaredBy = new HashMap<>();
    spec.users.forEach(u -> declaredBy.put(u.name, "the PostgresCluster " + cluster));
    Map<String, String> refused = new LinkedHashMap<>();
    resources.stream().filter(r -> r.getSpec() != null && cluster.equals(r.getSpec().cluster))
        .sorted(Comparator.comparing(r -> r.getMetadata().getName()))
        .forEach(r -> {
          String user = r.getSpec().name;
          if (user == null || user.isEmpty()) {
            refused.put(r.getMetadata().getName(), "spec.name is empty");
          } else if (declaredBy.containsKey(user)) {
            refused.put(r.getMetadata().getName(), "user " + user + " is already declared by " + declaredBy.get(user));
          } else {
            declaredBy.put(user, "PostgresUser " + r.getMetadata().getName());
            users.add(r.getSpec());
          }
        });
    return new Merged(users, refused);
  }

  /** What a PostgresUser's status says after a sync (null result: none has run yet). */
  public static PostgresUserStatus status(PostgresUser r, Merged merged, JsonObject lastSync) {
    String refused = merged.refused().get(r.getMetadata().getName());
    if (refused != null) {
      return of("Failed", refused, r);
    }
    if (lastSync == null) {
      return of("Pending", "waiting for the first user sync of cluster " + r.getSpec().cluster, r);
    }
    JsonArray failed = lastSync.getJsonArray("failed", new JsonArray());
    for (int i = 0; i < failed.size(); i++) {
      JsonObject f = failed.getJsonObject(i);
      if (Objects.equals(r.getSpec().name, f.getString("name"))) {
        return of("Failed", f.getString("reason"), r);
      }
    }
    return of("Synced", null, r);
  }

  public static PostgresUserStatus unknownCluster(PostgresUser r) {
    return of("Failed", "PostgresCluster " + r.getSpec().cluster + " not found in namespace "
        + r.getMetadata().getNamespace(), r);
  }

  private static PostgresUserStatus of(String state, String reason, PostgresUser r) {
    PostgresUserStatus s = new PostgresUserStatus();
    s.state = state;
    s.reason = reason;
    s.observedGeneration = r.getMetadata().getGeneration();
    return s;
  }
}
