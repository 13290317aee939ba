package io.pgtide.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.Ownership;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code pgtide adopt-zalando} does to hand a stopped Zalando cluster's data to a PostgresCluster of the same
 * name, decided from the objects read: pure (no I/O), so every rule is tested on its own and the command only reads,
 * writes and prints. The plan is a refusal, or: Secrets to copy (the superuser's and the replication user's into the
 * names pgtide's members read, each user's into a Secret its {@code passwordSecret} names), claims to annotate
 * {@code pgtide.io/adopt}, the dead cluster's leftovers to delete (its Services, Patroni's Endpoints or ConfigMaps,
 * its PodDisruptionBudgets), and the PostgresCluster ({@link ZalandoConversion} of Zalando's resource).
 *
 * <p>Names and labels are Zalando's defaults (postgres-operator {@code pkg/cluster}): StatefulSet {@code <c>}, claims
 * {@code pgdata-<c>-<n>} (claim template {@code pgdata}), Services {@code <c>}, {@code <c>-repl}, {@code <c>-config},
 * Secrets {@code <user, _ as ->.<c>.credentials.postgresql.acid.zalan.do} (keys {@code username}, {@code password}),
 * labels {@code application=spilo}, {@code cluster-name=<c>}, {@code team=<teamId>}; superuser {@code postgres},
 * replication user {@code standby}. A Zalando configured with other names is refused, not guessed.
 */
final class ZalandoAdoption {
  static final String ZALANDO_SUFFIX = ".credentials.postgresql.acid.zalan.do";
  static final String COPIED_FROM = "pgtide.io/copied-from";
  static final String SUPERUSER = "postgres";
  static final String STANDBY = "standby";
  private static final Pattern CLAIM = Pattern.compile("^pgdata-(.+)-(\\d+)$");

  private ZalandoAdoption() {
  }

  /** Zalando's Secret of {@code user} in cluster {@code c} (its {@code credentialSecretName}, default template). */
  static String zalandoSecret(String user, String cluster) {
    return user.replace('_', '-') + "." + cluster + ZALANDO_SUFFIX;
  }

  /** The Secret a user's copied password goes to, which its {@code passwordSecret} names. */
  static String copiedSecret(String user, String cluster) {
    return user.replace('_', '-').toLowerCase(java.util.Locale.ROOT) + "." + cluster + ".from-zalando";
  }

  /** Everything read from the namespace. Lists hold whatever the API returned; nulls are absent objects. */
  record Found(String namespace, String cluster, JsonNode postgresql, String source, Integer postgresVersion,
               StatefulSet statefulSet, int zalandoPods, boolean postgresClusterExists, List<Secret> secrets,
               List<PersistentVolumeClaim> claims, List<HasMetadata> leftovers) {
  }

  /** A password to copy: the data of Secret {@code from} into {@code to}; {@code adopt} for pgtide's own names. */
  record SecretCopy(String user, String from, String to, boolean adopt) {
  }

  /**
   * The plan; {@code refusal} non-null means nothing is done ({@code usage}: the input was wrong, exit 2). The
   * cluster is null when a refusal came before the conversion.
   */
  record Plan(String refusal, boolean usage, List<String> notes, List<ZalandoConversion.Unconvertible> unconvertible,
              List<SecretCopy> secrets, List<String> claims, List<HasMetadata> delete, PostgresCluster cluster) {
    static Plan refused(String why, boolean usage) {
      return new Plan(why, usage, List.of(), List.of(), List.of(), List.of(), List.of(), null);
    }
  }

  static Plan plan(Found f) {
    String c = f.cluster();
    Plan refused = stillRunning(f);
    if (refused != null) {
      return refused;
    }
    List<PersistentVolumeClaim> claims = f.claims().stream()
        .filter(p -> ordinal(p.getMetadata().getName(), c) >= 0)
        .sorted(Comparator.comparingInt(p -> ordinal(p.getMetadata().getName(), c))).toList();
    if (claims.isEmpty()) {
      return Plan.refused("no data volume of " + f.namespace() + "/" + c + " (claims pgdata-" + c + "-<n>): nothing to"
          + " adopt", false);
    }
    List<String> notes = new ArrayList<>();
    JsonNode source = f.postgresql();
    if (source == null) {
      if (f.postgresVersion() == null) {
        return Plan.refused("Zalando's postgresql resource " + f.namespace() + "/" + c + " is gone and no -f FILE was"
            + " given: the PostgreSQL major of the data cannot be read from its leftovers; give --postgres-version"
            + " (or -f with the resource as it was)", true);
      }
      source = fromLeftovers(f, claims);
      notes.add("Zalando's resource is gone: the cluster is made from its leftovers (" + claims.size() + " claim(s),"
          + " the users from their Secrets, without role flags or databases)");
    }
    ZalandoConversion.Result converted;
    try {
      converted = ZalandoConversion.convert(List.of(source), false);
    } catch (ZalandoConversion.BadInput e) {
      return Plan.refused(e.getMessage(), true);
    }
    PostgresCluster cluster = (PostgresCluster) converted.objects().get(0);
    if (!c.equals(cluster.getMetadata().getName())) {
      return Plan.refused("the resource is named " + cluster.getMetadata().getName() + ", not " + c, true);
    }
    cluster.getMetadata().setNamespace(f.namespace());
    if (f.postgresVersion() != null && f.postgresVersion() != cluster.getSpec().postgresVersion) {
      return Plan.refused("--postgres-version " + f.postgresVersion() + " differs from the resource's "
          + cluster.getSpec().postgresVersion, true);
    }
    storage(cluster.getSpec(), claims, notes);
    if (claims.size() > cluster.getSpec().replicas) {
      notes.add(claims.size() + " claims for " + cluster.getSpec().replicas + " member(s): every claim is annotated;"
          + " those beyond the members are mounted when replicas grows");
    }

    List<SecretCopy> copies = new ArrayList<>();
    refused = copyPasswords(f, cluster, copies, notes);
    if (refused != null) {
      return refused;
    }

    List<String> annotate = claims.stream().filter(p -> !Ownership.memberVolume(p, c) && !Ownership.adoptable(p))
        .map(p -> p.getMetadata().getName()).toList();
    List<HasMetadata> delete = new ArrayList<>();
    if (f.postgresClusterExists()) {
      notes.add("PostgresCluster " + c + " exists already: it is left as it is, and so are the Endpoints and"
          + " ConfigMaps its Patroni may be using");
    } else {
      f.leftovers().stream().filter(o -> leftover(o, c)).forEach(delete::add);
    }
    return new Plan(null, false, notes, converted.unconvertible(), copies, annotate, delete,
        f.postgresClusterExists() ? null : cluster);
  }

  /** Why nothing may be adopted while Zalando's cluster (or the wrong last primary) is still there; or null. */
  private static Plan stillRunning(Found f) {
    String c = f.cluster();
    if (f.statefulSet() != null && !ownedByPostgresCluster(f.statefulSet())) {
      Integer replicas = f.statefulSet().getSpec() == null ? null : f.statefulSet().getSpec().getReplicas();
      return Plan.refused("Zalando's StatefulSet " + f.namespace() + "/" + c + " still exists (replicas: " + replicas
          + "); its pods would mount the same volumes as pgtide's. With Zalando's operator configured"
          + " enable_persistent_volume_claim_deletion: \"false\" and enable_secrets_deletion: \"false\", run"
          + " `kubectl -n " + f.namespace() + " delete postgresql " + c + "` (or, with Zalando's operator stopped,"
          + " `kubectl -n " + f.namespace() + " delete statefulset " + c + "`), wait until its pods are gone, then"
          + " run this again", false);
    }
    if (f.zalandoPods() > 0) {
      return Plan.refused(f.zalandoPods() + " pod(s) of Zalando's cluster " + f.namespace() + "/" + c + " (labels"
          + " application=spilo, cluster-name=" + c + ") still exist; wait until they are gone (`kubectl -n "
          + f.namespace() + " get pods -l cluster-name=" + c + "`), then run this again", false);
    }
    String last = lastPrimary(f.leftovers(), c);
    if (last != null && ordinal("pgdata-" + last, c) != 0) {
      return Plan.refused("Patroni's state of the dead cluster names " + last + " as its last primary: pgtide starts"
          + " member " + c + "-0 first, which would promote its older data on a timeline of the same number as "
          + last + "'s, and " + last + " could not follow it. Make " + c + "-0 the last primary: apply Zalando's"
          + " resource again, `kubectl -n " + f.namespace() + " exec " + c + "-0 -- patronictl switchover --candidate "
          + c + "-0 --force`, set numberOfInstances: 1 and wait until only " + c + "-0 runs, then delete the"
          + " resource and run this again", false);
    }
    return null;
  }

  /**
   * The Secret copies that keep every password (the superuser's, the replication user's, each login user's, whose
   * {@code passwordSecret} then names its copy); or the refusal when one cannot be copied safely.
   */
  private static Plan copyPasswords(Found f, PostgresCluster cluster, List<SecretCopy> copies, List<String> notes) {
    String c = f.cluster();
    for (String own : List.of(SUPERUSER, STANDBY)) {
      String to = own.equals(SUPERUSER) ? ClusterModel.superuserSecret(c) : ClusterModel.standbySecret(c);
      String why = secretProblem(f, own, zalandoSecret(own, c), to);
      if (why != null) {
        return Plan.refused(why, false);
      }
      copies.add(new SecretCopy(own, zalandoSecret(own, c), to, true));
    }
    for (PostgresClusterSpec.UserSpec u : cluster.getSpec().users) {
      if (!u.login || u.passwordSecret != null) {
        continue;
      }
      Secret z = secret(f, zalandoSecret(u.name, c));
      if (z == null) {
        notes.add("user " + u.name + " has no Zalando Secret " + zalandoSecret(u.name, c) + ": pgtide generates its"
            + " password");
        continue;
      }
      if (!u.name.equals(decoded(z, "username"))) {
        notes.add("Secret " + zalandoSecret(u.name, c) + " is another user's (" + decoded(z, "username") + "):"
            + " pgtide generates " + u.name + "'s password");
        continue;
      }
      String to = copiedSecret(u.name, c);
      String why = secretProblem(f, u.name, zalandoSecret(u.name, c), to);
      if (why != null) {
        return Plan.refused(why, false);
      }
      copies.add(new SecretCopy(u.name, zalandoSecret(u.name, c), to, false));
      u.passwordSecret = new PostgresClusterSpec.SecretKeyRef();
      u.passwordSecret.name = to;
      u.passwordSecret.key = "password";
    }
    return null;
  }

  /**
   * One of the dead cluster's objects under a name pgtide's cluster wants, or that its Patroni would read: Zalando's
   * Services, Patroni's Endpoints ({@code <c>}, {@code <c>-config}, {@code -leader}, {@code -sync},
   * {@code -failover}; Zalando's default DCS) or ConfigMaps (with {@code kubernetes_use_configmaps}, the names
   * pgtide's Patroni uses: a dead cluster's leader or config would be read as its own), and Zalando's
   * PodDisruptionBudgets ({@code postgres-<c>-pdb}, {@code postgres-<c>-critical-op-pdb}), whose selectors match
   * pgtide's pods. Only objects labelled {@code cluster-name=<c>} and not owned by a PostgresCluster.
   */
  static boolean leftover(HasMetadata o, String c) {
    Map<String, String> labels = o.getMetadata().getLabels();
    if (labels == null || !c.equals(labels.get("cluster-name")) || ownedByPostgresCluster(o)) {
      return false;
    }
    String n = o.getMetadata().getName();
    return switch (o.getKind()) {
      case "Service" -> List.of(c, c + "-repl", c + "-config").contains(n);
      case "Endpoints", "ConfigMap" -> List.of(c, c + "-config", c + "-leader", c + "-sync", c + "-failover",
          c + "-failsafe").contains(n);
      case "PodDisruptionBudget" -> List.of("postgres-" + c + "-pdb", "postgres-" + c + "-critical-op-pdb")
          .contains(n);
      default -> false;
    };
  }

  /**
   * The member the dead cluster's Patroni last knew as primary, from the objects it left (none when Zalando's
   * operator deleted them): the leader annotation of its leader object ({@code <c>} Endpoints, {@code <c>-leader}
   * ConfigMap), which Patroni clears on a clean stop, else the newest line of the timeline history on {@code <c>-config}
   * ({@code [timeline, lsn, reason, time, new leader]}, the member promoted last). Null when neither tells.
   */
  static String lastPrimary(List<HasMetadata> leftovers, String c) {
    String history = null;
    for (HasMetadata o : leftovers) {
      if (!leftover(o, c) || o.getMetadata().getAnnotations() == null) {
        continue;
      }
      Map<String, String> a = o.getMetadata().getAnnotations();
      String n = o.getMetadata().getName();
      boolean leaderObject = ("Endpoints".equals(o.getKind()) && n.equals(c))
          || ("ConfigMap".equals(o.getKind()) && n.equals(c + "-leader"));
      if (leaderObject && a.get("leader") != null && !a.get("leader").isBlank()) {
        return a.get("leader");
      }
      if (n.equals(c + "-config") && a.get("history") != null) {
        history = a.get("history");
      }
    }
    if (history == null) {
      return null;
    }
    try {
      JsonNode lines = io.fabric8.kubernetes.client.utils.Serialization.jsonMapper().readTree(history);
      JsonNode newest = lines.isArray() && !lines.isEmpty() ? lines.get(lines.size() - 1) : null;
      return newest != null && newest.size() >= 5 && newest.get(4).isTextual() ? newest.get(4).asText() : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  static boolean ownedByPostgresCluster(HasMetadata o) {
    List<OwnerReference> refs = o.getMetadata().getOwnerReferences();
    return refs != null && refs.stream().anyMatch(r -> "PostgresCluster".equals(r.getKind()));
  }

  /** The ordinal of claim {@code name} of cluster {@code c} ({@code pgdata-<c>-<n>}), or -1. */
  static int ordinal(String name, String c) {
    Matcher m = CLAIM.matcher(name);
    return m.matches() && m.group(1).equals(c) && m.group(2).length() < 4 ? Integer.parseInt(m.group(2)) : -1;
  }

  /**
   * Null when the password of {@code user} can go from {@code from} to {@code to}: {@code from} exists with that
   * username and a password, and {@code to} is absent or already holds the same password (a second run).
   */
  private static String secretProblem(Found f, String user, String from, String to) {
    Secret z = secret(f, from);
    Secret target = secret(f, to);
    if (z == null) {
      if (target != null && decoded(target, "password") != null) {
        return null; // copied by an earlier run, and Zalando's deleted since
      }
      return "no Secret " + f.namespace() + "/" + from + ": " + user + "'s password is lost (Zalando's"
          + " enable_secrets_deletion, or an owner reference to the deleted resource). pgtide's members log in as "
          + SUPERUSER + " and " + STANDBY + "; a Zalando configured with other super_username or"
          + " replication_username cannot be adopted";
    }
    String password = decoded(z, "password");
    if (!user.equals(decoded(z, "username")) || password == null || password.isEmpty()) {
      return "Secret " + f.namespace() + "/" + from + " does not hold username " + user + " and a password";
    }
    if (target != null && !password.equals(decoded(target, "password"))) {
      return "Secret " + f.namespace() + "/" + to + " exists with another password; it is not overwritten (delete"
          + " it if it is not in use, then run this again)";
    }
    return null;
  }

  static Secret secret(Found f, String name) {
    return f.secrets().stream().filter(s -> name.equals(s.getMetadata().getName())).findFirst().orElse(null);
  }

  static String decoded(Secret s, String key) {
    if (s.getData() != null && s.getData().get(key) != null) {
      return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }
    return s.getStringData() == null ? null : s.getStringData().get(key);
  }

  /** A Secret holding exactly {@code from}'s data, under pgtide's name, for the plan's copy. */
  static Secret copy(SecretCopy copy, Secret from, String namespace) {
    Map<String, String> data = new java.util.TreeMap<>();
    String user = decoded(from, "username");
    String password = decoded(from, "password");
    Base64.Encoder b64 = Base64.getEncoder();
    data.put("username", b64.encodeToString(Objects.requireNonNull(user).getBytes(StandardCharsets.UTF_8)));
    data.put("password", b64.encodeToString(Objects.requireNonNull(password).getBytes(StandardCharsets.UTF_8)));
    var meta = new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(copy.to()).withNamespace(namespace)
        .addToAnnotations(COPIED_FROM, copy.from());
    if (copy.adopt()) {
      meta.addToAnnotations(Ownership.ADOPT, "true");
    }
    return new io.fabric8.kubernetes.api.model.SecretBuilder().withMetadata(meta.build()).withType("Opaque")
        .withData(data).build();
  }

  /**
   * {@code storage}: the claims' class, and a size no smaller than the largest claim (pgtide never shrinks a volume
   * and would report a smaller size as a failure).
   */
  private static void storage(PostgresClusterSpec s, List<PersistentVolumeClaim> claims, List<String> notes) {
    Quantity largest = null;
    for (PersistentVolumeClaim p : claims) {
      Quantity q = p.getSpec() == null || p.getSpec().getResources() == null
          || p.getSpec().getResources().getRequests() == null ? null
          : p.getSpec().getResources().getRequests().get("storage");
      if (q != null && (largest == null || bytes(q).compareTo(bytes(largest)) > 0)) {
        largest = q;
      }
    }
    if (largest != null && bytes(largest).compareTo(bytes(new Quantity(s.storage.size))) > 0) {
      notes.add("storage.size " + s.storage.size + " is smaller than claim data of " + largest + ": set to "
          + largest);
      s.storage.size = largest.toString();
    }
    String cls = claims.get(0).getSpec() == null ? null : claims.get(0).getSpec().getStorageClassName();
    if (s.storage.storageClass == null && cls != null) {
      s.storage.storageClass = cls;
    }
  }

  private static BigDecimal bytes(Quantity q) {
    return Quantity.getAmountInBytes(q);
  }

  /**
   * A {@code postgresql} resource as Zalando's leftovers describe it: team from the claims' {@code team} label,
   * members as many as claims, volume from the first claim, each user with a Zalando Secret (but the superuser and
   * the replication user) as a plain login user.
   */
  static JsonNode fromLeftovers(Found f, List<PersistentVolumeClaim> claims) {
    JsonNodeFactory j = JsonNodeFactory.instance;
    ObjectNode doc = j.objectNode().put("apiVersion", ZalandoConversion.API_VERSION).put("kind", ZalandoConversion.KIND);
    doc.putObject("metadata").put("name", f.cluster()).put("namespace", f.namespace());
    ObjectNode spec = doc.putObject("spec");
    Map<String, String> labels = claims.get(0).getMetadata().getLabels();
    String team = labels == null ? null : labels.get("team");
    spec.put("teamId", team == null || team.isBlank() ? f.cluster() : team);
    spec.put("numberOfInstances", claims.size());
    ObjectNode volume = spec.putObject("volume");
    Quantity size = claims.get(0).getSpec().getResources().getRequests().get("storage");
    volume.put("size", size == null ? "1Gi" : size.toString());
    spec.putObject("postgresql").put("version", String.valueOf(f.postgresVersion()));
    ObjectNode users = j.objectNode();
    f.secrets().stream().filter(s -> s.getMetadata().getName().endsWith("." + f.cluster() + ZALANDO_SUFFIX))
        .sorted(Comparator.comparing(s -> s.getMetadata().getName()))
        .map(s -> decoded(s, "username")).filter(Objects::nonNull)
        .filter(u -> !u.equals(SUPERUSER) && !u.equals(STANDBY)).forEach(u -> users.putArray(u));
    if (!users.isEmpty()) {
      spec.set("users", users);
    }
    return doc;
  }
}
