package io.pgtide.operator.pooler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PgBouncerConfigTest {
  static final Path AUTH = Path.of("/run/pooler/userlist.txt");

  /** The ini's [pgbouncer] settings as a map (what PgBouncer reads: key = value, later wins). */
  static Map<String, String> settings(String ini) {
    Map<String, String> out = new LinkedHashMap<>();
    String section = "";
    for (String line : ini.split("\n")) {
      if (line.startsWith("[")) {
        section = line;
      } else if (!line.startsWith(";") && line.contains(" = ")) {
        int eq = line.indexOf(" = ");
        assertThat(out.put(section + line.substring(0, eq), line.substring(eq + 3))).as("set once: " + line).isNull();
      }
    }
    return out;
  }

  static String ini(PostgresClusterSpec.PoolerSpec spec, PgBouncerConfig.Tls tls, Path socketDir) {
    return PgBouncerConfig.ini(spec, new PgBouncerConfig.Listen("127.0.0.1", 6432),
        new PgBouncerConfig.Target("127.0.0.1", 5433), tls, AUTH, socketDir);
  }

  @Test
  void theSpecTheTargetAndAuthQueryThroughThePoolerRole() {
    PostgresClusterSpec.PoolerSpec spec = new PostgresClusterSpec.PoolerSpec();
    spec.poolMode = "session";
    spec.defaultPoolSize = 7;
    spec.maxClientConnections = 500;
    Map<String, String> s = settings(ini(spec, PgBouncerConfig.Tls.NONE, null));
    assertThat(s).containsEntry("[databases]*", "host=127.0.0.1 port=5433")
        .containsEntry("[pgbouncer]listen_addr", "127.0.0.1")
        .containsEntry("[pgbouncer]listen_port", "6432")
        .containsEntry("[pgbouncer]unix_socket_dir", "")
        .containsEntry("[pgbouncer]pool_mode", "session")
        .containsEntry("[pgbouncer]default_pool_size", "7")
        .containsEntry("[pgbouncer]max_client_conn", "500")
        .containsEntry("[pgbouncer]auth_type", "scram-sha-256")
        .containsEntry("[pgbouncer]auth_file", AUTH.toString())
        .containsEntry("[pgbouncer]auth_user", "pgtide_pooler")
        .containsEntry("[pgbouncer]auth_query", "SELECT usename, passwd FROM pgtide_pooler.user_lookup($1)")
        .containsEntry("[pgbouncer]admin_users", "pgtide_pooler")
        .containsEntry("[pgbouncer]stats_users", "pgtide_pooler")
        .containsEntry("[pgbouncer]ignore_startup_parameters", "extra_float_digits,options")
        .containsEntry("[pgbouncer]server_login_retry", "1");
    assertThat(s).as("no auth_dbname: PgBouncer 1.18 does not know it").doesNotContainKey("[pgbouncer]auth_dbname");
  }

  @Test
  void defaultsAreTransactionPoolingOf20For1000Clients() {
    Map<String, String> s = settings(ini(new PostgresClusterSpec.PoolerSpec(), PgBouncerConfig.Tls.NONE,
        Path.of("/run/pooler")));
    assertThat(s).containsEntry("[pgbouncer]pool_mode", "transaction")
        .containsEntry("[pgbouncer]default_pool_size", "20")
        .containsEntry("[pgbouncer]max_client_conn", "1000")
        .containsEntry("[pgbouncer]unix_socket_dir", "/run/pooler");
  }

  @Test
  void withAServerCaTheServerIsVerifiedAndWithACertificateClientsMayUseTls() {
    var tls = new PgBouncerConfig.Tls(Path.of("/tls/ca.crt"), Path.of("/tls/tls.crt"), Path.of("/tls/tls.key"));
    Map<String, String> s = settings(ini(new PostgresClusterSpec.PoolerSpec(), tls, null));
    assertThat(s).containsEntry("[pgbouncer]server_tls_sslmode", "verify-full")
        .containsEntry("[pgbouncer]server_tls_ca_file", "/tls/ca.crt")
        .containsEntry("[pgbouncer]client_tls_sslmode", "prefer")
        .containsEntry("[pgbouncer]client_tls_cert_file", "/tls/tls.crt")
        .containsEntry("[pgbouncer]client_tls_key_file", "/tls/tls.key");
  }

  @Test
  void withoutTlsFilesTheServerIsNotVerifiedAndClientsGetNoTls() {
    Map<String, String> s = settings(ini(new PostgresClusterSpec.PoolerSpec(), PgBouncerConfig.Tls.NONE, null));
    assertThat(s).containsEntry("[pgbouncer]server_tls_sslmode", "prefer")
        .containsEntry("[pgbouncer]client_tls_sslmode", "disable")
        .doesNotContainKeys("[pgbouncer]server_tls_ca_file", "[pgbouncer]client_tls_cert_file");
  }

  @Test
  void theAuthFileLineQuotesThePassword() {
    assertThat(PgBouncerConfig.authFileLine("s3cr\"et")).isEqualTo("\"pgtide_pooler\" \"s3cr\"\"et\"\n");
    assertThatThrownBy(() -> PgBouncerConfig.authFileLine("a\nb")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("a\nb");
  }
}
