package io.pgtide.operator.k8s;

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
}
