package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.crd.PostgresClusterStatus;
import org.junit.jupiter.api.Test;

class StandbyStatusTableTest {
  @Test
  void kubectlPgtideStatusShowsWhatAStandbyFollowsAndHowFarBehind() {
    PostgresClusterStatus s = new PostgresClusterStatus();
    s.standby = new PostgresClusterStatus.Standby();
    s.standby.source = "shop/orders";
    s.standby.streaming = true;
    s.standby.lagBytes = 4096L;
    assertThat(KubeCli.table("dr/orders-dr", s)).contains("standby of shop/orders: streaming, lag 4096 bytes");
    s.standby.promoted = true;
    s.standby.promotedAt = "2026-12-04T14:00:00Z";
    assertThat(KubeCli.table("dr/orders-dr", s)).contains("standby of shop/orders, promoted at 2026-12-04T14:00:00Z");
    assertThat(KubeCli.table("shop/orders", new PostgresClusterStatus())).doesNotContain("standby");
  }
}
