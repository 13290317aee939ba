package io.pgtide.common.crd;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The desired state of a cluster (DESIGN.md section 3). The operator never writes it. */
public class PostgresClusterSpec {
  /** A volume size as a Kubernetes quantity the operator can compare: digits, then a binary or decimal suffix. */
  public static final String SIZE_PATTERN = "^[0-9]+(\\.[0-9]+)?([KMGTPE]i|[kMGTPE])?$";

  @Min(13)
  @Max(17)
  @Default("17")
  public int postgresVersion = 17;
  @Required
  @Min(1)
  @Max(32)
  @SpecReplicas
  public int replicas = 1;
  public String image;
  /** Secrets (in the cluster's namespace) with registry credentials for the image. */
  public List<String> imagePullSecrets = new ArrayList<>();
  public Map<String, Map<String, String>> resources = new LinkedHashMap<>();
  public StorageSpec storage = new StorageSpec();
  public Map<String, String> parameters = new LinkedHashMap<>();
  public PatroniSpec patroni = new PatroniSpec();
  public AutoscalingSpec autoscaling = new AutoscalingSpec();
  public List<UserSpec> users = new ArrayList<>();
  public List<DatabaseSpec> databases = new ArrayList<>();
  public MonitoringSpec monitoring = new MonitoringSpec();
  /** Continuous WAL archiving and scheduled base backups; none when absent. */
  public BackupSpec backup;
  /** How a new cluster gets its data: empty (initdb) unless {@code recovery} names a source to restore. */
  public BootstrapSpec bootstrap;
  /**
   * Where members run. Without it members prefer distinct nodes (pod anti-affinity on the hostname) and, where nodes
   * carry a zone label, distinct zones; each part given here replaces its default.
   */
  public SchedulingSpec scheduling;
  /**
   * PostgreSQL's server certificate. Absent: pgtide issues one from the cluster's own CA and renews it. Given: the
   * named Secret (cert-manager's, say) is mounted as it is and followed through its renewals; pgtide never writes it.
   */
  public TlsSpec tls;
  /** PgBouncer in front of the primary (and, with {@code replicas}, the replicas); none when absent. */
  public PoolerSpec pooler;
  /**
   * A standby cluster: it follows another pgtide cluster (streaming from its primary Service through a replication
   * slot on it) and takes no writes until promoted ({@code kubectl pgtide promote}, or removing this field).
   */
  public StandbySpec standby;
  /** How long the operator waits before fencing a zombie primary (seconds). */
  @Min(1)
  @Default("15")
  public int failoverDelaySeconds = 15;

  /**
   * PgBouncer (Debian's package) in front of the cluster. Clients log in with their own passwords: PgBouncer looks
   * each one up through {@code auth_query} as the role {@code pgtide_pooler}, which pgtide manages.
   */
  @ValidationRule(value = "self.defaultPoolSize < self.maxClientConnections",
      message = "pooler.defaultPoolSize must be below pooler.maxClientConnections")
  public static class PoolerSpec {
    /** PgBouncer processes (Kubernetes: pods); local mode runs one. */
    @Min(1)
    @Max(32)
    @Default("2")
    public int instances = 2;
    /** {@code transaction}: a server connection per transaction; {@code session}: per client session. */
    @Pattern("^(transaction|session)$")
    @Default("transaction")
    public String poolMode = "transaction";
    /** Server connections per user and database. */
    @Min(1)
    @Default("20")
    public int defaultPoolSize = 20;
    /** Client connections one PgBouncer accepts. */
    @Min(1)
    @Default("1000")
    public int maxClientConnections = 1000;
    /** A second pooler in front of the replicas. */
    public boolean replicas;
    /** The pooler's own requests and limits, shaped like the cluster's {@code resources}. */
    public Map<String, Map<String, String>> resources = new LinkedHashMap<>();
  }

  public static class BackupSpec {
    /** When base backups are taken: five-field cron in UTC, or @hourly/@daily/@weekly/@monthly. */
    @Required
    @Default("0 3 * * *")
    public String schedule = "0 3 * * *";
    public RetentionSpec retention = new RetentionSpec();
    /**
     * When the newest backup is restored into a scratch instance and checked (five-field cron in UTC, or a macro);
     * "never" turns verification off.
     */
    @Default("\"@daily\"")
    public String verifySchedule = "@daily";
    /** Kubernetes: the size of the backup agent's volume (the repository: base backups and WAL). */
    @Pattern(SIZE_PATTERN)
    @Default("10Gi")
    public String storage = "10Gi";
    /** Kubernetes: a copy of the repository in S3-compatible object storage, kept in step by the backup agent. */
    public S3Spec s3;
  }

  /** Where the backup agent copies the repository (base backups and WAL, as Barman keeps them). */
  public static class S3Spec {
    /** The S3 API's URL, e.g. https://s3.eu-central-1.amazonaws.com or http://minio.storage.svc:9000. */
    @Required
    @Pattern("^https?://.+")
    public String endpoint;
    @Required
    @Pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    public String bucket;
    /** A path inside the bucket; default {@code <namespace>/<cluster>}. */
    public String prefix;
    /** A Secret of the cluster's namespace with the keys accessKeyId and secretAccessKey. */
    @Required
    public String credentialsSecret;
    @Default("us-east-1")
    public String region = "us-east-1";
  }

  /** Keep at least {@code count} base backups, and (when set) everything needed to recover within {@code window}. */
  public static class RetentionSpec {
    @Min(1)
    @Default("7")
    public int count = 7;
    /** A recovery window in days or weeks, e.g. 7d or 2w. */
    @Pattern("^[1-9][0-9]*[dw]$")
    public String window;
  }

  /** The cluster a standby cluster follows (Patroni's {@code standby_cluster}). */
  public static class StandbySpec {
    /** The PostgresCluster followed; its primary Service is streamed from. */
    @Required
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    public String source;
    /**
     * The source's namespace; default this cluster's. Another namespace needs the cluster-wide install (the
     * operator reads the source's Secrets there).
     */
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    public String sourceNamespace;
    /**
     * Follow the source's copy in S3 (what its spec.backup.s3 names) instead of streaming from its primary: for a
     * source this cluster cannot reach, in another Kubernetes cluster or region. The standby starts from the copy's
     * newest base backup and replays each WAL segment once the source's agent has copied it (about a minute). The
     * prefix defaults to {@code <sourceNamespace>/<source>}. The source's passwords: copied from its Secrets when
     * the operator reaches them, otherwise create this cluster's two credential Secrets with them first.
     */
    public S3Spec s3;
  }

  public static class BootstrapSpec {
    public RecoverySpec recovery;
  }

  /** Restore another cluster's backups into this new cluster, to a point in time or to the latest. */
  public static class RecoverySpec {
    /** The cluster whose backups are restored. */
    @Required
    public String source;
    /** Local mode: the directory the source cluster runs from (its repository is under it). */
    public String repository;
    /** RFC 3339, e.g. 2026-11-29T10:15:00Z; absent (and no targetLSN) means the latest recoverable point. */
    public String targetTime;
    public String targetLSN;
    /**
     * Kubernetes: restore from this copy of the source's repository (what the source's spec.backup.s3 named) rather
     * than from its backup volume: for a source whose namespace, volume included, is gone. The prefix defaults to
     * {@code <this namespace>/<source>}: name the source's when restoring into another namespace.
     */
    public S3Spec s3;
  }

  /** As Zalando and CloudNativePG offer it: the pod's own scheduling fields, passed through to every member. */
  public static class SchedulingSpec {
    /**
     * Members on distinct nodes: {@code preferred} (the default: the scheduler may put two on one node when it must,
     * and status says so) or {@code required} (a member stays Pending rather than share a node).
     */
    @Pattern("^(preferred|required)$")
    @Default("preferred")
    public String podAntiAffinityType = "preferred";
    public Map<String, String> nodeSelector;
    public List<io.fabric8.kubernetes.api.model.Toleration> tolerations;
    /** Node and pod affinity; a podAntiAffinity given here replaces the default one. */
    public io.fabric8.kubernetes.api.model.Affinity affinity;
    /** Replace the default zone spread (an empty list: none). */
    public List<io.fabric8.kubernetes.api.model.TopologySpreadConstraint> topologySpreadConstraints;
    public String priorityClassName;
  }

  /** A server certificate the user keeps (issue #32), in a Secret of the cluster's namespace. */
  public static class TlsSpec {
    /**
     * A Secret with {@code tls.crt} (the certificate, then any intermediates), {@code tls.key} and {@code ca.crt}
     * (the CA clients trust, published in the ConfigMap {@code <cluster>-ca}), as cert-manager writes them. The
     * certificate must name {@code <cluster>.<namespace>.svc}, the name pgtide's backup agent verifies.
     */
    @Required
    @Pattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
    public String secretName;
  }

  public static class StorageSpec {
    @Pattern(SIZE_PATTERN)
    @Default("10Gi")
    public String size = "10Gi";
    public String storageClass;
    /** What happens to the volumes when the cluster is deleted: Retain (default) or Delete. */
    @Pattern("^(Retain|Delete)$")
    @Default("Retain")
    public String pvcRetention = "Retain";
  }

  public static class PatroniSpec {
    @Min(5)
    @Default("30")
    public int ttl = 30;
    @Min(1)
    @Default("10")
    public int loopWait = 10;
    @Min(1)
    @Default("10")
    public int retryTimeout = 10;
    @Min(0)
    @Default("33554432")
    public long maximumLagOnFailover = 33554432;
    public boolean synchronousMode;
  }

  @ValidationRule(value = "self.minReplicas <= self.maxReplicas",
      message = "autoscaling.minReplicas must not exceed autoscaling.maxReplicas")
  public static class AutoscalingSpec {
    public boolean enabled;
    @Min(1)
    @Default("1")
    public int minReplicas = 1;
    @Min(1)
    @Max(32)
    @Default("1")
    public int maxReplicas = 1;
    public Double targetQpsPerReplica;
    public Double maxLatencyMs;
    public Double targetCpuUtilization;
    public Double targetMemoryUtilization;
    @Default("60s")
    public String scaleUpCooldown = "60s";
    @Default("300s")
    public String scaleDownCooldown = "300s";
    @Min(1)
    @Default("1")
    public int maxStep = 1;
    @Default("16Mi")
    public String maxReplicationLagBytes = "16Mi";
    /** Signals must hold over this window before a decision (spikes shorter than it are ignored). */
    @Default("60s")
    public String window = "60s";
    /** How often the autoscaler samples the cluster state. */
    @Default("5s")
    public String sampleInterval = "5s";
    /** What happens to the volume of a member removed by scale-down: Retain (default) or Delete. */
    @Pattern("^(Retain|Delete)$")
    @Default("Retain")
    public String removedMemberStorage = "Retain";
  }

  // PostgreSQL's NAMEDATALEN: 63 bytes, not characters (a longer name is truncated, and the role never matches)
  @ValidationRule(value = "bytes(self.name).size() <= 63",
      message = "a role name is at most 63 bytes in UTF-8 (PostgreSQL truncates longer ones)")
  public static class UserSpec {
    @Required
    @Size(min = 1, max = 63)
    public String name;
    @Pattern("^(present|absent)$")
    @Default("present")
    public String ensure = "present";
    @Default("true")
    public boolean login = true;
    public boolean superuser;
    public boolean createdb;
    public boolean createrole;
    public boolean replication;
    public boolean bypassrls;
    @Default("true")
    public boolean inherit = true;
    @Min(-1)
    @Default("-1")
    public int connectionLimit = -1;
    public String validUntil;
    public List<String> memberOf = new ArrayList<>();
    public SecretKeyRef passwordSecret;
    public boolean disablePassword;
    public String reassignTo;
  }

  public static class SecretKeyRef {
    @Required
    public String name;
    @Default("password")
    public String key = "password";
  }

  @ValidationRule(value = "bytes(self.name).size() <= 63",
      message = "a database name is at most 63 bytes in UTF-8 (PostgreSQL truncates longer ones)")
  public static class DatabaseSpec {
    @Required
    @Size(min = 1, max = 63)
    public String name;
    public String owner;
    /** Database-level privileges per role: CONNECT, CREATE, TEMPORARY (or TEMP). Undeclared ones are revoked. */
    public Map<String, List<String>> privileges = new LinkedHashMap<>();
    /**
     * Ready-made group roles {@code <name>_reader} (SELECT) and {@code <name>_writer} (SELECT, INSERT, UPDATE,
     * DELETE, sequences), with default privileges on schema public for tables the owner creates later.
     */
    public boolean defaultRoles;
  }

  public static class MonitoringSpec {
    public String pushgateway;
    @Min(1)
    @Default("15")
    public int pushIntervalSeconds = 15;
    /**
     * Queries in postgres_exporter's queries.yaml format, run by every member's sidecar and exported on its metrics
     * port: ConfigMaps of the cluster's namespace on Kubernetes (an edit is picked up without a restart), files in
     * local mode.
     */
    public List<CustomQueriesSpec> customQueries = new ArrayList<>();
  }

  /** One queries.yaml: {@code configMap} and its {@code key} on Kubernetes, {@code path} in local mode. */
  @ValidationRule(value = "has(self.configMap) || has(self.path)",
      message = "monitoring.customQueries: each entry names a configMap (Kubernetes) or a path (local mode)")
  public static class CustomQueriesSpec {
    /** A ConfigMap of the cluster's namespace. */
    @Pattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
    public String configMap;
    /** The ConfigMap's key holding the queries. */
    @Pattern("^[-._a-zA-Z0-9]+$")
    @Default("queries.yaml")
    public String key = "queries.yaml";
    /** Local mode: a queries.yaml file, relative to the cluster file's directory. */
    public String path;
  }
}
