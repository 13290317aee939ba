package io.pgtide.operator.k8s.api;

import io.pgtide.operator.k8s.model.ClusterModel;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.utils.ResponseProvider;
import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.users.DesiredRoles;
import io.pgtide.operator.users.ScramVerifier;
import io.pgtide.operator.users.UserSecrets;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Generated passwords on the Kubernetes path against fabric8's mock API server: each role its own Secret, hostile
 * names included; users whose Secret would be another role's are refused without a Secret being read or made; a
 * Secret the API server refuses fails its user only.
 */
@EnableKubernetesMockClient(crud = true)
class SecretPasswordsMockTest {
  static KubernetesClient client;
  static KubernetesMockServer server;

  static PostgresCluster cluster(String ns, String name) {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .createOr(r -> r.update());
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).withUid("uid-" + name).build());
    cr.setSpec(new PostgresClusterSpec());
    return cr;
  }

  static List<PostgresClusterSpec.UserSpec> users(String... names) {
    return java.util.Arrays.stream(names).map(n -> {
      PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
      u.name = n;
      return u;
    }).toList();
  }

  /** A key of a Secret, from data or (the mock server does not fold it in) stringData. */
  static String value(Secret s, String key) {
    if (s.getData() != null && s.getData().containsKey(key)) {
      return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }
    return s.getStringData().get(key);
  }

  static String password(Secret s) {
    return value(s, "password");
  }

  @Test
  void everyRoleGetsASecretOfItsOwnAndCollidingOnesAreRefused() {
    PostgresCluster cr = cluster("hostile", "shop");
    // the cluster's own Secret, as the reconciler made it
    client.secrets().inNamespace("hostile").resource(ClusterModel.credentials(cr, ClusterModel.superuserSecret("shop"),
        "postgres", "superuser-password")).create();
    List<String> valid = List.of("plain", "semi;colon drop", "we\"ird", "it's", "ünïcødé", "a b");
    List<String> all = new java.util.ArrayList<>(valid);
    all.addAll(List.of("Postgres", "App", "app", "my_user", "my-user"));

    DesiredRoles.Result r = DesiredRoles.of(users(all.toArray(String[]::new)), new SecretPasswords(client, cr, 0),
        new ScramVerifier(), Map.of());

    assertThat(r.roles()).extracting(DesiredRole::name).containsExactlyElementsOf(valid);
    assertThat(r.errors()).containsOnlyKeys("Postgres", "App", "app", "my_user", "my-user");
    assertThat(r.errors().get("Postgres")).contains("superuser");
    assertThat(r.errors().get("my_user")).contains("user my-user");
    java.util.Set<String> passwords = new java.util.HashSet<>();
    for (String user : valid) {
      Secret s = client.secrets().inNamespace("hostile").withName(UserSecrets.secretName(user, "shop")).get();
      assertThat(s).as(user).isNotNull();
      assertThat(value(s, "username")).isEqualTo(user);
      assertThat(passwords.add(password(s))).as("a password of its own: " + user).isTrue();
    }
    assertThat(password(client.secrets().inNamespace("hostile").withName(ClusterModel.superuserSecret("shop")).get()))
        .isEqualTo("superuser-password");
    assertThat(client.secrets().inNamespace("hostile").withName(UserSecrets.secretName("app", "shop")).get())
        .as("no Secret for users refused").isNull();
    assertThat(client.secrets().inNamespace("hostile").withName(UserSecrets.secretName("my-user", "shop")).get())
        .isNull();
  }

  @Test
  void aSecretTheApiServerRefusesFailsItsUserOnly() {
    PostgresCluster cr = cluster("quota", "shop");
    String refusedSecret = UserSecrets.secretName("third", "shop");
    // a namespace whose quota allows no more Secrets once two exist: the API server's answer for the third
    server.expect().post().withPath("/api/v1/namespaces/quota/secrets").andReply(new ResponseProvider<Object>() {
      private Headers headers = new Headers.Builder().add("Content-Type", "application/json").build();
      private String body; // a request's body reads once; SecretPasswords creates one Secret at a time

      @Override
      public int getStatusCode(RecordedRequest request) {
        body = request.getUtf8Body();
        return body.contains(refusedSecret) ? 403 : 201;
      }

      @Override
      public Object getBody(RecordedRequest request) {
        return body.contains(refusedSecret)
            ? "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
                + "\"message\":\"secrets \\\"" + refusedSecret + "\\\" is forbidden: exceeded quota: secrets\"}"
            : body;
      }

      @Override
      public Headers getHeaders() {
        return headers;
      }

      @Override
      public void setHeaders(Headers h) {
        headers = h;
      }
    }).always();

    DesiredRoles.Result r = DesiredRoles.of(users("first", "second", "third"), new SecretPasswords(client, cr, 0),
        new ScramVerifier(), Map.of());

    assertThat(r.roles()).extracting(DesiredRole::name).containsExactly("first", "second");
    assertThat(r.roles()).allSatisfy(role -> assertThat(role.passwordVerifier()).startsWith("SCRAM-SHA-256$"));
    assertThat(r.errors()).containsOnlyKeys("third");
    assertThat(r.errors().get("third")).contains(refusedSecret).contains("exceeded quota");
  }
}
