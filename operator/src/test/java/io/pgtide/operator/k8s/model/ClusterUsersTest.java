package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresUser;
import io.pgtide.common.crd.PostgresUserSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterUsersTest {
  static PostgresUser resource(String name, String cluster, String user) {
    PostgresUser u = new PostgresUser();
    u.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ns").withGeneration(3L).build());
    u.setSpec(new PostgresUserSpec());
    u.getSpec().cluster = cluster;
    u.getSpec().name = user;
    return u;
  }

  static PostgresClusterSpec spec(String... users) {
    PostgresClusterSpec s = new PostgresClusterSpec();
    for (String n : users) {
      PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
      u.name = n;
      s.users.add(u);
    }
    return s;
  }

  @Test
  void postgresUsersOfThisClusterJoinTheInlineOnesAndDuplicatesAreRefused() {
    var merged = ClusterUsers.merge("orders", spec("alice"), List.of(resource("b", "orders", "bob"),
        resource("a-dup", "orders", "alice"), resource("other", "payments", "carol"), resource("z-bob", "orders", "bob"),
        resource("empty", "orders", "")));
    assertThat(merged.users()).extracting(u -> u.name).containsExactly("alice", "bob");
    assertThat(merged.refused()).containsOnlyKeys("a-dup", "z-bob", "empty");
    assertThat(merged.refused().get("a-dup")).contains("already declared by the PostgresCluster orders");
    assertThat(merged.refused().get("z-bob")).contains("PostgresUser b");
  }

  @Test
  void statusFollowsTheLastSync() {
    PostgresUser bob = resource("b", "orders", "bob");
    var merged = ClusterUsers.merge("orders", spec(), List.of(bob));
    assertThat(ClusterUsers.status(bob, merged, null).state).isEqualTo("Pending");
    JsonObject ok = new JsonObject().put("failed", new JsonArray());
    assertThat(ClusterUsers.status(bob, merged, ok).state).isEqualTo("Synced");
    assertThat(ClusterUsers.status(bob, merged, ok).observedGeneration).isEqualTo(3L);
    JsonObject failed = new JsonObject().put("failed", new JsonArray().add(new JsonObject().put("name", "bob")
        .put("reason", "password Secret s not found")));
    assertThat(ClusterUsers.status(bob, merged, failed).state).isEqualTo("Failed");
    assertThat(ClusterUsers.status(bob, merged, failed).reason).contains("not found");
    assertThat(ClusterUsers.unknownCluster(resource("x", "nope", "x")).reason)
        .isEqualTo("PostgresCluster nope not found in namespace ns");
  }
}
