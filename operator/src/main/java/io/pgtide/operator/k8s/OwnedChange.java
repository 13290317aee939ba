package io.pgtide.operator.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import java.util.Objects;

/** Which changes to an owned object call for its cluster's reconcile, and which cluster owns it. Pure. */
final class OwnedChange {
  private OwnedChange() {
  }

  /**
   * A change of spec (a new generation; objects without one count every change), labels, annotations or owners.
   * Status-only updates (a StatefulSet counting ready pods) do not.
   */
  static boolean matters(HasMetadata old, HasMetadata now) {
    var a = old.getMetadata();
    var b = now.getMetadata();
    if (Objects.equals(a.getResourceVersion(), b.getResourceVersion())) {
      return false;
    }
    return b.getGeneration() == null || !Objects.equals(a.getGeneration(), b.getGeneration())
        || !Objects.equals(a.getLabels(), b.getLabels()) || !Objects.equals(a.getAnnotations(), b.getAnnotations())
        || !Objects.equals(a.getOwnerReferences(), b.getOwnerReferences());
  }

  /** The name of the PostgresCluster that controls {@code o}, null when none does. */
  static String ownerCluster(HasMetadata o) {
    if (o.getMetadata().getOwnerReferences() == null) {
      return null;
    }
    return o.getMetadata().getOwnerReferences().stream()
        .filter(r -> "PostgresCluster".equals(r.getKind()) && Boolean.TRUE.equals(r.getController()))
        .map(OwnerReference::getName).findFirst().orElse(null);
  }
}
