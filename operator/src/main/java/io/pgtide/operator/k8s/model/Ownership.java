package io.pgtide.operator.k8s.model;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Whether an object that already exists under a name pgtide wants is this cluster's to write or delete. Pure.
 *
 * <p>An object is this cluster's when its controller owner reference names this PostgresCluster by uid (a name
 * match is not enough: a cluster deleted and created again under the same name is another owner). Objects pgtide
 * creates without an owner on purpose, because they must outlive the cluster (member data volumes, the backup
 * repository), are recognised by the labels pgtide gave them instead. Anything else is somebody else's and is never
 * written, taken over or deleted, unless a person marks it with {@value #ADOPT}{@code : "true"}.
 */
public final class Ownership {
  /** The annotation by which a person hands an existing object to the cluster that wants its name. */
  public static final String ADOPT = "pgtide.io/adopt";
  public static final String CONDITION = "Conflict";

  private Ownership() {
  }

  /**
   * A refusal to touch objects pgtide did not create: the reconcile stops and the cluster shows {@value #CONDITION}.
   * Its reason names the first object's kind ({@code ServiceAccountNotOwned}), its message every object.
   */
  public static final class NotOwned extends ReconcileErrors.Refused {
    public NotOwned(List<HasMetadata> objects) {
      super(objects.get(0).getKind() + "NotOwned", String.join("; ", objects.stream().map(Ownership::notOwned)
          .toList()) + " (pgtide takes over no object it did not create; delete or rename it, or annotate it "
          + ADOPT + "=true to hand it to this cluster)");
    }
  }

  /** {@code o}'s controller is the PostgresCluster with this uid. */
  public static boolean controlledBy(HasMetadata o, String uid) {
    List<OwnerReference> refs = o.getMetadata().getOwnerReferences();
    return uid != null && refs != null && refs.stream().anyMatch(r -> "PostgresCluster".equals(r.getKind())
        && Boolean.TRUE.equals(r.getController()) && uid.equals(r.getUid()));
  }

  /** A person marked {@code o} to be taken over by the cluster that wants its name. */
  public static boolean adoptable(HasMetadata o) {
    Map<String, String> a = o.getMetadata().getAnnotations();
    return a != null && "true".equals(a.get(ADOPT));
  }

  /**
   * Null when pgtide may write {@code current} as {@code desired}: it does not exist, it is this cluster's (the
   * controller reference {@code desired} carries, or for an object pgtide makes without owner, every label
   * {@code desired} carries), or it is marked for adoption. Otherwise what is wrong, naming kind and name.
   */
  public static String conflict(HasMetadata current, HasMetadata desired) {
    if (current == null || adoptable(current)) {
      return null;
    }
    // objects made with an owner must have it (by uid); those made without one must carry every label pgtide gave
    boolean ours = controller(desired) != null ? controlledBy(current, controller(desired).getUid())
        : carriesLabels(current, desired.getMetadata().getLabels());
    return ours ? null : notOwned(current);
  }

  /** "ServiceAccount default exists and is not owned by this cluster". */
  static String notOwned(HasMetadata o) {
    return o.getKind() + " " + o.getMetadata().getName() + " exists and is not owned by this cluster";
  }

  /**
   * A data volume of one of this cluster's members: the StatefulSet's claim name {@code pgdata-<cluster>-<ordinal>}
   * and pgtide's member labels for this cluster ({@link ClusterModel#labels}), which the claim template gives every
   * claim. Claims carry no owner reference (they are retained on scale-down and may outlive the cluster), so name
   * and labels are the proof. Zalando's claims share the name and {@code cluster-name} but not
   * {@code app.kubernetes.io/managed-by=pgtide}.
   */
  public static boolean memberVolume(HasMetadata claim, String cluster) {
    return memberVolumeName(claim.getMetadata().getName(), cluster)
        && carriesLabels(claim, ClusterModel.labels(cluster));
  }

  /** The name a member's claim of this cluster has: {@code pgdata-<cluster>-<ordinal>}. */
  public static boolean memberVolumeName(String claimName, String cluster) {
    return claimName != null && claimName.startsWith("pgdata-" + cluster + "-")
        && ORDINAL.matcher(claimName.substring(("pgdata-" + cluster + "-").length())).matches();
  }

  private static final Pattern ORDINAL = Pattern.compile("0|[1-9][0-9]*");

  private static OwnerReference controller(HasMetadata desired) {
    List<OwnerReference> refs = desired.getMetadata().getOwnerReferences();
    return refs == null ? null : refs.stream().filter(r -> Boolean.TRUE.equals(r.getController())).findFirst()
        .orElse(null);
  }

  private static boolean carriesLabels(HasMetadata o, Map<String, String> labels) {
    Map<String, String> have = o.getMetadata().getLabels();
    return labels != null && !labels.isEmpty() && have != null && have.entrySet().containsAll(labels.entrySet());
  }
}
