package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import org.junit.jupiter.api.Test;

/** Until pgtide upgrades a major version in place, a postgresVersion other than the running major is refused. */
class MajorVersionChangeTest {

  static PostgresCluster cluster(int version) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("u-1").build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().postgresVersion = version;
    return cr;
  }

  @Test
  void theRunningMajorIsTheStatefulSetsPgversion() {
    assertThat(ClusterModel.postgresVersion(ClusterModel.statefulSet(cluster(15), OperatorConfig.DEFAULTS)))
        .isEqualTo(15);
    assertThat(ClusterModel.postgresVersion(ClusterModel.statefulSet(cluster(17), OperatorConfig.DEFAULTS)))
        .isEqualTo(17);
    assertThat(ClusterModel.postgresVersion(null)).as("no StatefulSet yet").isNull();
    assertThat(ClusterModel.postgresVersion(new StatefulSetBuilder().withNewSpec().withNewTemplate().withNewSpec()
        .addNewContainer().withName("postgres").endContainer().endSpec().endTemplate().endSpec().build()))
        .as("a Spilo container without PGVERSION").isNull();
  }

  @Test
  void aChangeOfMajorIsRefusedWithWhatToDoInstead() {
    String refused = ClusterValidation.majorVersionChange(15, 17);
    assertThat(refused).contains("major-version change (from 15 to 17) is not supported")
        .contains("in-place major upgrade").contains("new cluster").contains("back to 15");
    assertThat(ClusterValidation.majorVersionChange(17, 15)).as("a downgrade too")
        .contains("from 17 to 15");
  }

  @Test
  void theSameMajorOrNoStatefulSetYetIsAllowed() {
    assertThat(ClusterValidation.majorVersionChange(17, 17)).isNull();
    assertThat(ClusterValidation.majorVersionChange(null, 15)).as("a new cluster picks its major").isNull();
  }
}
