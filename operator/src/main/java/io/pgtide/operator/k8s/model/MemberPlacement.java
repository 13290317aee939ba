package io.pgtide.operator.k8s.model;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.PodAntiAffinity;
import io.fabric8.kubernetes.api.model.PodAntiAffinityBuilder;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PodAffinityTermBuilder;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraintBuilder;
import io.pgtide.common.crd.PostgresClusterSpec.SchedulingSpec;
import java.util.List;

/**
 * Where a cluster's members run. By default they prefer distinct nodes (losing one node then takes one member, not
 * the cluster) and distinct zones where nodes carry a zone label (a spread that is only scored, so nodes without the
 * label are not excluded). {@code spec.scheduling} replaces each part it names. Pure.
 */
public final class MemberPlacement {
  static final String HOSTNAME = "kubernetes.io/hostname";
  static final String ZONE = "topology.kubernetes.io/zone";

  private MemberPlacement() {
  }

  static LabelSelector members(String cluster) {
    return new LabelSelectorBuilder().withMatchLabels(MemberSelector.of(cluster).labels()).build();
  }

  /** The user's affinity with the members' anti-affinity added where the user gave none. */
  public static Affinity affinity(String cluster, SchedulingSpec s) {
    Affinity given = s == null ? null : s.affinity;
    AffinityBuilder b = given == null ? new AffinityBuilder() : new AffinityBuilder(given);
    if (given == null || given.getPodAntiAffinity() == null) {
      b.withPodAntiAffinity(antiAffinity(cluster, s != null && "required".equals(s.podAntiAffinityType)));
    }
    return b.build();
  }

  static PodAntiAffinity antiAffinity(String cluster, boolean required) {
    PodAffinityTerm term = new PodAffinityTermBuilder().withTopologyKey(HOSTNAME)
        .withLabelSelector(members(cluster)).build();
    return required
        ? new PodAntiAffinityBuilder().withRequiredDuringSchedulingIgnoredDuringExecution(term).build()
        : new PodAntiAffinityBuilder().addNewPreferredDuringSchedulingIgnoredDuringExecution()
            .withWeight(100).withPodAffinityTerm(term).endPreferredDuringSchedulingIgnoredDuringExecution().build();
  }

  /** The user's spread constraints, or one over zones that never keeps a member from being scheduled. */
  public static List<TopologySpreadConstraint> spread(String cluster, SchedulingSpec s) {
    if (s != null && s.topologySpreadConstraints != null) {
      return s.topologySpreadConstraints;
    }
    return List.of(new TopologySpreadConstraintBuilder().withMaxSkew(1).withTopologyKey(ZONE)
        .withWhenUnsatisfiable("ScheduleAnyway").withLabelSelector(members(cluster)).build());
  }
}
