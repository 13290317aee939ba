package io.pgtide.operator.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ArgoCD layout (examples/gitops, issue #31): every ArgoCD object there validates against ArgoCD's own CRD
 * schemas (from its Go module, scripts/argocd-crds.sh) and every pgtide object against pgtide's, made strict the way
 * the API server's field validation is (an unknown field is an error, as {@code kubectl apply} reports it); the sync
 * waves put the operator first; and the health check, run by a real Lua 5.1 as ArgoCD runs it, maps each documented
 * case. ServerTlsK8sE2E runs the same check on statuses the operator wrote on the real tier.
 */
class GitOpsExamplesIT {
  static final YAMLMapper YAML = new YAMLMapper();
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path GITOPS = ROOT.resolve("examples/gitops");
  static final Map<String, Schema> SCHEMAS = new HashMap<>();

  @BeforeAll
  static void loadSchemas() throws IOException {
    String out = run(List.of("bash", ROOT.resolve("scripts/argocd-crds.sh").toString()), null, 900);
    Path argo = Path.of(out.strip().lines().reduce((a, b) -> b).orElseThrow());
    try (Stream<Path> crds = Files.list(argo)) {
      crds.forEach(GitOpsExamplesIT::addSchema);
    }
    addSchema(ROOT.resolve("manifests/crd/postgresclusters.pgtide.io-v1.yml"));
    addSchema(ROOT.resolve("manifests/crd/postgresusers.pgtide.io-v1.yml"));
    assertThat(SCHEMAS).containsKeys("argoproj.io/Application", "argoproj.io/ApplicationSet",
        "argoproj.io/AppProject", "pgtide.io/PostgresCluster", "pgtide.io/PostgresUser");
  }

  /** A CRD's stored version's schema, strict: objects with declared properties take no other field. */
  static void addSchema(Path crdFile) {
    try {
      JsonNode crd = YAML.readTree(crdFile.toFile());
      for (JsonNode version : crd.at("/spec/versions")) {
        if (version.path("storage").asBoolean()) {
          JsonNode schema = version.at("/schema/openAPIV3Schema").deepCopy();
          strict(schema);
          SCHEMAS.put(crd.at("/spec/group").asText() + "/" + crd.at("/spec/names/kind").asText(),
              SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4)
                  .getSchema(YAML.writeValueAsString(schema), InputFormat.YAML));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The API server's ObjectMeta is declared only in part by a CRD: everything but {@code metadata} is strict. */
  static void strict(JsonNode root) {
    ObjectNode properties = ((ObjectNode) root).with("properties");
    for (String implicit : List.of("apiVersion", "kind", "metadata")) { // every object has them, not every CRD says
      if (!properties.has(implicit)) {
        properties.putObject(implicit).put("type", implicit.equals("metadata") ? "object" : "string");
      }
    }
    ((ObjectNode) root).put("additionalProperties", false);
    root.path("properties").fields().forEachRemaining(p -> {
      if (!p.getKey().equals("metadata")) {
        strictBelow(p.getValue());
      }
    });
  }

  static void strictBelow(JsonNode node) {
    if (node instanceof ObjectNode o) {
      if (o.has("properties") && !o.has("additionalProperties")
          && !o.path("x-kubernetes-preserve-unknown-fields").asBoolean()) {
        o.put("additionalProperties", false);
      }
      o.elements().forEachRemaining(GitOpsExamplesIT::strictBelow);
    } else if (node != null && node.isArray()) {
      node.elements().forEachRemaining(GitOpsExamplesIT::strictBelow);
    }
  }

  /** Every YAML document under examples/gitops (empty ones and the argocd-cm patch, which is not an object, left out). */
  static List<JsonNode> documents() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(GITOPS)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        try (var parser = new YAMLFactory().createParser(f.toFile())) {
          Iterator<JsonNode> docs = YAML.readValues(parser, JsonNode.class);
          while (docs.hasNext()) {
            JsonNode doc = docs.next();
            if (doc != null && doc.has("kind")) {
              ((ObjectNode) doc).put("__file", GITOPS.relativize(f).toString());
              out.add(doc);
            }
          }
        }
      }
    }
    return out;
  }

  static String kindKey(JsonNode doc) {
    return doc.path("apiVersion").asText().replaceFirst("/.*", "") + "/" + doc.path("kind").asText();
  }

  static List<String> errors(JsonNode doc) {
    ObjectNode copy = doc.deepCopy();
    copy.remove("__file");
    return SCHEMAS.get(kindKey(doc)).validate(copy).stream().map(Object::toString).toList();
  }

  @Test
  void everyArgoCdAndPgtideObjectValidatesAgainstItsOwnersSchema() throws IOException {
    List<JsonNode> docs = documents();
    List<String> checked = new ArrayList<>();
    for (JsonNode doc : docs) {
      if (SCHEMAS.containsKey(kindKey(doc))) {
        assertThat(errors(doc)).as(doc.path("__file").asText() + " " + kindKey(doc)).isEmpty();
        checked.add(kindKey(doc));
      } else {
        // the SealedSecrets' schema is the Sealed Secrets controller's, not vendored here
        assertThat(kindKey(doc)).as(doc.path("__file").asText()).isEqualTo("bitnami.com/SealedSecret");
      }
    }
    assertThat(checked).contains("argoproj.io/Application", "pgtide.io/PostgresCluster", "pgtide.io/PostgresUser");
    assertThat(checked.stream().filter(k -> k.startsWith("argoproj.io/")).count()).isGreaterThanOrEqualTo(3);
  }

  /** The validation can fail: what ArgoCD's API server would refuse is refused here. */
  @Test
  void anApplicationArgoCdWouldRefuseIsRefused() throws IOException {
    JsonNode app = documents().stream().filter(d -> d.path("__file").asText().equals("apps/clusters.yaml"))
        .findFirst().orElseThrow();
    ObjectNode noDestination = app.deepCopy();
    ((ObjectNode) noDestination.get("spec")).remove("destination");
    assertThat(errors(noDestination)).anyMatch(e -> e.contains("destination"));
    ObjectNode wrongType = app.deepCopy();
    ((ObjectNode) wrongType.at("/spec/syncPolicy/automated")).put("prune", "yes");
    assertThat(errors(wrongType)).anyMatch(e -> e.contains("prune"));
    ObjectNode typo = app.deepCopy();
    ((ObjectNode) typo.at("/spec/syncPolicy")).put("automatic", true);
    assertThat(errors(typo)).as("an unknown field").anyMatch(e -> e.contains("automatic"));
  }

  @Test
  void syncWavesPutTheOperatorThenTheClustersThenTheUsers() throws IOException {
    Map<String, Integer> wave = new HashMap<>();
    for (JsonNode d : documents()) {
      if (kindKey(d).equals("argoproj.io/Application")) {
        wave.put(d.at("/metadata/name").asText(),
            Integer.parseInt(d.at("/metadata/annotations").path("argocd.argoproj.io/sync-wave").asText("0")));
      }
    }
    assertThat(wave.get("pgtide-operator")).isLessThan(wave.get("pgtide-clusters"));
    assertThat(wave.get("pgtide-clusters")).isLessThan(wave.get("pgtide-team-shop"));
  }

  @Test
  void theArgoCdConfigMapPatchCarriesTheHealthCheckVerbatim() throws IOException {
    JsonNode patch = YAML.readTree(GITOPS.resolve("health/argocd-cm-patch.yaml").toFile());
    assertThat(patch.at("/data").path("resource.customizations.health.pgtide.io_PostgresCluster").asText().strip())
        .isEqualTo(Files.readString(GITOPS.resolve("health/postgrescluster.lua")).strip());
  }

  /** The health check on a PostgresCluster given as JSON: ArgoCD's status word. */
  static String health(String clusterJson) {
    String out = run(List.of("lua5.1", GITOPS.resolve("health/run-health.lua").toString(),
        GITOPS.resolve("health/postgrescluster.lua").toString()), clusterJson, 30);
    return out.strip().split("\t")[0];
  }

  static String cluster(int generation, int observed, String conditions) {
    return """
        {"metadata": {"name": "orders", "generation": %d},
         "status": {"observedGeneration": %d, "conditions": [%s]}}""".formatted(generation, observed, conditions);
  }

  static String condition(String type, String status, String reason) {
    return """
        {"type": "%s", "status": "%s", "reason": "%s", "message": "m"}""".formatted(type, status, reason);
  }

  @Test
  void theHealthCheckMapsEachDocumentedCase() {
    assertThat(health("{\"metadata\": {\"name\": \"orders\", \"generation\": 1}}")).as("no status yet")
        .isEqualTo("Progressing");
    assertThat(health(cluster(1, 1, condition("Ready", "True", "Serving")))).isEqualTo("Healthy");
    assertThat(health(cluster(1, 1, condition("Ready", "True", "Serving") + ","
        + condition("Progressing", "True", "RollingUpdate")))).isEqualTo("Progressing");
    assertThat(health(cluster(2, 1, condition("Ready", "True", "Serving")))).as("an older generation's status")
        .isEqualTo("Progressing");
    assertThat(health(cluster(1, 1, condition("Ready", "True", "Serving") + ","
        + condition("Degraded", "True", "StorageClassNotFound")))).isEqualTo("Degraded");
    assertThat(health(cluster(1, 1, condition("Ready", "False", "SplitView")))).isEqualTo("Degraded");
    assertThat(health(cluster(1, 1, condition("Ready", "False", "NoPrimary")))).isEqualTo("Progressing");
  }

  static String run(List<String> command, String stdin, int timeoutSeconds) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      var err = p.getErrorStream();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String errors = new String(err.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).as(command + " finished").isTrue();
      assertThat(p.exitValue()).as(command + ": " + errors).isZero();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
