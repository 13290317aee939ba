package io.pgtide.operator.users;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UserSecretsTest {
  /** What the API server takes as a Secret name (a DNS-1123 subdomain), each label a DNS label. */
  static final String SUBDOMAIN = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*";

  static PostgresClusterSpec.UserSpec user(String name) {
    PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
    u.name = name;
    return u;
  }

  static List<PostgresClusterSpec.UserSpec> users(String... names) {
    return java.util.Arrays.stream(names).map(UserSecretsTest::user).toList();
  }

  @Test
  void plainNamesKeepTheSecretTheyAlwaysHad() {
    assertThat(UserSecrets.secretName("app", "shop")).isEqualTo("app.shop.credentials.postgresql.pgtide.io");
    assertThat(UserSecrets.secretName("app_owner", "shop")).isEqualTo("app-owner.shop.credentials.postgresql.pgtide.io");
    assertThat(UserSecrets.secretName("Report2", "shop")).isEqualTo("report2.shop.credentials.postgresql.pgtide.io");
    assertThat(UserSecrets.secretName("postgres", "shop")).isEqualTo("postgres.shop.credentials.postgresql.pgtide.io");
  }

  @Test
  void aNameNoSecretCanHoldGetsAValidNameOfItsOwnThatStaysTheSame() {
    List<String> hostile = List.of("semi;colon drop", "we\"ird", "it's", "ünïcødé", "a b", "a;b", "_lead", "trail-",
        "dot.", "..", ";", "\"", "名前", "Ω", "x".repeat(20) + "é".repeat(21));
    Map<String, String> seen = new HashMap<>();
    for (String name : hostile) {
      String secret = UserSecrets.secretName(name, "shop");
      assertThat(secret).as(name).matches(SUBDOMAIN).hasSizeLessThanOrEqualTo(253)
          .endsWith(".shop.credentials.postgresql.pgtide.io");
      assertThat(seen.put(secret, name)).as("%s and %s", name, seen.get(secret)).isNull();
      assertThat(UserSecrets.secretName(name, "shop")).as("stable").isEqualTo(secret);
    }
    // readable where it can be
    assertThat(UserSecrets.secretName("semi;colon drop", "shop")).startsWith("semi-colon-drop-");
    assertThat(UserSecrets.secretName("ünïcødé", "shop")).startsWith("unic");
    assertThat(UserSecrets.refused("shop", users(hostile.toArray(String[]::new)))).isEmpty();
  }

  @Test
  void usersThatWouldShareASecretAreRefusedEachNamingTheOther() {
    Map<String, String> refused = UserSecrets.refused("shop", users("App", "app", "my_user", "my-user", "plain",
        "Postgres", "STANDBY"));
    assertThat(refused).containsOnlyKeys("App", "app", "my_user", "my-user", "Postgres", "STANDBY");
    assertThat(refused.get("App")).contains("user App").contains("user app")
        .contains("app.shop.credentials.postgresql.pgtide.io");
    assertThat(refused.get("app")).contains("user App");
    assertThat(refused.get("my-user")).contains("user my_user");
    assertThat(refused.get("Postgres")).contains("the superuser postgres")
        .contains("postgres.shop.credentials.postgresql.pgtide.io");
    assertThat(refused.get("STANDBY")).contains("the replication role standby");
  }

  @Test
  void onlyUsersThatReadAGeneratedPasswordCanCollide() {
    PostgresClusterSpec.UserSpec referenced = user("App");
    referenced.passwordSecret = new PostgresClusterSpec.SecretKeyRef();
    referenced.passwordSecret.name = "app-password";
    PostgresClusterSpec.UserSpec group = user("Postgres");
    group.login = false;
    PostgresClusterSpec.UserSpec gone = user("my_user");
    gone.ensure = "absent";
    assertThat(UserSecrets.refused("shop", List.of(referenced, user("app"), group, gone, user("my-user")))).isEmpty();
  }

  @Test
  void anyTwoRoleNamesGetTwoSecretsOrAreRefused() {
    // random role names from an alphabet that folds (case, '_' and '-') and holds what Secret names cannot
    String alphabet = "aAbB_-.; '\"éÉ1";
    Random random = new Random(29);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      StringBuilder b = new StringBuilder();
      for (int n = 1 + random.nextInt(6); n > 0; n--) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      names.add(b.toString());
    }
    List<String> distinct = names.stream().distinct().toList();
    Map<String, String> refused = UserSecrets.refused("c", users(distinct.toArray(String[]::new)));
    Map<String, String> owner = new HashMap<>();
    for (String name : distinct) {
      String secret = UserSecrets.secretName(name, "c");
      assertThat(secret).as(name).matches(SUBDOMAIN);
      if (!refused.containsKey(name)) {
        assertThat(owner.put(secret, name)).as("%s shares %s", name, secret).isNull();
        assertThat(secret).isNotIn(UserSecrets.secretName("postgres", "c"), UserSecrets.secretName("standby", "c"));
      }
    }
    assertThat(refused).as("folding makes some meet").isNotEmpty();
  }
}
