package io.pgtide.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ClusterKeyTest {
  @Test
  void itsTextIsNamespaceSlashNameBothWays() {
    assertThat(ClusterKey.text("shop", "pg1")).isEqualTo("shop/pg1");
    assertThat(ClusterKey.parse("shop/pg1")).isEqualTo(new ClusterKey("shop", "pg1"));
  }

  @Test
  void anythingElseIsRefused() {
    for (String bad : new String[] {"pg1", "/pg1", "shop/", "shop/pg1/pg1-0", ""}) {
      assertThatThrownBy(() -> ClusterKey.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> ClusterKey.parse(null)).isInstanceOf(IllegalArgumentException.class);
  }
}
