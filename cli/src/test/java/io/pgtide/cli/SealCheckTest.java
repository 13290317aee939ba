package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code pgtide seal-check}, the pre-commit hook's check, on the fixtures in src/test/resources/seal-check. */
class SealCheckTest {
  static final Path DIR = Path.of("src/test/resources/seal-check");

  static List<Path> files(String... names) {
    return Stream.of(names).map(DIR::resolve).toList();
  }

  @Test
  void plaintextPasswordSecretsOfDeclaredUsersAreRefused() {
    SealCheck.Result r = SealCheck.check(files("cluster.yaml", "plaintext-data.yaml",
        "plaintext-stringdata-no-namespace.yaml"));
    assertThat(r.refused()).containsExactly(
        DIR.resolve("plaintext-data.yaml") + ": Secret shop/app-pw is in plaintext and holds the password of user"
            + " app (PostgresCluster shop/orders spec.users[0].passwordSecret)",
        DIR.resolve("plaintext-stringdata-no-namespace.yaml") + ": Secret reporting-pw is in plaintext and holds"
            + " the password of user reporting (PostgresUser shop/reporting spec.passwordSecret)");
  }

  @Test
  void sealedUnrelatedAndEmptySecretsPass() {
    SealCheck.Result r = SealCheck.check(files("cluster.yaml", "sealed.yaml", "unrelated.yaml"));
    assertThat(r.refused()).isEmpty();
    assertThat(r.unchecked()).isEmpty();
  }

  @Test
  void aPasswordSecretWithoutTheFileThatReferencesItPasses() {
    // the hook passes every tracked YAML file, so the reference is found when it is committed anywhere
    assertThat(SealCheck.check(files("plaintext-data.yaml")).refused()).isEmpty();
  }

  @Test
  void exitCodesAndTemplates() {
    CommandLine cli = new CommandLine(new PgtideCli());
    assertThat(cli.execute("seal-check", DIR.resolve("cluster.yaml").toString(),
        DIR.resolve("plaintext-data.yaml").toString())).isEqualTo(1);
    assertThat(cli.execute("seal-check", DIR.resolve("cluster.yaml").toString(),
        DIR.resolve("sealed.yaml").toString(), DIR.resolve("template.yaml").toString())).isZero();
    assertThat(SealCheck.check(files("template.yaml")).unchecked()).hasSize(1);
  }
}
