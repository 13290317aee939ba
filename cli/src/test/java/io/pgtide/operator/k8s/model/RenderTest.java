package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.cli.local.LocalRunner;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class RenderTest {
  @Test
  void rendersEveryObjectWithoutSecretsData() {
    PostgresCluster cr = LocalRunner.read(Path.of("..", "manifests", "samples", "full.yaml"));
    String yaml = Render.yaml(cr, OperatorConfig.DEFAULTS);
    for (String kind : new String[] {"ServiceAccount", "Role", "RoleBinding", "Service", "PodDisruptionBudget",
        "NetworkPolicy", "StatefulSet", "Secret"}) {
      assertThat(yaml).contains("kind: \"" + kind + "\"");
    }
    assertThat(yaml).contains("name: \"orders-repl\"").contains("name: \"orders-config\"")
        .contains("<generated at apply time>").contains("\\\"synchronous_mode\\\":true");
    assertThat(yaml.split("\n---\n|^---\n")).hasSizeGreaterThanOrEqualTo(13);
    Object parsed = Serialization.unmarshal(yaml);
    assertThat(parsed).isNotNull();
  }

  @Test
  void aPoolerIsRenderedWithItsObjectsAndNoPassword() {
    PostgresCluster cr = LocalRunner.read(Path.of("..", "manifests", "samples", "full.yaml"));
    assertThat(Render.yaml(cr, OperatorConfig.DEFAULTS)).doesNotContain("pgtide-pooler");
    cr.getSpec().pooler = new io.pgtide.common.crd.PostgresClusterSpec.PoolerSpec();
    cr.getSpec().pooler.replicas = true;
    String yaml = Render.yaml(cr, OperatorConfig.DEFAULTS);
    assertThat(yaml).contains("kind: \"Deployment\"", "kind: \"ConfigMap\"", "name: \"orders-pooler\"",
        "name: \"orders-pooler-repl\"", "\"pgtide_pooler\" \"<generated at apply time>\"");
    Object parsed = Serialization.unmarshal(yaml);
    assertThat(parsed).isNotNull();
  }

  @Test
  void validationIsTheSecondLineBehindTheSchema() {
    PostgresCluster cr = LocalRunner.read(Path.of("..", "manifests", "samples", "full.yaml"));
    assertThat(ClusterValidation.problem(cr.getSpec())).isNull();
    cr.getSpec().postgresVersion = 12;
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("13..17");
    cr.getSpec().postgresVersion = 17;
    cr.getSpec().autoscaling.minReplicas = 9;
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("exceeds maxReplicas");
    cr.getSpec().autoscaling.minReplicas = 2;
    cr.getSpec().replicas = 0;
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("replicas must be 1..32, got 0");
    cr.getSpec().replicas = 100_000;
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("replicas must be 1..32, got 100000");
    cr.getSpec().replicas = 3;
    cr.getSpec().autoscaling.maxReplicas = 40;
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("autoscaling.maxReplicas must be at most 32");
    cr.getSpec().autoscaling.maxReplicas = 6;
    // 40 characters, 80 bytes: the schema's maxLength counts characters, PostgreSQL counts bytes
    cr.getSpec().users.get(0).name = "é".repeat(40);
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("80 bytes");
    cr.getSpec().users.get(0).name = "alice";
    cr.getSpec().patroni.ttl = 10;
    assertThat(ClusterValidation.problem(cr.getSpec())).contains("patroni.ttl");
  }
}
