package io.pgtide.operator.patroni;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StandbySlotsTest {
  @Test
  void eachStandbyHasAPermanentSlotAndOneGoneIsDropped() {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    JsonObject config = PatroniDynamicConfig.of(spec, Set.of(), List.of("pgtide_standby_dr_copy"),
        Set.of("pgtide_standby_dr_old"));
    JsonObject slots = config.getJsonObject("slots");
    assertThat(slots.getJsonObject("pgtide_standby_dr_copy").getString("type")).isEqualTo("physical");
    assertThat(slots.containsKey("pgtide_standby_dr_old")).isTrue();
    assertThat(slots.getValue("pgtide_standby_dr_old")).as("removed: null").isNull();
    assertThat(slots.containsKey("pgtide_barman")).as("no backups: the barman slot removed").isTrue();
    assertThat(config.containsKey("standby_cluster")).as("only a promotion touches it").isFalse();
    assertThat(PatroniDynamicConfig.of(spec, Set.of())).isEqualTo(PatroniDynamicConfig.of(spec, Set.of(), List.of(),
        Set.of()));
  }

  @Test
  void promotionRemovesStandbyCluster() {
    JsonObject promotion = PatroniDynamicConfig.promotion();
    assertThat(promotion.containsKey("standby_cluster")).isTrue();
    assertThat(promotion.getValue("standby_cluster")).isNull();
    assertThat(promotion.encode()).isEqualTo("{\"standby_cluster\":null}");
  }

  @Test
  void slotsOfStandbysGoneWhileNoOperatorRanAreFoundInPatronisAnswer() {
    String answer = "{\"ttl\":30,\"slots\":{\"pgtide_barman\":{\"type\":\"physical\"},"
        + "\"pgtide_standby_dr_copy\":{\"type\":\"physical\"},\"pgtide_standby_dr_gone\":{\"type\":\"physical\"},"
        + "\"mine\":{\"type\":\"physical\"}}}";
    assertThat(PatroniDynamicConfig.staleStandbySlots(answer, List.of("pgtide_standby_dr_copy")))
        .containsExactly("pgtide_standby_dr_gone");
    assertThat(PatroniDynamicConfig.staleStandbySlots("not json", List.of())).isEmpty();
    assertThat(PatroniDynamicConfig.staleStandbySlots("{}", List.of())).isEmpty();
  }
}
