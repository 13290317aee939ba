package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {

  @Test
  void clusterWideByDefaultAndTheServiceOfItsOwnNamespace() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of("POD_NAMESPACE", "dbs-operator"));
    assertThat(c.watchNamespaces()).isEmpty();
    assertThat(c.operatorServiceHost()).isEqualTo("pgtide-operator.dbs-operator.svc");
  }

  @Test
  void aNamespacedInstallWatchesWhatItLists() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of("PGTIDE_WATCH_NAMESPACES", " shop, billing,,shop "));
    assertThat(c.watchNamespaces()).containsExactly("billing", "shop");
  }

  @Test
  void theImageAllowlistIsACommaListOrTheShippedSpiloImagesRepository() {
    assertThat(OperatorConfig.fromEnv(Map.of("PGTIDE_ALLOWED_IMAGES", " registry.example.com/db/ ,, x:1 "))
        .allowedImages()).containsExactly("registry.example.com/db/", "x:1");
    assertThat(OperatorConfig.fromEnv(Map.of("PGTIDE_SPILO_IMAGE", "localhost/spilo:test")).allowedImages())
        .containsExactly("localhost/spilo:", "localhost/spilo@");
    // blank is unset, not "refuse everything"
    assertThat(OperatorConfig.fromEnv(Map.of("PGTIDE_ALLOWED_IMAGES", " ")).allowedImages())
        .isEqualTo(OperatorConfig.DEFAULTS.allowedImages());
  }
}
