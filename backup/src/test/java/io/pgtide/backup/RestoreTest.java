package io.pgtide.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtide.common.secrets.ClusterSecrets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RestoreTest {

  @Test
  void theNewPasswordsAreQuotedLiteralsWithStatementLoggingOff() {
    String sql = Restore.passwordsSql(new ClusterSecrets("postgres", "it's", "standby", "s3cr\"et"));
    assertThat(sql.indexOf("SET log_statement = 'none'")).as("logging off before any password")
        .isLessThan(sql.indexOf("PASSWORD"));
    assertThat(sql.indexOf("SET synchronous_commit = local")).as("no synchronous standby to wait for")
        .isLessThan(sql.indexOf("PASSWORD"));
    assertThat(sql).contains("SET standard_conforming_strings = on;")
        .contains("ALTER ROLE \"postgres\" PASSWORD 'it''s';")
        .contains("ALTER ROLE \"standby\" PASSWORD 's3cr\"et';");
  }

  @Test
  void theJobTakesBothPasswordsOrNeither() {
    assertThat(BackupRestore.newPasswords(Map.of())).as("the source's stay").isNull();
    assertThat(BackupRestore.newPasswords(Map.of("PGTIDE_SUPERUSER_PASSWORD", "a", "PGTIDE_REPLICATION_PASSWORD",
        "b"))).isEqualTo(new ClusterSecrets("postgres", "a", "standby", "b"));
    assertThatThrownBy(() -> BackupRestore.newPasswords(Map.of("PGTIDE_SUPERUSER_PASSWORD", "a")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("go together");
  }

  @Test
  void theDirectoriesObjectStorageDropsAreMadeAgainAndWhatIsThereIsKept(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path data) throws Exception {
    java.nio.file.Files.createDirectories(data.resolve("pg_wal"));
    java.nio.file.Files.writeString(data.resolve("pg_wal/000000010000000000000001"), "wal");
    Restore.emptyDirectories(data);
    for (String d : Restore.EMPTY_DIRECTORIES) {
      assertThat(data.resolve(d)).isDirectory();
    }
    assertThat(data.resolve("pg_wal/000000010000000000000001")).hasContent("wal");
    assertThat(java.nio.file.Files.getPosixFilePermissions(data.resolve("pg_notify")))
        .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
            java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
  }

  @Test
  void theSegmentToWaitForMustBeASegmentName(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    var spec = new io.pgtide.common.crd.PostgresClusterSpec.RecoverySpec();
    spec.source = "orders";
    spec.repository = dir.toString();
    new Barman(Barman.localRepository(dir), "orders").configure("orders.invalid", 5432, "postgres", "", "standby", "",
        io.pgtide.common.backup.BackupPolicy.from(new io.pgtide.common.crd.PostgresClusterSpec.BackupSpec()));
    Restore restore = new Restore(() -> 5432, spec, m -> { });
    assertThat(restore.awaiting("000000020000000000000017")).isSameAs(restore);
    assertThat(restore.awaiting(null)).isSameAs(restore);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> restore.awaiting("../../etc/passwd"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a WAL segment name");
  }
}
