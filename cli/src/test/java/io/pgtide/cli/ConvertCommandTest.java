package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresUser;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code pgtide convert} end to end, in process: its exit codes, stdout parsed back, stderr's list. */
class ConvertCommandTest {
  static final Path DIR = ZalandoConversionTest.DIR;

  /** The documents of {@code yaml} of one kind, read as fabric8 reads a resource. */
  static <T> List<T> documents(String yaml, Class<T> type) throws IOException {
    List<T> out = new ArrayList<>();
    try (var it = new YAMLMapper().readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc.path("kind").asText().equals(type.getSimpleName())) {
          assertThat(doc.path("apiVersion").asText()).isEqualTo("pgtide.io/v1");
          out.add(Serialization.jsonMapper().convertValue(doc, type));
        }
      }
    }
    return out;
  }

  @Test
  void aWhollyConvertibleFileExitsZeroWithAPostgresClusterOnStdout() throws Exception {
    PgtideCliAccess.Output o = PgtideCliAccess.runCapturing("convert", "-f", DIR.resolve("small.yaml").toString());

    assertThat(o.exit()).as(o.err()).isZero();
    assertThat(o.err()).isEmpty();
    List<PostgresCluster> clusters = documents(o.out(), PostgresCluster.class);
    assertThat(clusters).singleElement().satisfies(c -> {
      assertThat(c.getMetadata().getName()).isEqualTo("shop-orders");
      assertThat(c.getMetadata().getNamespace()).isEqualTo("shop");
      assertThat(c.getSpec().replicas).isEqualTo(3);
      assertThat(c.getSpec().patroni.ttl).isEqualTo(45);
      assertThat(c.getSpec().scheduling.tolerations).hasSize(1);
    });
  }

  @Test
  void lostFieldsExitTwoWithNothingPrintedUnlessPartialIsAllowed() throws Exception {
    String file = DIR.resolve("everything.yaml").toString();

    PgtideCliAccess.Output refused = PgtideCliAccess.runCapturing("convert", "-f", file);
    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.out()).isEmpty();
    assertThat(refused.err()).contains(
        "pgtide convert: not converted: data-warehouse: spec.podAnnotations: PostgresCluster has no pod annotations",
        "pgtide convert: not converted: data-warehouse: spec.postgresql.version: pgtide runs PostgreSQL 13 to 17,"
            + " got '18'",
        "12 field(s) not converted");

    PgtideCliAccess.Output partial = PgtideCliAccess.runCapturing("convert", "-f", file, "--allow-partial",
        "--separate-users");
    assertThat(partial.exit()).isZero();
    assertThat(partial.err()).contains("spec.podAnnotations", "spec.standby").doesNotContain("nothing printed");
    assertThat(documents(partial.out(), PostgresCluster.class)).singleElement()
        .satisfies(c -> assertThat(c.getSpec().users).isEmpty());
    assertThat(documents(partial.out(), PostgresUser.class)).hasSize(5)
        .allSatisfy(u -> assertThat(u.getSpec().cluster).isEqualTo("data-warehouse"));
  }

  @Test
  void aMinimalClusterWithAPreparedDatabaseListsOnlyZalandosDefaultSchema() throws Exception {
    String file = DIR.resolve("minimal-shaped.yaml").toString();
    PgtideCliAccess.Output o = PgtideCliAccess.runCapturing("convert", "-f", file);
    assertThat(o.exit()).isEqualTo(2);
    assertThat(o.err().lines().filter(l -> l.contains("not converted:")))
        .singleElement().asString().startsWith("pgtide convert: not converted: team-tiny:"
            + " spec.preparedDatabases.things.schemas: Zalando makes schema data");

    PgtideCliAccess.Output partial = PgtideCliAccess.runCapturing("convert", "-f", file, "--allow-partial");
    assertThat(partial.exit()).isZero();
    PostgresCluster c = documents(partial.out(), PostgresCluster.class).get(0);
    // what the operator and pgtide validate would say of it
    assertThat(io.pgtide.operator.ClusterFile.problem(c, false)).isNull();
    assertThat(c.getSpec().databases).extracting(d -> d.name + "/" + d.owner)
        .containsExactly("appdb/owner_role", "things/things_owner");
    assertThat(c.getSpec().users).extracting(u -> u.name).containsExactly("owner_role", "app_role", "things_owner");
  }

  @Test
  void badInputExitsOneWithTheReason() throws Exception {
    PgtideCliAccess.Output wrongKind = PgtideCliAccess.runCapturing("convert", "-f",
        DIR.resolve("not-zalando.yaml").toString());
    assertThat(wrongKind.exit()).isEqualTo(1);
    assertThat(wrongKind.out()).isEmpty();
    assertThat(wrongKind.err()).contains("kind must be postgresql and apiVersion acid.zalan.do/v1");

    PgtideCliAccess.Output missing = PgtideCliAccess.runCapturing("convert", "-f",
        DIR.resolve("absent.yaml").toString());
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err()).contains("cannot read");

    assertThat(PgtideCliAccess.runCapturing("convert").exit()).as("-f is required").isEqualTo(2);
  }

  @Test
  void dashReadsStdin() throws Exception {
    InputStream stdin = System.in;
    System.setIn(new ByteArrayInputStream(Files.readString(DIR.resolve("two-and-a-list.yaml"))
        .getBytes(StandardCharsets.UTF_8)));
    try {
      PgtideCliAccess.Output o = PgtideCliAccess.runCapturing("convert", "-f", "-");
      assertThat(o.exit()).as(o.err()).isZero();
      assertThat(documents(o.out(), PostgresCluster.class)).extracting(c -> c.getMetadata().getName())
          .containsExactly("web-one", "web-two");
    } finally {
      System.setIn(stdin);
    }
  }

  @Test
  void notYamlOnStdinExitsOne() {
    InputStream stdin = System.in;
    System.setIn(new ByteArrayInputStream("{ not: [yaml".getBytes(StandardCharsets.UTF_8)));
    try {
      PgtideCliAccess.Output o = PgtideCliAccess.runCapturing("convert", "-f", "-");
      assertThat(o.exit()).isEqualTo(1);
      assertThat(o.err()).contains("pgtide convert: stdin is not YAML");
    } finally {
      System.setIn(stdin);
    }
  }
}
