package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Secret;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.users.UserSecrets;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Role names PostgreSQL takes but a Secret name cannot hold, next to a plain user on one cluster: each valid one gets
 * a Secret of its own and logs in through the Service; users whose Secret would be another role's (the superuser's,
 * or each other's) are refused in UsersSynced=False with both named, and nothing stops the others.
 */
class UserSecretsK8sE2E {
  static final String NS = "e2e-user-secrets";
  static final String NAME = "names";
  static final List<String> VALID = List.of("plain", "semi;colon drop", "we\"ird", "it's", "ünïcødé", "a b");
  static final List<String> REFUSED = List.of("Postgres", "App", "app");
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();

  @BeforeAll
  static void createNamespace() {
    k8s.freshNamespace(NS);
  }

  @AfterAll
  static void deleteNamespace() {
    k8s.dropNamespace(NS);
  }

  static PostgresCluster cluster() {
    return k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(NAME).get();
  }

  static String password(String secret) {
    Secret s = k8s.client().secrets().inNamespace(NS).withName(secret).get();
    assertThat(s).as("Secret " + secret).isNotNull();
    return new String(Base64.getDecoder().decode(s.getData().get("password")), StandardCharsets.UTF_8);
  }

  @Test
  void hostileRoleNamesGetSecretsOfTheirOwnAndCollidingOnesAreRefusedWithoutBlockingTheRest() {
    // JSON is YAML: every quote and non-ASCII letter reaches the API server as written
    String users = java.util.stream.Stream.concat(VALID.stream(), REFUSED.stream())
        .map(n -> "    - " + new JsonObject().put("name", n).encode()).collect(Collectors.joining("\n"));
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          replicas: 1
          storage: {size: 1Gi}
          resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 1500m, memory: 768Mi}}
          users:
        %s
        """.formatted(NAME, NS, users));
    await().atMost(Duration.ofSeconds(300)).until(() -> "True".equals(k8s.condition(NS, NAME, "Ready")));
    await().atMost(Duration.ofSeconds(120)).until(() -> k8s.condition(NS, NAME, "UsersSynced") != null);

    PostgresClusterStatus status = cluster().getStatus();
    PostgresClusterStatus.Condition synced = status.conditions.stream().filter(c -> "UsersSynced".equals(c.type))
        .findFirst().orElseThrow();
    assertThat(synced.status).isEqualTo("False");
    assertThat(synced.message).contains("Postgres").contains("App").contains("app");
    assertThat(status.users.failed).extracting(f -> f.name).containsExactlyInAnyOrderElementsOf(REFUSED);
    assertThat(status.users.failed).filteredOn(f -> f.name.equals("Postgres")).singleElement()
        .satisfies(f -> assertThat(f.reason).contains("superuser").contains(UserSecrets.secretName("postgres", NAME)));
    assertThat(status.users.failed).filteredOn(f -> f.name.equals("App")).singleElement()
        .satisfies(f -> assertThat(f.reason).contains("user app"));
    assertThat(status.users.synced).isEqualTo(VALID.size());

    String superuser = password(UserSecrets.secretName("postgres", NAME));
    ServiceSql primary = ServiceSql.of(k8s, NS, NAME, "postgres", superuser);
    Set<String> passwords = new HashSet<>();
    for (String user : VALID) {
      String pw = password(UserSecrets.secretName(user, NAME));
      assertThat(passwords.add(pw)).as("a password of its own: " + user).isTrue();
      assertThat(pw).isNotEqualTo(superuser);
      // kube-proxy may program the Service's route a moment after Ready
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
          assertThat(ServiceSql.of(k8s, NS, NAME, user, pw).query("SELECT current_user")).isEqualTo(user));
    }
    assertThat(primary.query("SELECT count(*) FROM pg_roles WHERE rolname IN ('Postgres', 'App', 'app')"))
        .as("refused roles are not created").isEqualTo("0");
    assertThat(k8s.client().secrets().inNamespace(NS).withName(UserSecrets.secretName("app", NAME)).get())
        .as("no Secret is made for a refused user").isNull();
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }
}
