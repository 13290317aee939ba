package io.pgtide.cli.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The agent's environment contract (what BackupAgentModel writes), and rclone's configuration. */
class BackupAgentTest {
  static Map<String, String> env() {
    Map<String, String> env = new HashMap<>(Map.of("PGTIDE_CLUSTER", "shop/orders", "PGTIDE_PRIMARY_SERVICE", "orders",
        "PGTIDE_BACKUP_SPEC", "{\"schedule\":\"@daily\",\"retention\":{\"count\":3},\"verifySchedule\":\"never\"}",
        "PGTIDE_SUPERUSER", "postgres", "PGTIDE_SUPERUSER_PASSWORD", "su-secret", "PGTIDE_REPLICATION_USER", "standby",
        "PGTIDE_REPLICATION_PASSWORD", "repl-secret", "PGTIDE_AGENT_TOKEN", "token"));
    return env;
  }

  @Test
  void readsItsSettingsAndFindsThePrimaryThroughTheServiceVariablesTheKubeletSets() {
    Map<String, String> env = env();
    assertThat(BackupAgent.Settings.from(env).host()).as("no variable: the Service's name (DNS)").isEqualTo("orders");
    env.put("ORDERS_SERVICE_HOST", "10.214.0.66");
    BackupAgent.Settings s = BackupAgent.Settings.from(env);
    assertThat(s.host()).isEqualTo("10.214.0.66");
    assertThat(s.port()).isEqualTo(5432);
    assertThat(s.spec().retention.count).isEqualTo(3);
    assertThat(s.s3()).as("no copy unless declared").isNull();
    env.putAll(Map.of("PGTIDE_S3_ENDPOINT", "http://10.213.0.1:9000", "PGTIDE_S3_BUCKET", "b", "PGTIDE_S3_PREFIX",
        "shop/orders", "PGTIDE_S3_ACCESS_KEY_ID", "k", "PGTIDE_S3_SECRET_ACCESS_KEY", "s"));
    assertThat(BackupAgent.Settings.from(env).s3().toString()).as("what logs may show: no keys")
        .isEqualTo("http://10.213.0.1:9000/b/shop/orders");
  }

  @Test
  void refusesAnIncompleteOrWrongEnvironmentByName() {
    Map<String, String> env = env();
    env.remove("PGTIDE_AGENT_TOKEN");
    assertThatThrownBy(() -> BackupAgent.Settings.from(env)).hasMessage("PGTIDE_AGENT_TOKEN is not set");
    Map<String, String> bad = env();
    bad.put("PGTIDE_BACKUP_SPEC", "{\"schedule\":\"every day\"}");
    assertThatThrownBy(() -> BackupAgent.Settings.from(bad)).hasMessageStartingWith("PGTIDE_BACKUP_SPEC: ");
    Map<String, String> key = env();
    key.put("PGTIDE_CLUSTER", "orders");
    assertThatThrownBy(() -> BackupAgent.Settings.from(key)).hasMessageContaining("<namespace>/<name>");
  }

  @Test
  void rcloneGetsTheKeysThroughItsEnvironment() {
    var t = new RepositoryCopy.Target("http://10.213.0.1:9000", "b", "p", "us-east-1", "key-id", "key-secret");
    Map<String, String> env = RepositoryCopy.environment(t);
    assertThat(env).containsEntry("RCLONE_CONFIG_PGTIDES3_ACCESS_KEY_ID", "key-id")
        .containsEntry("RCLONE_CONFIG_PGTIDES3_SECRET_ACCESS_KEY", "key-secret")
        .containsEntry("RCLONE_CONFIG_PGTIDES3_ENDPOINT", "http://10.213.0.1:9000")
        .containsEntry("RCLONE_CONFIG_PGTIDES3_FORCE_PATH_STYLE", "true");
  }

  /** Barman reaches the cluster over TLS only on Kubernetes; local mode's loopback server has none. */
  @Test
  void barmanRequiresTlsOnKubernetes() {
    var policy = io.pgtide.operator.backup.BackupPolicy.from(BackupAgent.Settings.from(env()).spec());
    String conf = Barman.serverConfig("orders", "10.214.0.66", 5432, "postgres", "standby",
        java.nio.file.Path.of("/backups/pgpass"), BackupAgent.BARMAN_SSLMODE, policy);
    assertThat(conf).contains("conninfo = host=10.214.0.66 port=5432 user=postgres dbname=postgres "
        + "passfile=/backups/pgpass connect_timeout=10 sslmode=require\n");
    assertThat(conf).contains("streaming_conninfo = host=10.214.0.66 port=5432 user=standby "
        + "passfile=/backups/pgpass connect_timeout=10 sslmode=require\n");
    assertThat(conf).doesNotContain("su-secret").doesNotContain("repl-secret");
    assertThat(Barman.serverConfig("orders", "127.0.0.1", 5432, "postgres", "standby",
        java.nio.file.Path.of("/d/pgpass"), null, policy)).doesNotContain("sslmode");
  }
}
