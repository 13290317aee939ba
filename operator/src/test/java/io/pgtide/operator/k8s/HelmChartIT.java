package io.pgtide.operator.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart (charts/pgtide) and manifests/ are one install: `helm template` with each set of values renders
 * exactly the objects of the matching manifests (same kind, namespace, name and content; YAML compared as trees), so
 * neither can change alone. When this fails after a change of manifests/, the message names the object and the first
 * field that differs: update the chart template that renders it (charts/pgtide/templates/, named in the message).
 * The chart's CRDs and alert rules are copies the build makes (module common); they must be committed as built.
 * Runs the real Helm, built by scripts/helm.sh from its Go module when it is not in the cache.
 */
class HelmChartIT {
  static final YAMLMapper YAML = new YAMLMapper();
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path CHART = ROOT.resolve("charts/pgtide");
  static final Path MANIFESTS = ROOT.resolve("manifests");
  static final String NS = "pgtide-system";
  static String helm;

  @BeforeAll
  static void buildHelm() {
    String out = run(List.of("bash", ROOT.resolve("scripts/helm.sh").toString()), 1800);
    helm = out.strip().lines().reduce((a, b) -> b).orElseThrow();
    assertThat(Path.of(helm)).isExecutable();
  }

  @Test
  void lintPassesForBothInstalls() {
    run(List.of(helm, "lint", "--strict", CHART.toString()), 120);
    run(List.of(helm, "lint", "--strict", CHART.toString(), "--set", "watchNamespaces={shop,billing}",
        "--set", "monitoring.podMonitor.enabled=true", "--set", "monitoring.prometheusRule.enabled=true"), 120);
  }

  @Test
  void theDefaultsAreTheClusterWideInstall() {
    Map<String, JsonNode> expected = objects(MANIFESTS.resolve("crd"), MANIFESTS.resolve("rbac"),
        MANIFESTS.resolve("operator/00-namespace.yaml"), MANIFESTS.resolve("operator/10-deployment.yaml"));
    // Helm cannot own the namespace it installs into: the Namespace is rendered only with namespace.create
    JsonNode namespace = expected.remove(key("Namespace", "", NS));
    assertThat(namespace).isNotNull();
    assertSame(expected, render());

    Map<String, JsonNode> withNamespace = render("--set", "namespace.create=true");
    assertThat(withNamespace.get(key("Namespace", "", NS))).as("the Namespace with namespace.create=true")
        .isEqualTo(namespace);
  }

  @Test
  void watchNamespacesIsTheNamespacedInstall() {
    Map<String, JsonNode> expected = kustomize(MANIFESTS.resolve("namespaced"));
    expected.putAll(objects(MANIFESTS.resolve("crd")));
    expected.remove(key("Namespace", "", NS));
    assertSame(expected, render("--set", "watchNamespaces={shop}", "--set", "rbac.userRoles=false"));

    // a second watched namespace gets the same Role and RoleBinding, and the operator watches both
    Map<String, JsonNode> two = render("--set", "watchNamespaces={shop,billing}", "--set", "rbac.userRoles=false");
    for (String kind : List.of("Role", "RoleBinding")) {
      ObjectNode shop = (ObjectNode) expected.get(key(kind, "shop", "pgtide-operator")).deepCopy();
      ((ObjectNode) shop.get("metadata")).put("namespace", "billing");
      assertThat(two.get(key(kind, "billing", "pgtide-operator"))).as(kind + " in billing").isEqualTo(shop);
    }
    assertThat(two.get(key("Deployment", NS, "pgtide-operator")).toString())
        .contains("{\"name\":\"PGTIDE_WATCH_NAMESPACES\",\"value\":\"shop,billing\"}");
  }

  @Test
  void monitoringRendersThePodMonitorsAndRules() {
    Map<String, JsonNode> expected = objects(MANIFESTS.resolve("monitoring/podmonitor.yaml"),
        MANIFESTS.resolve("monitoring/prometheus-rules.yaml"));
    Map<String, JsonNode> rendered = render("--set", "monitoring.podMonitor.enabled=true",
        "--set", "monitoring.prometheusRule.enabled=true");
    rendered.keySet().removeIf(k -> !k.startsWith("PodMonitor/") && !k.startsWith("PrometheusRule/"));
    assertSame(expected, rendered);
    assertThat(render().keySet()).noneMatch(k -> k.startsWith("PodMonitor/") || k.startsWith("PrometheusRule/"));
  }

  @Test
  void theChartsCopiesAreAsBuilt() throws IOException {
    List<String> stale = new ArrayList<>();
    try (Stream<Path> crds = Files.list(MANIFESTS.resolve("crd"))) {
      for (Path crd : crds.toList()) {
        Path copy = CHART.resolve("crds").resolve(crd.getFileName());
        if (!Files.exists(copy) || Files.mismatch(crd, copy) != -1) {
          stale.add(CHART.relativize(copy).toString());
        }
      }
    }
    try (Stream<Path> copies = Files.list(CHART.resolve("crds"))) {
      copies.filter(c -> !Files.exists(MANIFESTS.resolve("crd").resolve(c.getFileName())))
          .forEach(c -> stale.add(CHART.relativize(c) + " (no such CRD in manifests/crd)"));
    }
    if (Files.mismatch(MANIFESTS.resolve("monitoring/prometheus-rules.yaml"),
        CHART.resolve("files/prometheus-rules.yaml")) != -1) {
      stale.add("files/prometheus-rules.yaml");
    }
    assertThat(stale).as("chart copies that differ from manifests/ (`mvn -pl common process-classes` makes them)")
        .isEmpty();
  }

  @Test
  void everyValueIsInTheChartsReadme() throws IOException {
    JsonNode values = YAML.readTree(CHART.resolve("values.yaml").toFile());
    String readme = Files.readString(CHART.resolve("README.md"));
    List<String> missing = new ArrayList<>();
    leaves("", values, path -> {
      if (!readme.contains("| `" + path + "` |")) {
        missing.add(path);
      }
    });
    assertThat(missing).as("values without a row in charts/pgtide/README.md").isEmpty();
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  static void leaves(String prefix, JsonNode node, java.util.function.Consumer<String> out) {
    if (node.isObject() && !node.isEmpty()) {
      // a map whose keys are Kubernetes data (resources) is one value
      if (prefix.equals("resources")) {
        out.accept(prefix);
        return;
      }
      node.fieldNames().forEachRemaining(f -> leaves(prefix.isEmpty() ? f : prefix + "." + f, node.get(f), out));
    } else {
      out.accept(prefix);
    }
  }

  static Map<String, JsonNode> render(String... args) {
    List<String> cmd = new ArrayList<>(List.of(helm, "template", "pgtide", CHART.toString(), "--namespace", NS,
        "--include-crds"));
    cmd.addAll(List.of(args));
    return parse(run(cmd, 120), "helm template " + String.join(" ", args));
  }

  static String key(String kind, String namespace, String name) {
    return kind + "/" + namespace + "/" + name;
  }

  static Map<String, JsonNode> parse(String yaml, String source) {
    Map<String, JsonNode> objects = new LinkedHashMap<>();
    try (var docs = YAML.readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
      while (docs.hasNext()) {
        JsonNode doc = docs.next();
        if (doc == null || doc.isNull() || doc.isMissingNode() || doc.isEmpty()) {
          continue;
        }
        String k = key(doc.path("kind").asText(), doc.path("metadata").path("namespace").asText(""),
            doc.path("metadata").path("name").asText());
        assertThat(objects.put(k, doc)).as(k + " twice in " + source).isNull();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(source, e);
    }
    return objects;
  }

  /** The objects of files and of the YAML files of directories (not recursive). */
  static Map<String, JsonNode> objects(Path... paths) {
    Map<String, JsonNode> all = new LinkedHashMap<>();
    for (Path p : paths) {
      try {
        List<Path> files = Files.isDirectory(p)
            ? Files.list(p).filter(f -> f.toString().matches(".*\\.ya?ml$")).sorted().toList() : List.of(p);
        for (Path f : files) {
          if (!f.getFileName().toString().equals("kustomization.yaml")) {
            all.putAll(parse(Files.readString(f), ROOT.relativize(f).toString()));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return all;
  }

  /** What `kubectl kustomize DIR` builds, for what pgtide's kustomizations use: resources and JSON 6902 patches. */
  static Map<String, JsonNode> kustomize(Path dir) {
    try {
      JsonNode k = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
      Map<String, JsonNode> objects = new LinkedHashMap<>();
      for (JsonNode r : k.path("resources")) {
        Path p = dir.resolve(r.asText()).normalize();
        objects.putAll(Files.isDirectory(p) ? kustomize(p) : objects(p));
      }
      for (JsonNode patch : k.path("patches")) {
        JsonNode target = patch.path("target");
        List<JsonNode> hits = objects.values().stream()
            .filter(o -> o.path("kind").asText().equals(target.path("kind").asText())
                && o.path("metadata").path("name").asText().equals(target.path("name").asText())).toList();
        assertThat(hits).as("the target of a patch in " + dir).hasSize(1);
        for (JsonNode op : YAML.readTree(patch.path("patch").asText())) {
          applyOp(hits.get(0), op);
        }
      }
      return objects;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void applyOp(JsonNode doc, JsonNode op) {
    String path = op.path("path").asText();
    String parent = path.substring(0, path.lastIndexOf('/'));
    String last = path.substring(path.lastIndexOf('/') + 1).replace("~1", "/").replace("~0", "~");
    JsonNode container = doc.at(parent);
    String kind = op.path("op").asText();
    assertThat(kind).as("JSON patch op (this test knows add and replace)").isIn("add", "replace");
    if (container instanceof ArrayNode array) {
      if (last.equals("-")) {
        array.add(op.get("value"));
      } else if (kind.equals("add")) {
        array.insert(Integer.parseInt(last), op.get("value"));
      } else {
        array.set(Integer.parseInt(last), op.get("value"));
      }
    } else {
      ((ObjectNode) container).set(last, op.get("value"));
    }
  }

  static void assertSame(Map<String, JsonNode> expected, Map<String, JsonNode> rendered) {
    List<String> problems = new ArrayList<>();
    for (String k : new TreeSet<>(expected.keySet())) {
      if (!rendered.containsKey(k)) {
        problems.add(k + ": in manifests/, not rendered by the chart");
      } else if (!expected.get(k).equals(rendered.get(k))) {
        problems.add(k + ": differs at " + firstDifference("", expected.get(k), rendered.get(k))
            + " (template: " + template(k) + ")");
      }
    }
    for (String k : new TreeSet<>(rendered.keySet())) {
      if (!expected.containsKey(k)) {
        problems.add(k + ": rendered by the chart, not in manifests/");
      }
    }
    assertThat(problems).as("the chart and manifests/ differ").isEmpty();
  }

  static String template(String key) {
    String kind = key.substring(0, key.indexOf('/'));
    return switch (kind) {
      case "CustomResourceDefinition" -> "crds/ (copied by the build)";
      case "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding" ->
          "templates/rbac-*.yaml, templates/_helpers.tpl";
      case "PodMonitor", "PrometheusRule" -> "templates/monitoring.yaml";
      case "Namespace" -> "templates/namespace.yaml";
      case "ServiceAccount" -> "templates/serviceaccount.yaml";
      default -> "templates/operator.yaml";
    };
  }

  static String firstDifference(String at, JsonNode want, JsonNode got) {
    if (got == null || got.isMissingNode()) {
      return at + " (manifests: " + want + ", chart: nothing)";
    }
    if (want.isObject() && got.isObject()) {
      TreeSet<String> fields = new TreeSet<>();
      want.fieldNames().forEachRemaining(fields::add);
      got.fieldNames().forEachRemaining(fields::add);
      for (String f : fields) {
        if (!want.has(f)) {
          return at + "/" + f + " (manifests: nothing, chart: " + got.get(f) + ")";
        }
        if (!want.get(f).equals(got.get(f))) {
          return firstDifference(at + "/" + f, want.get(f), got.get(f));
        }
      }
    }
    if (want.isArray() && got.isArray()) {
      Iterator<JsonNode> w = want.elements();
      Iterator<JsonNode> g = got.elements();
      for (int i = 0; w.hasNext() || g.hasNext(); i++) {
        JsonNode a = w.hasNext() ? w.next() : TextNode.valueOf("<nothing>");
        JsonNode b = g.hasNext() ? g.next() : TextNode.valueOf("<nothing>");
        if (!a.equals(b)) {
          return firstDifference(at + "/" + i, a, b);
        }
      }
    }
    return at + " (manifests: " + want + ", chart: " + got + ")";
  }

  static String run(List<String> cmd, int seconds) {
    try {
      Path out = Files.createTempFile("helm", ".out");
      Path err = Files.createTempFile("helm", ".err");
      try {
        Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectOutput(out.toFile())
            .redirectError(err.toFile()).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError(String.join(" ", cmd) + ": no answer in " + seconds + " s");
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
          throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + stdout
              + Files.readString(err, StandardCharsets.UTF_8));
        }
        return stdout;
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
