package io.pgtide.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.OperatorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * postgresVersion on each path: Kubernetes defaults to 17 (the default image is Spilo 17), local mode runs Debian
 * 12's PostgreSQL 15 only, so a file without postgresVersion means 15 there and any other major is refused.
 */
class ClusterFileTest {
  static final String NO_VERSION = """
      apiVersion: pgtide.io/v1
      kind: PostgresCluster
      metadata: {name: laptop}
      spec: {replicas: 1}
      """;

  static String pgversion(PostgresCluster cr) {
    return ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec().getContainers()
        .get(0).getEnv().stream().filter(e -> e.getName().equals("PGVERSION")).findFirst().orElseThrow().getValue();
  }

  @Test
  void withoutPostgresVersionKubernetesRuns17AndLocalMode15(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("laptop.yaml"), NO_VERSION);
    PostgresCluster k8s = ClusterFile.load(file, false);
    assertThat(k8s.getSpec().postgresVersion).isEqualTo(17);
    assertThat(pgversion(k8s)).as("what render shows").isEqualTo("17");
    PostgresCluster local = ClusterFile.load(file, true);
    assertThat(local.getSpec().postgresVersion).isEqualTo(ClusterFile.LOCAL_POSTGRES_VERSION).isEqualTo(15);
    assertThat(ClusterFile.parse(NO_VERSION, "the request", true).getSpec().postgresVersion).isEqualTo(15);
    assertThat(ClusterFile.parse("apiVersion: pgtide.io/v1\nkind: PostgresCluster\nmetadata: {name: bare}\n"
        + "spec: {replicas: 1}\n", "bare", true).getSpec().postgresVersion).as("only replicas").isEqualTo(15);
  }

  @Test
  void localModeRunsAMajorWhereItsProgramsAreInstalledAndDefaultsTo15(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("laptop.yaml"), NO_VERSION.replace("{replicas: 1}",
        "{postgresVersion: 17, replicas: 1}"));
    assertThat(ClusterFile.load(file, false).getSpec().postgresVersion).isEqualTo(17);
    // local mode runs it where its programs are installed, and names where it looked when they are not
    PostgresCluster seventeen = ClusterFile.parse(Files.readString(file), "laptop", false);
    assertThat(ClusterFile.problem(seventeen, true, major -> dir.resolve("pg" + major).toString()))
        .isEqualTo("postgresVersion 17: PostgreSQL 17 is not installed here: no postgres in " + dir.resolve("pg17")
            + " (install postgresql-17, or name its bin directory in PGTIDE_PG_BIN_DIR_17)");
    Path bin = Files.createDirectories(dir.resolve("pg17"));
    for (String p : List.of("postgres", "initdb", "pg_upgrade", "pg_controldata", "vacuumdb")) {
      Files.createFile(bin.resolve(p), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    assertThat(ClusterFile.problem(seventeen, true, major -> dir.resolve("pg" + major).toString())).isNull();
    seventeen.getSpec().backup = new io.pgtide.common.crd.PostgresClusterSpec.BackupSpec();
    assertThat(ClusterFile.problem(seventeen, true, major -> dir.resolve("pg" + major).toString()))
        .startsWith("spec.backup in local mode needs postgresVersion 15");
    Path fifteen = Files.writeString(dir.resolve("fifteen.yaml"), NO_VERSION.replace("{replicas: 1}",
        "{postgresVersion: 15, replicas: 1}"));
    assertThat(ClusterFile.load(fifteen, true).getSpec().postgresVersion).isEqualTo(15);
    // the shared rules first: a version no path accepts is named as such
    Path old = Files.writeString(dir.resolve("old.yaml"), NO_VERSION.replace("{replicas: 1}",
        "{postgresVersion: 9, replicas: 1}"));
    assertThatThrownBy(() -> ClusterFile.load(old, true)).hasMessageContaining("postgresVersion must be 13..17, got 9");
  }

  @Test
  void theSamplesLocalModeUsesStillLoad() {
    for (String sample : new String[] {"local-cluster.yaml", "local-backups.yaml", "local-pooler.yaml"}) {
      PostgresCluster cr = ClusterFile.load(Path.of("..", "manifests", "samples", sample), true);
      assertThat(cr.getSpec().postgresVersion).as(sample).isEqualTo(15);
    }
  }

  @Test
  void localModeRefusesAUserCertificateSecretKubernetesTakesIt() {
    String yaml = NO_VERSION.replace("{replicas: 1}", "{replicas: 1, tls: {secretName: orders-cert}}");
    assertThat(ClusterFile.parse(yaml, "tls", false).getSpec().tls.secretName).isEqualTo("orders-cert");
    assertThat(ClusterFile.problem(ClusterFile.parse(yaml, "tls", false), false)).isNull();
    assertThat(ClusterFile.problem(ClusterFile.parse(yaml, "tls", true), true))
        .startsWith("tls.secretName names a Kubernetes Secret; local mode issues its own");
  }
}
