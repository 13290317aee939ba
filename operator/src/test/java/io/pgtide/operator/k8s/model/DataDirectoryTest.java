package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import org.junit.jupiter.api.Test;

/**
 * Where PostgreSQL's data lives is pinned by pgtide, not by the image's ENV: the StatefulSet's Spilo container sets
 * PGDATA, and the restore Job writes to exactly that directory, on the same volume mounted at the same path. Read
 * from the objects themselves, so a drift between the two (an image without PGDATA: Patroni finds nothing and runs
 * initdb after a "successful" restore) fails here.
 */
class DataDirectoryTest {

  static PostgresCluster restoredCluster() {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders-copy").withNamespace("shop").withUid("u-1").build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().bootstrap = new PostgresClusterSpec.BootstrapSpec();
    cr.getSpec().bootstrap.recovery = new PostgresClusterSpec.RecoverySpec();
    cr.getSpec().bootstrap.recovery.source = "orders";
    return cr;
  }

  static Container spilo(PostgresCluster cr) {
    return ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec().getContainers()
        .stream().filter(c -> c.getName().equals("postgres")).findFirst().orElseThrow();
  }

  static Container restore(PostgresCluster cr) {
    return BackupAgentModel.restoreJob(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec().getContainers()
        .stream().filter(c -> c.getName().equals("restore")).findFirst().orElseThrow();
  }

  static String env(Container c, String name) {
    return c.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst().orElse(null);
  }

  static VolumeMount mount(Container c, String volume) {
    return c.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst().orElseThrow();
  }

  @Test
  void theStatefulSetSetsPgdataAndTheRestoreJobWritesThere() {
    PostgresCluster cr = restoredCluster();
    String pgdata = env(spilo(cr), "PGDATA");
    assertThat(pgdata).as("PGDATA in the Spilo container's env (else the image's ENV decides)").isNotBlank();
    assertThat(pgdata).as("what Zalando's Spilo images set: existing volumes keep working")
        .isEqualTo("/home/postgres/pgdata/pgroot/data");
    assertThat(env(restore(cr), "PGTIDE_DATA_DIR")).as("where the restore Job writes").isEqualTo(pgdata);
  }

  @Test
  void theDataDirectoryIsUnderPgrootOnTheVolumeTheRestoreJobMountsAtTheSamePath() {
    PostgresCluster cr = restoredCluster();
    Container spilo = spilo(cr);
    String pgdata = env(spilo, "PGDATA");
    String pgroot = env(spilo, "PGROOT");
    assertThat(pgdata).as("PGDATA under the PGROOT the StatefulSet sets").isNotNull().startsWith(pgroot + "/");
    // the StatefulSet's data volume is its claim template, mounted into the Spilo container
    var sts = ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS);
    String template = sts.getSpec().getVolumeClaimTemplates().get(0).getMetadata().getName();
    String mountPath = mount(spilo, template).getMountPath();
    assertThat(pgroot).as("PGROOT on the data volume").startsWith(mountPath + "/");
    // the restore Job mounts the first member's claim of that template at the same path
    Container restore = restore(cr);
    var job = BackupAgentModel.restoreJob(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
    VolumeMount restoreMount = restore.getVolumeMounts().stream()
        .filter(m -> env(restore, "PGTIDE_DATA_DIR").startsWith(m.getMountPath() + "/")).findFirst().orElseThrow();
    assertThat(restoreMount.getMountPath()).isEqualTo(mountPath);
    String claim = job.getVolumes().stream().filter(v -> v.getName().equals(restoreMount.getName())).findFirst()
        .orElseThrow().getPersistentVolumeClaim().getClaimName();
    assertThat(claim).as("the volume the first member adopts").isEqualTo(template + "-" + cr.getMetadata().getName()
        + "-0");
    assertThat(BackupAgentModel.firstDataVolume(cr).getMetadata().getName()).isEqualTo(claim);
    assertThat(pgdata).startsWith(restoreMount.getMountPath() + "/");
  }
}
