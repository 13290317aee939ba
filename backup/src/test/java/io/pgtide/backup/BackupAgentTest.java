package io.pgtide.backup;

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
    env.put("PGTIDE_PRIMARY_TLS_NAME", "orders.shop.svc");
    env.put("PGTIDE_SERVER_CA_FILE", "/etc/pgtide/server-ca/ca.crt");
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

  /**
   * Barman and the lag query verify PostgreSQL's certificate on Kubernetes: verify-full against the cluster's CA,
   * for the primary Service's name, dialled at the Service's IP (hostaddr); local mode's defaults add nothing.
   */
  @Test
  void barmanVerifiesTheServerCertificateOnKubernetes() {
    Map<String, String> env = env();
    env.put("ORDERS_SERVICE_HOST", "10.214.0.66");
    BackupAgent.Settings s = BackupAgent.Settings.from(env);
    var policy = io.pgtide.common.backup.BackupPolicy.from(s.spec());
    String conf = Barman.serverConfig("orders", s.dialHost(), 5432, "postgres", "standby",
        java.nio.file.Path.of("/backups/pgpass"), s.serverTls(), policy);
    String tls = " sslmode=verify-full sslrootcert=/etc/pgtide/server-ca/ca.crt hostaddr=10.214.0.66\n";
    assertThat(conf).contains("conninfo = host=orders.shop.svc port=5432 user=postgres dbname=postgres "
        + "passfile=/backups/pgpass connect_timeout=10" + tls);
    assertThat(conf).contains("streaming_conninfo = host=orders.shop.svc port=5432 user=standby "
        + "passfile=/backups/pgpass connect_timeout=10" + tls);
    assertThat(conf).doesNotContain("su-secret").doesNotContain("repl-secret").doesNotContain("require");
    assertThat(s.serverTls().environment()).containsEntry("PGSSLMODE", "verify-full")
        .containsEntry("PGSSLROOTCERT", "/etc/pgtide/server-ca/ca.crt").containsEntry("PGHOSTADDR", "10.214.0.66");
    env.remove("ORDERS_SERVICE_HOST");
    assertThat(BackupAgent.Settings.from(env).serverTls().hostaddr()).as("no variable: DNS resolves the name")
        .isNull();
    env.remove("PGTIDE_SERVER_CA_FILE");
    assertThatThrownBy(() -> BackupAgent.Settings.from(env)).as("never without the CA")
        .hasMessageContaining("PGTIDE_SERVER_CA_FILE");
    assertThat(Barman.serverConfig("orders", "127.0.0.1", 5432, "postgres", "standby",
        java.nio.file.Path.of("/d/pgpass"), null, policy)).doesNotContain("sslmode");
  }
}
