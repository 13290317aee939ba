package io.pgtide.operator.users;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.DesiredRole;
import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class DesiredRolesTest {
  @Test
  void aUserWhosePasswordCannotBeHadFailsAloneWhateverTheFailure() {
    DesiredRoles.PasswordSource passwords = u -> {
      if (u.name.equals("quota")) {
        // not an IllegalStateException: what a client library throws when the API server refuses
        throw new UnsupportedOperationException("exceeded quota: secrets");
      }
      return "pw-" + u.name;
    };
    DesiredRoles.Result r = DesiredRoles.of(UserSecretsTest.users("a", "quota", "b"), passwords, new ScramVerifier(),
        Map.of());
    assertThat(r.roles()).extracting(DesiredRole::name).containsExactly("a", "b");
    assertThat(r.roles()).allSatisfy(role -> assertThat(role.passwordVerifier()).startsWith("SCRAM-SHA-256$"));
    assertThat(r.errors()).containsOnlyKeys("quota");
    assertThat(r.errors().get("quota")).contains("exceeded quota");
  }

  @Test
  void aRefusedUsersPasswordIsNeverRead() {
    Set<String> read = ConcurrentHashMap.newKeySet();
    DesiredRoles.PasswordSource passwords = new DesiredRoles.PasswordSource() {
      @Override
      public String password(PostgresClusterSpec.UserSpec u) {
        read.add(u.name);
        return "pw-" + u.name;
      }

      @Override
      public Map<String, String> refused(List<PostgresClusterSpec.UserSpec> users) {
        return UserSecrets.refused("shop", users);
      }
    };
    DesiredRoles.Result r = DesiredRoles.of(UserSecretsTest.users("Postgres", "App", "app", "fine"), passwords,
        new ScramVerifier(), Map.of());
    assertThat(r.roles()).extracting(DesiredRole::name).containsExactly("fine");
    assertThat(r.errors()).containsOnlyKeys("Postgres", "App", "app");
    assertThat(r.errors().get("Postgres")).contains("superuser");
    assertThat(read).containsExactly("fine");
  }
}
