package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Members spread by default, spec.scheduling overrides each part, and status says when they do not spread. */
class MemberPlacementTest {

  static PodSpec podSpec(PostgresClusterSpec.SchedulingSpec scheduling) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("u-1").build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().scheduling = scheduling;
    return ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
  }

  @Test
  void byDefaultMembersPreferDistinctNodesAndZones() {
    PodSpec pod = podSpec(null);
    var preferred = pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
    assertThat(preferred).hasSize(1);
    assertThat(preferred.get(0).getPodAffinityTerm().getTopologyKey()).isEqualTo("kubernetes.io/hostname");
    assertThat(preferred.get(0).getPodAffinityTerm().getLabelSelector().getMatchLabels())
        .isEqualTo(Map.of("application", "spilo", "cluster-name", "orders"));
    assertThat(pod.getAffinity().getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()).isEmpty();
    assertThat(pod.getTopologySpreadConstraints()).singleElement().satisfies(t -> {
      assertThat(t.getTopologyKey()).isEqualTo("topology.kubernetes.io/zone");
      // scored only: nodes without a zone label stay eligible
      assertThat(t.getWhenUnsatisfiable()).isEqualTo("ScheduleAnyway");
    });
    assertThat(pod.getNodeSelector()).isNullOrEmpty();
    assertThat(pod.getPriorityClassName()).isNull();
  }

  @Test
  void schedulingReplacesEachPartItNames() {
    var s = new PostgresClusterSpec.SchedulingSpec();
    s.podAntiAffinityType = "required";
    s.nodeSelector = Map.of("disk", "ssd");
    s.tolerations = List.of(new TolerationBuilder().withKey("dedicated").withValue("db").withEffect("NoSchedule")
        .build());
    s.topologySpreadConstraints = List.of();
    s.priorityClassName = "databases";
    PodSpec pod = podSpec(s);
    assertThat(pod.getAffinity().getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution())
        .singleElement().satisfies(t -> assertThat(t.getTopologyKey()).isEqualTo("kubernetes.io/hostname"));
    assertThat(pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution()).isEmpty();
    assertThat(pod.getNodeSelector()).isEqualTo(Map.of("disk", "ssd"));
    assertThat(pod.getTolerations()).singleElement().satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));
    assertThat(pod.getTopologySpreadConstraints()).isEmpty();
    assertThat(pod.getPriorityClassName()).isEqualTo("databases");

    // a node affinity of the user's own keeps the members' anti-affinity; a pod anti-affinity of theirs replaces it
    s.affinity = new AffinityBuilder().withNewNodeAffinity().withNewRequiredDuringSchedulingIgnoredDuringExecution()
        .addNewNodeSelectorTerm().addNewMatchExpression().withKey("pool").withOperator("In").withValues("db")
        .endMatchExpression().endNodeSelectorTerm().endRequiredDuringSchedulingIgnoredDuringExecution()
        .endNodeAffinity().build();
    pod = podSpec(s);
    assertThat(pod.getAffinity().getNodeAffinity()).isNotNull();
    assertThat(pod.getAffinity().getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()).hasSize(1);
    s.affinity = new AffinityBuilder().withNewPodAntiAffinity().endPodAntiAffinity().build();
    pod = podSpec(s);
    assertThat(pod.getAffinity().getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()).isEmpty();
    assertThat(pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution()).isEmpty();
  }

  static io.fabric8.kubernetes.api.model.Pod pod(String name, String node) {
    return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withNodeName(node).endSpec()
        .build();
  }

  static PostgresClusterStatus.Condition spread(List<io.fabric8.kubernetes.api.model.Pod> pods) {
    PostgresClusterStatus s = new PostgresClusterStatus();
    ClusterStatusModel.placement(s, pods, Instant.now());
    return s.conditions.stream().filter(c -> c.type.equals("MembersSpread")).findFirst().orElse(null);
  }

  @Test
  void statusSaysWhenMembersShareANodeOrCannotBeScheduled() {
    assertThat(spread(List.of(pod("orders-0", "n1"), pod("orders-1", "n2"), pod("orders-2", "n3"))))
        .satisfies(c -> assertThat(c.status + " " + c.reason + " " + c.message)
            .isEqualTo("True DistinctNodes 3 members on 3 nodes"));
    assertThat(spread(List.of(pod("orders-0", "n1"), pod("orders-1", "n2"), pod("orders-2", "n1"))))
        .satisfies(c -> {
          assertThat(c.status).isEqualTo("False");
          assertThat(c.reason).isEqualTo("SharedNode");
          assertThat(c.message).contains("orders-0, orders-2 on n1");
        });
    var pending = new PodBuilder().withNewMetadata().withName("orders-2").endMetadata().withNewSpec().endSpec()
        .withNewStatus().withPhase("Pending").addNewCondition().withType("PodScheduled").withStatus("False")
        .withReason("Unschedulable").withMessage("0/2 nodes are available: 2 node(s) didn't match pod anti-affinity "
            + "rules.").endCondition().endStatus().build();
    assertThat(spread(List.of(pod("orders-0", "n1"), pod("orders-1", "n2"), pending))).satisfies(c -> {
      assertThat(c.status).isEqualTo("False");
      assertThat(c.reason).isEqualTo("Unschedulable");
      assertThat(c.message).contains("orders-2: 0/2 nodes are available").contains("anti-affinity");
    });
    // nothing scheduled yet: nothing to say
    assertThat(spread(List.of())).isNull();
  }
}
