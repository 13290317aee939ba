package io.pgtide.operator.k8s.model;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.List;

/**
 * The schema's rules checked again by the operator, as a second line behind the API server's validation (a CRD
 * installed without validation, or an old API server, must not get a broken cluster). Pure.
 */
public final class ClusterValidation {
  /** The most members a cluster may have (the CRD's maximum for replicas and autoscaling.maxReplicas). */
  public static final int MAX_MEMBERS = 32;

  private ClusterValidation() {
  }

  /** The first problem of a whole resource: its name, then its spec (see {@link #problem(PostgresClusterSpec)}). */
  public static String problem(io.pgtide.common.crd.PostgresCluster cr) {
    String name = cr.getMetadata() == null ? null : cr.getMetadata().getName();
    if (name == null || !name.matches(io.pgtide.common.crd.PostgresCluster.NAME_PATTERN)
        || name.length() > io.pgtide.common.crd.PostgresCluster.NAME_MAX_LENGTH) {
      return io.pgtide.common.crd.PostgresCluster.NAME_RULE + ", got '" + name + "'";
    }
    var tls = cr.getSpec() == null ? null : cr.getSpec().tls;
    if (tls != null && (tls.secretName == null || tls.secretName.isBlank())) {
      return "tls.secretName is required when tls is given (omit tls for a certificate pgtide issues)";
    }
    if (tls != null && (tls.secretName.equals(ServerCertificates.tlsSecret(name))
        || tls.secretName.equals(ServerCertificates.caSecret(name)))) {
      return "tls.secretName " + tls.secretName + " is a Secret pgtide writes for this cluster; name the Secret "
          + "that holds your own certificate, or omit tls";
    }
    var standby = cr.getSpec() == null ? null : cr.getSpec().standby;
    if (standby != null && name.equals(standby.source) && (standby.sourceNamespace == null
        || standby.sourceNamespace.equals(cr.getMetadata().getNamespace()))) {
      return "standby.source names this cluster itself; a standby follows another cluster";
    }
    return problem(cr.getSpec());
  }

  /**
   * spec.standby: a source is named; not with bootstrap.recovery (a standby's data comes from its source's stream),
   * autoscaling (the autoscaler scales on the primary's load, and a standby takes no writes: its size is the
   * user's) or backup (base backups write a check row, and a standby is read-only: the source keeps the backups;
   * add spec.backup after promotion).
   */
  static String standbyProblem(PostgresClusterSpec spec) {
    if (spec.standby == null) {
      return null;
    }
    if (spec.standby.source == null || spec.standby.source.isBlank()) {
      return "standby.source is required: the PostgresCluster this standby follows";
    }
    if (spec.bootstrap != null && spec.bootstrap.recovery != null) {
      return "standby and bootstrap.recovery exclude each other: a standby cluster copies its data from "
          + "standby.source's stream";
    }
    if (spec.autoscaling != null && spec.autoscaling.enabled) {
      return "standby and autoscaling.enabled exclude each other: a standby takes no writes, so there is no load "
          + "to scale on; set replicas";
    }
    if (spec.backup != null) {
      return "standby and backup exclude each other: a standby is read-only (the source keeps the backups); "
          + "declare backup after promotion";
    }
    return standbyS3Problem(spec.standby.s3);
  }

  /** A URL of a host (a name or an address), an optional port and path, and nothing a shell reads. */
  static final java.util.regex.Pattern S3_ENDPOINT =
      java.util.regex.Pattern.compile("https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?");
  static final java.util.regex.Pattern S3_PREFIX = java.util.regex.Pattern.compile("[A-Za-z0-9._~/-]*");

  /**
   * standby.s3 goes into the standby leader's restore_command, which a shell runs: the endpoint and prefix may hold
   * only what a URL of them needs (restore_command is refused in spec.parameters for the same reason).
   */
  private static String standbyS3Problem(PostgresClusterSpec.S3Spec s3) {
    if (s3 == null) {
      return null;
    }
    if (s3.endpoint == null || !S3_ENDPOINT.matcher(s3.endpoint).matches()) {
      return "standby.s3.endpoint " + s3.endpoint + ": not an http(s) URL of a host, port and path (letters, digits "
          + "and . _ ~ / - only)";
    }
    if (s3.prefix != null && !S3_PREFIX.matcher(s3.prefix).matches()) {
      return "standby.s3.prefix " + s3.prefix + ": letters, digits and . _ ~ / - only";
    }
    if (s3.region != null && !s3.region.matches("[a-z0-9-]+")) {
      return "standby.s3.region " + s3.region + ": lower-case letters, digits and - only";
    }
    return null;
  }

  /**
   * A standby's source in a namespace an operator watching only {@code watchNamespaces} (a namespaced install) does
   * not watch: it could not read the source's Secrets there; null when allowed. Empty list: the cluster-wide install.
   */
  public static String standbyScopeProblem(io.pgtide.common.crd.PostgresCluster cr, List<String> watchNamespaces) {
    var standby = cr.getSpec() == null ? null : cr.getSpec().standby;
    // a standby of the S3 copy needs nothing of the source's namespace (its passwords can be given instead)
    if (standby == null || standby.s3 != null || standby.sourceNamespace == null || watchNamespaces.isEmpty()
        || watchNamespaces.contains(standby.sourceNamespace)) {
      return null;
    }
    return "standby.sourceNamespace " + standby.sourceNamespace + ": this operator is installed for namespaces "
        + watchNamespaces + " only and can neither read the source's Secrets there nor keep its slot; name a source in "
        + "a watched namespace, or use the cluster-wide install";
  }

  /** The first problem found, or null. */
  public static String problem(PostgresClusterSpec spec) {
    if (spec == null) {
      return "spec is missing or empty: a PostgresCluster declares at least spec.replicas";
    }
    // in this order, stopping at the first: a later rule may assume what an earlier one checked
    List<java.util.function.Supplier<String>> rules = List.of(() -> sizingProblem(spec), () -> storageProblem(spec),
        () -> backupProblem(spec), () -> recoveryProblem(spec), () -> standbyProblem(spec), () -> poolerProblem(spec.pooler),
        () -> customQueriesProblem(spec.monitoring), () -> parametersProblem(spec), () -> usersProblem(spec),
        () -> databasesProblem(spec));
    for (var rule : rules) {
      String problem = rule.get();
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }

  /** The version, the member count (fixed or autoscaled) and Patroni's timing. */
  private static String sizingProblem(PostgresClusterSpec spec) {
    if (spec.postgresVersion < 13 || spec.postgresVersion > 17) {
      return "postgresVersion must be 13..17, got " + spec.postgresVersion;
    }
    if (spec.replicas < 1 || spec.replicas > MAX_MEMBERS) {
      return "replicas must be 1.." + MAX_MEMBERS + ", got " + spec.replicas;
    }
    if (spec.autoscaling != null && spec.autoscaling.maxReplicas > MAX_MEMBERS) {
      return "autoscaling.maxReplicas must be at most " + MAX_MEMBERS + ", got " + spec.autoscaling.maxReplicas;
    }
    if (spec.autoscaling != null && spec.autoscaling.minReplicas > spec.autoscaling.maxReplicas) {
      return "autoscaling.minReplicas " + spec.autoscaling.minReplicas + " exceeds maxReplicas "
          + spec.autoscaling.maxReplicas;
    }
    if (spec.patroni != null && spec.patroni.loopWait + 2L * spec.patroni.retryTimeout > spec.patroni.ttl
        && spec.patroni.ttl > 0) {
      return "patroni.ttl " + spec.patroni.ttl + " must be at least loopWait + 2 × retryTimeout ("
          + (spec.patroni.loopWait + 2 * spec.patroni.retryTimeout) + ")";
    }
    return null;
  }

  private static String storageProblem(PostgresClusterSpec spec) {
    if (spec.storage == null || !isSize(spec.storage.size)) {
      return "storage.size " + (spec.storage == null ? null : spec.storage.size) + " is not a size (e.g. 10Gi)";
    }
    if (!"Retain".equals(spec.storage.pvcRetention)
        && !"Delete".equals(spec.storage.pvcRetention)) {
      return "storage.pvcRetention must be Retain or Delete, got " + spec.storage.pvcRetention;
    }
    if (spec.autoscaling != null && !"Retain".equals(spec.autoscaling.removedMemberStorage)
        && !"Delete".equals(spec.autoscaling.removedMemberStorage)) {
      return "autoscaling.removedMemberStorage must be Retain or Delete, got " + spec.autoscaling.removedMemberStorage;
    }
    return null;
  }

  private static String backupProblem(PostgresClusterSpec spec) {
    String backup = io.pgtide.common.backup.BackupPolicy.problem(spec.backup);
    if (backup != null || spec.backup == null) {
      return backup;
    }
    if (!isSize(spec.backup.storage)) {
      return "backup.storage " + spec.backup.storage + " is not a size (e.g. 20Gi)";
    }
    var s3 = spec.backup.s3;
    if (s3 == null) {
      return null;
    }
    if (s3.endpoint == null || !s3.endpoint.matches("https?://.+")) {
      return "backup.s3.endpoint must be an http:// or https:// URL, got " + s3.endpoint;
    }
    if (s3.bucket == null || !s3.bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      return "backup.s3.bucket must be an S3 bucket name (3-63 of a-z, 0-9, '.', '-'), got " + s3.bucket;
    }
    if (s3.credentialsSecret == null || s3.credentialsSecret.isBlank()) {
      return "backup.s3.credentialsSecret must name a Secret with accessKeyId and secretAccessKey";
    }
    if (s3.prefix != null && (s3.prefix.startsWith("/") || s3.prefix.contains(".."))) {
      return "backup.s3.prefix must be a relative path inside the bucket, got " + s3.prefix;
    }
    return null;
  }

  private static String recoveryProblem(PostgresClusterSpec spec) {
    if (spec.bootstrap == null || spec.bootstrap.recovery == null) {
      return null;
    }
    if (spec.bootstrap.recovery.s3 != null && spec.bootstrap.recovery.repository != null) {
      return "bootstrap.recovery: repository (local mode's directory) and s3 exclude each other";
    }
    try {
      var target = io.pgtide.common.backup.RecoveryTarget.from(spec.bootstrap.recovery);
      if (target.time() != null && target.time().isAfter(java.time.Instant.now())) {
        return "bootstrap.recovery.targetTime " + target.time() + " is in the future";
      }
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  private static String parametersProblem(PostgresClusterSpec spec) {
    String parameter = fixedParameter(spec.parameters);
    return parameter != null ? parameter : integerParameters(spec.parameters);
  }

  private static String usersProblem(PostgresClusterSpec spec) {
    java.util.Set<String> users = new java.util.HashSet<>();
    for (PostgresClusterSpec.UserSpec u : spec.users == null ? List.<PostgresClusterSpec.UserSpec>of() : spec.users) {
      if (u.name != null && bytes(u.name) > 63) {
        return "user " + u.name + " is " + bytes(u.name) + " bytes in UTF-8; PostgreSQL names are at most 63";
      }
      // two entries for one role would fight over its flags and password at every sync
      if (u.name != null && !users.add(u.name)) {
        return "user " + u.name + " is declared twice in spec.users";
      }
      // the pooler's own role: its password lives with PgBouncer, not in a user's Secret
      if (spec.pooler != null && io.pgtide.operator.pooler.PoolerSql.ROLE.equals(u.name)) {
        return "user " + u.name + " is reserved: pgtide manages it for spec.pooler";
      }
    }
    return null;
  }

  private static String databasesProblem(PostgresClusterSpec spec) {
    java.util.Set<String> databases = new java.util.HashSet<>();
    for (PostgresClusterSpec.DatabaseSpec d : spec.databases == null ? List.<PostgresClusterSpec.DatabaseSpec>of()
        : spec.databases) {
      if (d.name != null && bytes(d.name) > 63) {
        return "database " + d.name + " is " + bytes(d.name) + " bytes in UTF-8; PostgreSQL names are at most 63";
      }
      if (d.name != null && !databases.add(d.name)) {
        return "database " + d.name + " is declared twice in spec.databases";
      }
    }
    return null;
  }

  /** The pooler's rules (the schema has them too; a CRD without validation must not reach PgBouncer). */
  static String poolerProblem(PostgresClusterSpec.PoolerSpec pooler) {
    if (pooler == null) {
      return null;
    }
    if (pooler.instances < 1 || pooler.instances > MAX_MEMBERS) {
      return "pooler.instances must be 1.." + MAX_MEMBERS + ", got " + pooler.instances;
    }
    if (!"transaction".equals(pooler.poolMode) && !"session".equals(pooler.poolMode)) {
      // PgBouncer's statement mode breaks multi-statement transactions: not offered
      return "pooler.poolMode must be transaction or session, got " + pooler.poolMode;
    }
    if (pooler.maxClientConnections < 1) {
      return "pooler.maxClientConnections must be at least 1, got " + pooler.maxClientConnections;
    }
    if (pooler.defaultPoolSize < 1 || pooler.defaultPoolSize >= pooler.maxClientConnections) {
      return "pooler.defaultPoolSize must be 1.." + (pooler.maxClientConnections - 1)
          + " (below maxClientConnections " + pooler.maxClientConnections + "), got " + pooler.defaultPoolSize;
    }
    return null;
  }

  /** A positive size in the schema's form ({@link PostgresClusterSpec#SIZE_PATTERN}), e.g. 10Gi. */
  static boolean isSize(String size) {
    return size != null && size.matches(PostgresClusterSpec.SIZE_PATTERN)
        && new io.fabric8.kubernetes.api.model.Quantity(size).getNumericalAmount().signum() > 0;
  }

  /** What the Kubernetes path refuses beyond {@link #problem}: custom queries only a local file holds. */
  public static String kubernetesProblem(PostgresClusterSpec spec) {
    List<PostgresClusterSpec.CustomQueriesSpec> queries = spec.monitoring == null || spec.monitoring.customQueries == null
        ? List.of() : spec.monitoring.customQueries;
    for (int i = 0; i < queries.size(); i++) {
      if (queries.get(i).configMap == null || queries.get(i).configMap.isBlank()) {
        return "monitoring.customQueries[" + i + "] names only a path, which is for local mode; on Kubernetes "
            + "name a configMap";
      }
    }
    return null;
  }

  /** Each custom queries entry names a ConfigMap or a file, and a ConfigMap key that can be one. */
  static String customQueriesProblem(PostgresClusterSpec.MonitoringSpec monitoring) {
    List<PostgresClusterSpec.CustomQueriesSpec> queries = monitoring == null || monitoring.customQueries == null
        ? List.of() : monitoring.customQueries;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < queries.size(); i++) {
      var q = queries.get(i);
      String where = "monitoring.customQueries[" + i + "]";
      if (q == null || ((q.configMap == null || q.configMap.isBlank()) && (q.path == null || q.path.isBlank()))) {
        return where + " names neither a configMap (Kubernetes) nor a path (local mode)";
      }
      if (q.configMap != null && !q.configMap.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
        return where + ".configMap must be a ConfigMap name, got '" + q.configMap + "'";
      }
      if (q.key == null || !q.key.matches("[-._a-zA-Z0-9]+")) {
        return where + ".key must be a ConfigMap key, got '" + q.key + "'";
      }
      // one file twice would export every series twice
      if (!seen.add(q.configMap + "/" + q.key + "|" + q.path)) {
        return where + " is listed twice";
      }
    }
    return null;
  }

  /**
   * Why {@code spec.image} may not run, or null: the operator's allowlist ({@code PGTIDE_ALLOWED_IMAGES}) decides
   * which images a cluster may ask for, since the image runs as the database with the cluster's Secrets mounted.
   * No {@code spec.image} means the operator's own Spilo image, always allowed.
   */
  public static String imageProblem(PostgresClusterSpec spec, List<String> allowedImages) {
    if (spec == null || spec.image == null || imageAllowed(spec.image, allowedImages)) {
      return null;
    }
    return "image " + spec.image + " is not allowed by this operator (PGTIDE_ALLOWED_IMAGES: "
        + String.join(",", allowedImages) + ")";
  }

  /**
   * Whether {@code image} is one the entries allow: an entry ending in {@code /}, {@code :} or {@code @} allows
   * every image that starts with it (a registry path, or any tag or digest of one repository); any other entry
   * allows exactly that image; {@code *} allows all. A bare prefix such as {@code ghcr.io/zalando/spilo} therefore
   * never lets {@code ghcr.io/zalando/spilo-evil} through.
   */
  public static boolean imageAllowed(String image, List<String> allowed) {
    String wanted = image.strip();
    return allowed.stream().anyMatch(a -> a.equals("*")
        || (a.endsWith("/") || a.endsWith(":") || a.endsWith("@") ? wanted.startsWith(a)
        && wanted.length() > a.length() : a.equals(wanted)));
  }

  /** Any tag or digest of {@code image}'s repository: the default allowlist for the shipped Spilo image. */
  public static List<String> defaultAllowedImages(String image) {
    int at = image.indexOf('@');
    String repository = at >= 0 ? image.substring(0, at) : image;
    int colon = repository.lastIndexOf(':');
    if (colon > repository.lastIndexOf('/')) {
      repository = repository.substring(0, colon); // a tag, not a registry's port
    }
    return List.of(repository + ":", repository + "@");
  }

  /** Why TLS parameters other than these may not be set: see {@link #FIXED_PARAMETERS}. */
  static final java.util.Set<String> TUNABLE_SSL_PARAMETERS = java.util.Set.of("ssl_min_protocol_version",
      "ssl_max_protocol_version", "ssl_ciphers", "ssl_ecdh_curve", "ssl_prefer_server_ciphers");

  private static final String FILES = "Patroni writes these files and points PostgreSQL at them";
  private static final String SOCKET = "the local socket is trusted by pg_hba and kept where only the owner reaches "
      + "it; moving or opening it lets other users in as superuser";
  private static final String WAL = "pgtide's backups archive and restore WAL (spec.backup); another command breaks "
      + "them and runs programs as the postgres user";
  private static final String REPLICATION = "Patroni manages replication, recovery and promotion";
  private static final String LIBRARIES = "the image decides what code PostgreSQL loads: Spilo preloads bg_mon, "
      + "pg_stat_statements, pgextwlist, pg_auth_mon and set_user, which pgtide's monitoring and Spilo's extension "
      + "guard rely on";
  private static final String LOGS = "where and how readable the server log is written (it can hold statements "
      + "with passwords)";

  /**
   * Parameters a cluster may not set (as CloudNativePG's fixed parameters), with the reason: Patroni, Spilo or
   * pgtide own them, or they would open the server to other users or run code. {@code ssl} and {@code ssl_*} too,
   * except {@link #TUNABLE_SSL_PARAMETERS}: the server's certificate and key are the image's (pgtide's own with
   * issue #32), and TLS may be tightened but not turned off or pointed at other files. PostgreSQL reads parameter
   * names case-insensitively, so the check does too.
   */
  static final java.util.Map<String, String> FIXED_PARAMETERS = java.util.Map.ofEntries(
      java.util.Map.entry("listen_addresses", "Patroni sets where PostgreSQL listens; Services and the sidecar "
          + "connect there"),
      java.util.Map.entry("port", "Patroni sets where PostgreSQL listens; Services and the sidecar connect there"),
      java.util.Map.entry("data_directory", FILES), java.util.Map.entry("config_file", FILES),
      java.util.Map.entry("hba_file", FILES), java.util.Map.entry("ident_file", FILES),
      java.util.Map.entry("external_pid_file", FILES),
      java.util.Map.entry("unix_socket_directories", SOCKET), java.util.Map.entry("unix_socket_group", SOCKET),
      java.util.Map.entry("unix_socket_permissions", SOCKET),
      java.util.Map.entry("archive_mode", WAL), java.util.Map.entry("archive_command", WAL),
      java.util.Map.entry("archive_library", WAL), java.util.Map.entry("restore_command", WAL),
      java.util.Map.entry("archive_cleanup_command", WAL), java.util.Map.entry("recovery_end_command", WAL),
      java.util.Map.entry("primary_conninfo", REPLICATION), java.util.Map.entry("primary_slot_name", REPLICATION),
      java.util.Map.entry("promote_trigger_file", REPLICATION),
      java.util.Map.entry("synchronous_standby_names", REPLICATION + " (patroni.synchronousMode)"),
      java.util.Map.entry("recovery_target", REPLICATION + " (bootstrap.recovery)"),
      java.util.Map.entry("recovery_target_time", REPLICATION + " (bootstrap.recovery)"),
      java.util.Map.entry("recovery_target_lsn", REPLICATION + " (bootstrap.recovery)"),
      java.util.Map.entry("recovery_target_name", REPLICATION + " (bootstrap.recovery)"),
      java.util.Map.entry("recovery_target_xid", REPLICATION + " (bootstrap.recovery)"),
      java.util.Map.entry("recovery_target_action", REPLICATION + " (bootstrap.recovery)"),
      java.util.Map.entry("recovery_target_inclusive", REPLICATION + " (bootstrap.recovery)"),
      java.util.Map.entry("recovery_target_timeline", REPLICATION + " (bootstrap.recovery)"),
      java.util.Map.entry("shared_preload_libraries", LIBRARIES),
      java.util.Map.entry("local_preload_libraries", LIBRARIES),
      java.util.Map.entry("session_preload_libraries", LIBRARIES),
      java.util.Map.entry("dynamic_library_path", LIBRARIES), java.util.Map.entry("jit_provider", LIBRARIES),
      java.util.Map.entry("log_directory", LOGS), java.util.Map.entry("log_file_mode", LOGS),
      java.util.Map.entry("allow_system_table_mods", "it lets a superuser break the system catalogs"));

  /** The first parameter (by name) a cluster may not set, with why; null when none. */
  static String fixedParameter(java.util.Map<String, String> parameters) {
    if (parameters == null) {
      return null;
    }
    for (String name : new java.util.TreeSet<>(parameters.keySet())) {
      String key = name.strip().toLowerCase(java.util.Locale.ROOT);
      String why = FIXED_PARAMETERS.get(key);
      if (why == null && (key.equals("ssl") || key.startsWith("ssl_")) && !TUNABLE_SSL_PARAMETERS.contains(key)) {
        why = "the server's certificate and key are the image's; TLS may be tightened ("
            + String.join(", ", new java.util.TreeSet<>(TUNABLE_SSL_PARAMETERS)) + ") but not turned off or "
            + "pointed at other files";
      }
      if (why != null) {
        return "parameters." + name + " may not be set: " + why;
      }
    }
    return null;
  }

  /**
   * Why bootstrap.recovery cannot restore on Kubernetes, or null: the source must be a PostgresCluster of the same
   * namespace that declares spec.backup and has its backup volume, and a target time may not lie before its first
   * recoverable point (as its status reports it). A source that was deleted but whose backup volume is there (it
   * outlives its cluster) is a <em>detached repository</em>: accepted, its target checked by the restore Job against
   * the repository's catalogue, the only record left. Pure.
   */
  public static String recoverySourceProblem(PostgresClusterSpec.RecoverySpec recovery,
                                             io.pgtide.common.crd.PostgresCluster source, boolean sourceVolume,
                                             java.time.Instant now) {
    if (source == null) {
      return sourceVolume ? null : "bootstrap.recovery.source " + recovery.source + ": no such PostgresCluster in "
          + "this namespace, and no backup volume " + BackupAgentModel.name(recovery.source) + " of a deleted one";
    }
    if (source.getSpec() == null || source.getSpec().backup == null || !sourceVolume) {
      return "bootstrap.recovery.source " + recovery.source + " declares no spec.backup: it has no backups to restore";
    }
    var target = io.pgtide.common.backup.RecoveryTarget.from(recovery);
    Object first = source.getStatus() == null ? null : source.getStatus().backupValue("firstRecoverablePoint");
    String why = target.unreachable(first == null ? null : java.time.Instant.parse(first.toString()), now);
    return why == null ? null : "cannot restore " + recovery.source + " to " + target + ": " + why;
  }

  /** PostgreSQL's integer parameters without units that a spec commonly sets, with the server's own bounds. */
  static final java.util.Map<String, long[]> INTEGER_PARAMETERS = java.util.Map.of(
      "max_connections", new long[] {1, 262_143}, "max_wal_senders", new long[] {0, 262_143},
      "max_replication_slots", new long[] {0, 262_143}, "max_worker_processes", new long[] {0, 262_143},
      "max_prepared_transactions", new long[] {0, 262_143},
      "max_locks_per_transaction", new long[] {10, 2_147_483_647L});

  private static String integerParameters(java.util.Map<String, String> parameters) {
    if (parameters == null) {
      return null;
    }
    for (var e : new java.util.TreeMap<>(parameters).entrySet()) {
      long[] range = INTEGER_PARAMETERS.get(e.getKey());
      if (range == null) {
        continue;
      }
      String value = e.getValue() == null ? "" : e.getValue().strip();
      long n;
      try {
        n = Long.parseLong(value);
      } catch (NumberFormatException ex) {
        return "parameters." + e.getKey() + " must be an integer, got '" + value + "'";
      }
      if (n < range[0] || n > range[1]) {
        return "parameters." + e.getKey() + " must be " + range[0] + ".." + range[1] + ", got " + value;
      }
    }
    return null;
  }

  private static int bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }
}
