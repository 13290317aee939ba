package io.pgtide.operator.k8s.model;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder;
import io.pgtide.common.cluster.ClusterKey;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec.S3Spec;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Standby clusters (spec.standby), the pure part: what a standby's pods are told (Spilo's own contract, the
 * {@code STANDBY_*} variables it turns into Patroni's {@code bootstrap.dcs.standby_cluster}), the replication slot
 * each standby streams through on its source, what the source's NetworkPolicy admits for it, its lag, and when a
 * promotion is decided and carried out. No I/O.
 */
public final class StandbyModel {
  public static final int PORT = 5432;
  /** PostgreSQL's NAMEDATALEN - 1: a longer slot name is refused. */
  static final int SLOT_NAME_MAX = 63;
  /** The condition a standby cluster carries: True while it follows, False once promoted. */
  public static final String CONDITION = "Standby";
  /** How every standby's slot name starts: what marks a slot on a source as one pgtide keeps for a standby. */
  public static final String SLOT_PREFIX = "pgtide_standby_";

  private StandbyModel() {
  }

  /**
   * An existing StatefulSet made without the standby variables, for a spec that now declares spec.standby: refused
   * (null when fine). Spilo reads them at bootstrap only, so a running cluster would not become a standby, and its
   * data and passwords are its own, not the source's.
   */
  public static String addedLater(PostgresCluster cr, io.fabric8.kubernetes.api.model.apps.StatefulSet current) {
    if (cr.getSpec().standby == null || current == null || current.getSpec() == null
        || current.getSpec().getTemplate() == null || current.getSpec().getTemplate().getSpec() == null) {
      return null;
    }
    boolean made = current.getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> "postgres".equals(c.getName()) && c.getEnv() != null).flatMap(c -> c.getEnv().stream())
        .anyMatch(e -> "STANDBY_HOST".equals(e.getName()) || S3_ENV.equals(e.getName()));
    return made ? null : "standby is set when a cluster is created, not added to a running one (its data and "
        + "passwords are its own); create a new cluster with standby.source " + cr.getSpec().standby.source;
  }

  /**
   * The cluster whose passwords a new cluster's Secrets take, or null (they are generated): a restore's source (its
   * roles came with the data), a standby's source (its data is a copy of the source's, roles and passwords
   * included, and it streams as the source's replication user). {@code reason}: the condition reason a missing or
   * unreadable source Secret is refused under.
   */
  public record CredentialSource(String namespace, String cluster, String reason) {
  }

  public static CredentialSource credentialSource(PostgresCluster cr) {
    var recovery = cr.getSpec().bootstrap == null ? null : cr.getSpec().bootstrap.recovery;
    if (recovery != null) {
      // restored from S3: the source (of another namespace, or gone) has no Secrets here to copy
      return recovery.s3 != null ? null
          : new CredentialSource(cr.getMetadata().getNamespace(), recovery.source, "RecoverySourceInvalid");
    }
    Source source = cr.getSpec().standby == null ? null : origin(cr);
    return source == null ? null : new CredentialSource(source.namespace(), source.name(), "StandbySourceInvalid");
  }

  /**
   * The cluster a standby follows or followed: namespace and name, and for one that follows the source's S3 copy
   * rather than its stream, that copy ({@code s3} with its prefix resolved; null for a streaming standby).
   */
  public record Source(String namespace, String name, S3Spec s3) {
    public Source(String namespace, String name) {
      this(namespace, name, null);
    }

    public String key() {
      return ClusterKey.text(namespace, name);
    }

    public boolean fromS3() {
      return s3 != null;
    }
  }

  /**
   * What {@code cr} follows: spec.standby, or after spec.standby was removed the source status.standby recorded
   * (so the pods' bootstrap-only variables stay as they were and removing the field does not roll the pods). Null
   * for a cluster that never was a standby.
   */
  public static Source origin(PostgresCluster cr) {
    var spec = cr.getSpec() == null ? null : cr.getSpec().standby;
    if (spec != null && spec.source != null) {
      String ns = spec.sourceNamespace == null || spec.sourceNamespace.isBlank()
          ? cr.getMetadata().getNamespace() : spec.sourceNamespace;
      return new Source(ns, spec.source, spec.s3 == null ? null : resolved(spec.s3, ns + "/" + spec.source));
    }
    var status = cr.getStatus() == null ? null : cr.getStatus().standby;
    if (status != null && status.source != null && status.source.contains("/")) {
      ClusterKey key = ClusterKey.parse(status.source);
      return new Source(key.namespace(), key.name(), status.s3);
    }
    return null;
  }

  /** A copy of {@code s3} with its prefix given ({@code defaultPrefix} when it names none). */
  static S3Spec resolved(S3Spec s3, String defaultPrefix) {
    S3Spec r = new S3Spec();
    r.endpoint = s3.endpoint;
    r.bucket = s3.bucket;
    r.prefix = s3.prefix == null || s3.prefix.isBlank() ? defaultPrefix : s3.prefix;
    r.credentialsSecret = s3.credentialsSecret;
    r.region = s3.region;
    return r;
  }

  /** The cluster follows its source now: spec.standby given and no promotion decided. */
  public static boolean following(PostgresCluster cr) {
    return cr.getSpec() != null && cr.getSpec().standby != null && !promoted(cr);
  }

  public static boolean promoted(PostgresCluster cr) {
    return cr.getStatus() != null && cr.getStatus().standby != null && cr.getStatus().standby.promoted;
  }

  /** The source's primary Service, by the name its server certificate carries. */
  public static String host(Source source) {
    return ServerCertificates.commonName(source.namespace(), source.name());
  }

  /**
   * The slot on the source that the standby {@code namespace/name} streams through: {@code
   * pgtide_standby_<ns>_<name>} in [a-z0-9_] (a '-' becomes '_'), at most 63 bytes; a longer one is cut and ends
   * in a hash of the whole so two long names never share a slot.
   */
  public static String slotName(String namespace, String name) {
    String raw = SLOT_PREFIX + namespace + "_" + name;
    String clean = raw.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (clean.length() <= SLOT_NAME_MAX) {
      return clean;
    }
    String hash = Integer.toHexString(raw.hashCode() & 0x7fffffff);
    return clean.substring(0, SLOT_NAME_MAX - hash.length() - 1) + "_" + hash;
  }

  public static String slotName(PostgresCluster standby) {
    return slotName(standby.getMetadata().getNamespace(), standby.getMetadata().getName());
  }

  /**
   * Spilo's standby contract for the Spilo container: empty for a cluster that never was a standby. These matter
   * at bootstrap only (Spilo writes them into {@code bootstrap.dcs.standby_cluster}, which Patroni reads when it
   * first initialises the cluster's DCS); promotion removes {@code standby_cluster} from the dynamic configuration,
   * not from here. They are kept after promotion, from status.standby, on purpose: a changed pod template would roll
   * every member of a cluster that just became the primary one, for nothing.
   */
  public static List<EnvVar> env(PostgresCluster cr) {
    Source source = origin(cr);
    if (source == null) {
      return List.of();
    }
    if (source.fromS3()) {
      // no stream: Spilo gets no STANDBY_* (it would write a host); this marks the pods as a standby's for addedLater
      return List.of(new EnvVarBuilder().withName(S3_ENV).withValue(location(source.s3())).build());
    }
    return List.of(new EnvVarBuilder().withName("STANDBY_HOST").withValue(host(source)).build(),
        new EnvVarBuilder().withName("STANDBY_PORT").withValue(Integer.toString(PORT)).build(),
        new EnvVarBuilder().withName("STANDBY_PRIMARY_SLOT_NAME").withValue(slotName(cr)).build());
  }

  /** What marks a standby of an S3 copy's pods (no STANDBY_HOST): the copy's location, for people reading the pod. */
  static final String S3_ENV = "PGTIDE_STANDBY_S3";

  /** Where a standby's Spilo container finds what fetching its source's archived WAL takes (its Secret, below). */
  public static final String ARCHIVE_DIR = "/etc/pgtide/standby-archive";
  /** The header file curl sends: the source agent's WAL token, never on a command line or in Patroni's config. */
  static final String ARCHIVE_AUTHORIZATION = "authorization";
  static final String ARCHIVE_CA = "ca.crt";
  /** A standby of an S3 copy: curl's configuration with the copy's keys and how requests are signed. */
  static final String ARCHIVE_CURLRC = "curlrc";

  /**
   * The Secret in the standby's namespace holding the source's WAL token (as a curl header file) and the CA its
   * backup agent's certificate comes from: {@code <standby>-standby-archive}. Present only while the source declares
   * backups; its volume is optional, so a standby of a source without backups starts all the same.
   */
  public static String archiveSecret(String standby) {
    return standby + "-standby-archive";
  }

  public static io.fabric8.kubernetes.api.model.Secret archiveSecret(PostgresCluster standby, String walToken,
                                                                     String caPem) {
    return new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withMetadata(ClusterModel.meta(standby, archiveSecret(standby.getMetadata().getName())))
        .withType("Opaque").addToStringData(ARCHIVE_AUTHORIZATION, "Authorization: Bearer " + walToken + "\n")
        .addToStringData(ARCHIVE_CA, caPem).build();
  }

  /**
   * The standby leader's {@code restore_command} (Patroni's {@code standby_cluster.restore_command}): one archived WAL
   * file from the source's backup agent, over TLS verified against the operator's CA for the agent Service's name,
   * with the WAL token from the mounted Secret. PostgreSQL calls it when its stream cannot give what it needs (cut for
   * longer than the source keeps WAL, or the source's slot lost): a standby then catches up from the archive and
   * streams again. Any failure (nothing archived under that name: 404; no agent; no Secret mounted) exits below 126,
   * which PostgreSQL reads as "not in the archive" and goes back to streaming. Curl is in Spilo's image.
   */
  public static String restoreCommand(Source source) {
    if (source.fromS3()) {
      return s3RestoreCommand(source.s3());
    }
    return "curl --silent --show-error --fail --connect-timeout 5 --max-time 300 --cacert " + ARCHIVE_DIR + "/"
        + ARCHIVE_CA + " --header @" + ARCHIVE_DIR + "/" + ARCHIVE_AUTHORIZATION + " --output %p https://"
        + BackupAgentModel.host(source.namespace(), source.name()) + ":" + BackupAgentModel.TLS_PORT + "/wal/%f";
  }

  /**
   * A standby of an S3 copy: one WAL file from the copy, where Barman files it ({@code wals/<first 16 hex digits>/}
   * for a segment, {@code wals/} for a timeline history) and the agent's rclone copies it, over the S3 API with
   * path-style addressing (rclone's for an S3-compatible endpoint) and SigV4 signing by curl. The keys are in the
   * mounted curl configuration ({@link #s3ArchiveSecret}), never on a command line or in Patroni's configuration.
   * A file not copied yet answers 404: curl exits 22 and PostgreSQL tries again a few seconds later.
   */
  static String s3RestoreCommand(S3Spec s3) {
    String base = s3.endpoint.replaceAll("/+$", "") + "/" + s3.bucket + "/" + s3.prefix.replaceAll("^/+|/+$", "")
        + "/wals/";
    return "f=%f; case $f in *.history) d=;; *) d=$(echo $f | cut -c1-16)/;; esac; "
        + "exec curl --silent --show-error --fail --connect-timeout 5 --max-time 300 --config " + ARCHIVE_DIR + "/"
        + ARCHIVE_CURLRC + " --output %p \"" + base + "$d$f\"";
  }

  /** Where a standby follows an S3 copy: {@code endpoint/bucket/prefix}. */
  static String location(S3Spec s3) {
    return s3.endpoint.replaceAll("/+$", "") + "/" + s3.bucket + "/" + s3.prefix;
  }

  /**
   * The Secret a standby of an S3 copy mounts at {@link #ARCHIVE_DIR}: curl's configuration with the copy's keys
   * (from spec.standby.s3.credentialsSecret) and SigV4 signing for the copy's region. Quoted as curl's configuration
   * format wants: a backslash and a double quote escaped.
   */
  public static io.fabric8.kubernetes.api.model.Secret s3ArchiveSecret(PostgresCluster standby, S3Spec s3,
                                                                        String accessKeyId, String secretAccessKey) {
    String curlrc = "user = \"" + curlQuoted(accessKeyId) + ":" + curlQuoted(secretAccessKey) + "\"\n"
        + "aws-sigv4 = \"aws:amz:" + curlQuoted(s3.region == null ? "us-east-1" : s3.region) + ":s3\"\n";
    return new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withMetadata(ClusterModel.meta(standby, archiveSecret(standby.getMetadata().getName())))
        .withType("Opaque").addToStringData(ARCHIVE_CURLRC, curlrc).build();
  }

  static String curlQuoted(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** The optional Secret volume with the archive's token and CA, for a cluster that is or was a standby. */
  static List<io.fabric8.kubernetes.api.model.Volume> archiveVolumes(PostgresCluster cr) {
    return origin(cr) == null ? List.of() : List.of(new io.fabric8.kubernetes.api.model.VolumeBuilder()
        .withName("standby-archive").withNewSecret().withSecretName(archiveSecret(cr.getMetadata().getName()))
        .withOptional(true).withDefaultMode(0440).endSecret().build());
  }

  static List<io.fabric8.kubernetes.api.model.VolumeMount> archiveMounts(PostgresCluster cr) {
    return origin(cr) == null ? List.of() : List.of(new io.fabric8.kubernetes.api.model.VolumeMountBuilder()
        .withName("standby-archive").withMountPath(ARCHIVE_DIR).withReadOnly(true).build());
  }

  /**
   * The source backup agent's NetworkPolicy rules for its standbys: each standby's members on the agent's TLS port,
   * where their restore_command fetches WAL.
   */
  public static List<NetworkPolicyIngressRule> archiveIngress(List<PostgresCluster> standbys) {
    return membersOn(standbys, BackupAgentModel.TLS_PORT);
  }

  /** The standbys of {@code source} among {@code clusters}: those whose spec.standby names it and still follow. */
  public static List<PostgresCluster> standbysOf(String namespace, String name, List<PostgresCluster> clusters) {
    List<PostgresCluster> out = new ArrayList<>();
    for (PostgresCluster c : clusters) {
      Source s = c.getSpec() == null || c.getSpec().standby == null ? null : origin(c);
      // a standby of the source's S3 copy never reaches the source: no slot kept for it, no rule admitting it
      if (s != null && !s.fromS3() && s.namespace().equals(namespace) && s.name().equals(name) && !promoted(c)
          && c.getMetadata().getDeletionTimestamp() == null) {
        out.add(c);
      }
    }
    out.sort(Comparator.comparing((PostgresCluster c) -> c.getMetadata().getNamespace())
        .thenComparing(c -> c.getMetadata().getName()));
    return out;
  }

  /** The slots the source keeps for its standbys, sorted. */
  public static List<String> slots(List<PostgresCluster> standbys) {
    return standbys.stream().map(StandbyModel::slotName).sorted().distinct().toList();
  }

  /**
   * The source's NetworkPolicy rules for its standbys: each standby's pods (its namespace by name, its members by
   * their cluster label) on 5432. Today the cluster policy's first rule admits anyone on 5432, so these add nothing
   * to what passes; they say who must, and keep the standbys in when that rule is narrowed.
   */
  public static List<NetworkPolicyIngressRule> ingress(List<PostgresCluster> standbys) {
    return membersOn(standbys, PORT);
  }

  /** A rule per standby admitting its members (its namespace by name, its cluster label) on {@code port}. */
  private static List<NetworkPolicyIngressRule> membersOn(List<PostgresCluster> standbys, int port) {
    List<NetworkPolicyIngressRule> rules = new ArrayList<>();
    for (PostgresCluster s : standbys) {
      rules.add(new NetworkPolicyIngressRuleBuilder()
          .addNewFrom().withNewNamespaceSelector()
          .withMatchLabels(ClusterModel.sorted("kubernetes.io/metadata.name", s.getMetadata().getNamespace()))
          .endNamespaceSelector()
          .withNewPodSelector().withMatchLabels(MemberSelector.of(s.getMetadata().getName()).labels())
          .endPodSelector().endFrom()
          .addNewPort().withProtocol("TCP").withPort(new IntOrString(port)).endPort().build());
    }
    return rules;
  }

  /**
   * Bytes the standby is behind its source: the source primary's current WAL position minus what the standby
   * leader replayed (received when it reports no replay). Null when either is unknown; never negative (the two
   * reports are taken at different moments).
   */
  public static Long lagBytes(Long sourceCurrentLsn, Long standbyReplayedLsn, Long standbyReceivedLsn) {
    Long standby = standbyReplayedLsn != null ? standbyReplayedLsn : standbyReceivedLsn;
    if (sourceCurrentLsn == null || standby == null) {
      return null;
    }
    return Math.max(0L, sourceCurrentLsn - standby);
  }

  /**
   * status.standby from the two clusters' views: the source primary's report and this cluster's leader's (the
   * member Patroni calls standby_leader; pgtide's view calls it primary). {@code previous} carries the promotion.
   */
  public static PostgresClusterStatus.Standby status(Source source, ClusterView sourceView, ClusterView view,
                                                     PostgresClusterStatus.Standby previous) {
    PostgresClusterStatus.Standby s = new PostgresClusterStatus.Standby();
    s.source = source.key();
    s.s3 = source.s3();
    if (previous != null) {
      s.promoted = previous.promoted;
      s.promotedAt = previous.promotedAt;
    }
    var leader = view == null ? null : view.primary().map(MemberView::report).orElse(null);
    var sourcePrimary = sourceView == null ? null : sourceView.primary().map(MemberView::report).orElse(null);
    if (s.promoted || leader == null) {
      return s; // a promoted cluster follows nothing: no lag to show
    }
    s.streaming = "streaming".equalsIgnoreCase(leader.walReceiverStatus());
    s.lagBytes = sourcePrimary == null ? null
        : lagBytes(sourcePrimary.currentLsn(), leader.replayedLsn(), leader.receivedLsn());
    return s;
  }

  /** What the promotion of a standby needs next. */
  public enum PromotionStep {
    /** Nothing now: not a standby, following with nobody asking, or promoted while no leader reports. */
    NONE,
    /** Decided (a request, or spec.standby removed) but not recorded: write status.standby.promoted first. */
    RECORD,
    /**
     * Recorded, and the leader is still a standby leader (or a promote request is answered while no leader reports):
     * remove standby_cluster from Patroni's configuration.
     */
    REMOVE_STANDBY_CONFIG,
    /** Recorded, and the leader is a primary: done. */
    DONE
  }

  /**
   * The next promotion step. {@code specStandby}: spec.standby is given; {@code recorded}: status.standby as
   * written (null: never a standby); {@code asked}: a promote request is being answered; {@code leaderPatroniRole}:
   * the leader's role as Patroni names it (standby_leader while following), null while no leader reports.
   */
  public static PromotionStep promotion(boolean specStandby, PostgresClusterStatus.Standby recorded, boolean asked,
                                        String leaderPatroniRole) {
    if (!specStandby && recorded == null) {
      // spec.standby removed before any status recorded it: a leader still following is promoted all the same
      return "standby_leader".equals(leaderPatroniRole) ? PromotionStep.RECORD : PromotionStep.NONE;
    }
    if (recorded == null || !recorded.promoted) {
      return asked || !specStandby ? PromotionStep.RECORD : PromotionStep.NONE;
    }
    if ("standby_leader".equals(leaderPatroniRole) || (leaderPatroniRole == null && asked)) {
      return PromotionStep.REMOVE_STANDBY_CONFIG; // asked with no leader reporting: fails saying so
    }
    return leaderPatroniRole == null ? PromotionStep.NONE : PromotionStep.DONE; // none reports: wait for one
  }

  /** The promoted record: what status.standby holds once the promotion is decided. */
  public static PostgresClusterStatus.Standby promotedRecord(Source source, PostgresClusterStatus.Standby previous,
                                                             java.time.Instant now) {
    PostgresClusterStatus.Standby s = new PostgresClusterStatus.Standby();
    s.source = source != null ? source.key() : previous != null ? previous.source : null;
    s.s3 = source != null ? source.s3() : previous != null ? previous.s3 : null;
    s.promoted = true;
    s.promotedAt = previous != null && previous.promotedAt != null ? previous.promotedAt : now.toString();
    return s;
  }

  /** The {@code Standby} condition: following, promoting, promoted (and what to do with a spec.standby left). */
  public static void condition(PostgresClusterStatus s, boolean specStandby, String leaderPatroniRole,
                               java.time.Instant now) {
    PostgresClusterStatus.Standby st = s.standby;
    if (st == null) {
      return;
    }
    if (!st.promoted) {
      ClusterStatusModel.condition(s, CONDITION, "True", "Following", "follows " + st.source
          + (st.s3 != null ? " from its S3 copy " + location(st.s3) : Boolean.TRUE.equals(st.streaming)
              ? ", streaming" : ", not streaming") + "; read-only, users not synced"
          + " (roles come from the source)", now);
    } else if ("standby_leader".equals(leaderPatroniRole)) {
      ClusterStatusModel.condition(s, CONDITION, "False", "Promoting", "promotion of the standby of " + st.source
          + " decided at " + st.promotedAt + "; removing standby_cluster from Patroni's configuration", now);
    } else {
      ClusterStatusModel.condition(s, CONDITION, "False", "Promoted", "promoted at " + st.promotedAt
          + (specStandby ? "; remove spec.standby from the spec (it no longer makes this cluster a standby)" : ""),
          now);
    }
  }
}
