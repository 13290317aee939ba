package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.File;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The generated CRD's OpenAPI schema, checked with a JSON-schema validator the way the API server would: the
 * samples pass; a resource breaking each rule is refused. (CEL rules are the API server's; the operator checks
 * their logic again in {@link ClusterValidation}, tested in {@code RenderTest}.)
 */
class CrdSchemaTest {
  static final YAMLMapper YAML = new YAMLMapper();

  static Schema schema(String crd) throws Exception {
    JsonNode root = YAML.readTree(new File("../manifests/crd/" + crd));
    JsonNode openApi = root.at("/spec/versions/0/schema/openAPIV3Schema");
    return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4).getSchema(YAML.writeValueAsString(openApi),
        com.networknt.schema.InputFormat.YAML);
  }

  static JsonNode sample(String file) throws Exception {
    return YAML.readTree(new File("../manifests/samples/" + file));
  }

  static List<String> errors(Schema schema, JsonNode resource) {
    return schema.validate(resource).stream().map(Object::toString).toList();
  }

  static JsonNode broken(JsonNode base, Consumer<ObjectNode> change) {
    ObjectNode copy = base.deepCopy();
    change.accept((ObjectNode) copy.get("spec"));
    return copy;
  }

  @Test
  void theSamplesAreValid() throws Exception {
    Schema cluster = schema("postgresclusters.pgtide.io-v1.yml");
    for (String file : List.of("minimal.yaml", "full.yaml", "local-cluster.yaml", "local-backups.yaml",
        "local-pooler.yaml", "standby.yaml")) {
      assertThat(errors(cluster, sample(file))).as(file).isEmpty();
    }
    assertThat(errors(schema("postgresusers.pgtide.io-v1.yml"), sample("postgresuser.yaml"))).isEmpty();
  }

  @Test
  void aClusterBreakingEachRuleIsRefused() throws Exception {
    Schema cluster = schema("postgresclusters.pgtide.io-v1.yml");
    JsonNode ok = sample("full.yaml");
    List<Consumer<ObjectNode>> breaks = List.of(
        s -> s.put("replicas", 0),
        s -> s.remove("replicas"),
        s -> s.put("replicas", "three"),
        s -> s.put("postgresVersion", 12),
        s -> s.put("postgresVersion", 18),
        s -> ((ObjectNode) s.get("storage")).put("pvcRetention", "Keep"),
        s -> ((ObjectNode) s.get("patroni")).put("ttl", 2),
        s -> ((ObjectNode) s.get("autoscaling")).put("maxStep", 0),
        s -> ((ObjectNode) s.get("autoscaling")).put("removedMemberStorage", "Shred"),
        s -> ((ObjectNode) s.get("users").get(0)).put("ensure", "maybe"),
        s -> ((ObjectNode) s.get("users").get(0)).put("name", ""),
        s -> ((ObjectNode) s.get("users").get(0)).put("name", "x".repeat(64)),
        s -> ((ObjectNode) s.get("users").get(0)).put("connectionLimit", -2),
        s -> ((ObjectNode) s.get("users").get(0)).remove("name"),
        s -> ((ObjectNode) s.get("databases").get(0)).remove("name"),
        s -> s.put("failoverDelaySeconds", 0),
        s -> s.putObject("backup").putObject("retention").put("window", "36h"),
        s -> s.putObject("backup").putObject("retention").put("count", 0),
        s -> s.putObject("bootstrap").putObject("recovery").put("targetTime", "2026-11-29T10:00:00Z"),
        s -> ((ObjectNode) s.get("storage")).put("size", "lots"),
        s -> ((ObjectNode) s.get("storage")).put("size", "10 GB"),
        s -> s.putObject("backup").put("storage", "plenty"),
        s -> s.putObject("pooler").put("poolMode", "statement"),
        s -> s.putObject("pooler").put("defaultPoolSize", 0),
        s -> s.putObject("pooler").put("instances", 0),
        s -> s.putObject("pooler").put("maxClientConnections", 0),
        s -> s.putObject("pooler").put("replicas", "yes"),
        s -> s.putObject("standby").put("sourceNamespace", "shop"),
        s -> s.putObject("standby").put("source", "Not_A_Name"));
    for (int i = 0; i < breaks.size(); i++) {
      assertThat(errors(cluster, broken(ok, breaks.get(i)))).as("rule %d", i).isNotEmpty();
    }
  }

  @Test
  void aClusterWithoutSpecIsRefusedAndItsNameIsCheckedByARule() throws Exception {
    Schema cluster = schema("postgresclusters.pgtide.io-v1.yml");
    ObjectNode specless = sample("minimal.yaml").deepCopy();
    specless.remove("spec");
    assertThat(errors(cluster, specless)).isNotEmpty();
    // the name is the API server's CEL rule (this validator runs none): it is in the schema, with the same pattern
    JsonNode rules = YAML.readTree(new File("../manifests/crd/postgresclusters.pgtide.io-v1.yml"))
        .at("/spec/versions/0/schema/openAPIV3Schema/x-kubernetes-validations");
    assertThat(rules.toString()).contains("self.metadata.name.matches")
        .contains(io.pgtide.common.crd.PostgresCluster.NAME_PATTERN);
  }

  @Test
  void aPostgresUserWithoutItsClusterIsRefused() throws Exception {
    Schema user = schema("postgresusers.pgtide.io-v1.yml");
    assertThat(errors(user, broken(sample("postgresuser.yaml"), s -> s.remove("cluster")))).isNotEmpty();
  }
}
