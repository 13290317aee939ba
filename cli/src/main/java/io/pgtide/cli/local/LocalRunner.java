package io.pgtide.cli.local;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.secrets.ClusterSecrets;
import io.pgtide.common.process.OsUser;
import io.pgtide.local.process.PatroniCluster;
import io.pgtide.common.secrets.PrivateFiles;
import io.pgtide.local.process.PatroniTiming;
import io.pgtide.local.process.LocalMachine;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.OperatorCore;
import io.pgtide.operator.autoscale.AutoscalerController;
import io.pgtide.operator.users.DesiredRoles;
import io.pgtide.operator.users.UserSecrets;
import io.pgtide.operator.users.UserSyncController;
import io.pgtide.operator.patroni.PatroniConfigController;
import io.pgtide.operator.k8s.model.MajorUpgrade;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code pgtide local up}: the same PostgresCluster YAML as on Kubernetes, run as real processes on this machine —
 * etcd, one Patroni + PostgreSQL per member, one sidecar JVM per member — with the operator's controllers in this
 * JVM and two TCP proxies as the primary and replicas endpoints. Everything lives under one directory.
 */
public final class LocalRunner implements AutoCloseable {
  public static final String NAMESPACE = "local";

  private volatile PostgresCluster resource;
  private final Path dir;
  private final Consumer<String> progress;
  private OperatorCore core;
  private LocalInfrastructure infra;
  private io.pgtide.operator.ClusterControllerSet controllers;
  private io.pgtide.backup.BackupController backups;
  private int primaryPort;
  private int metricsPort;
  private int replicasPort;
  private int httpPort;
  /** 0 without spec.pooler. */
  private int poolerPort;
  private LocalPooler pooler;

  private final LocalMachine machine;
  /** Where each major's programs are: PgBin.localDir (Debian's, or PGTIDE_PG_BIN_DIR_<major>) unless told. */
  private final java.util.function.IntFunction<String> binDirs;
  private LocalMajorUpgrade upgrade;
  private volatile boolean upgrading;

  /** @param machine where the cluster's processes start and its ports come from (one per JVM: see LocalMachine) */
  public LocalRunner(LocalMachine machine, PostgresCluster resource, Path dir, Consumer<String> progress) {
    this(machine, resource, dir, progress, io.pgtide.common.process.PgBin::localDir);
  }

  /** @param binDirs where the programs of each PostgreSQL major are */
  public LocalRunner(LocalMachine machine, PostgresCluster resource, Path dir, Consumer<String> progress,
                     java.util.function.IntFunction<String> binDirs) {
    this.binDirs = binDirs;
    this.machine = machine;
    this.resource = resource;
    this.dir = dir.toAbsolutePath();
    this.progress = progress;
  }

  /** Reads a PostgresCluster file as every path does ({@link io.pgtide.operator.ClusterFile#read}). */
  public static PostgresCluster read(Path file) {
    return io.pgtide.operator.ClusterFile.read(file);
  }

  public LocalRunner up(int httpPortWanted, int primaryPortWanted, int replicasPortWanted) {
    return up(httpPortWanted, primaryPortWanted, replicasPortWanted, 0);
  }

  public LocalRunner up(int httpPortWanted, int primaryPortWanted, int replicasPortWanted, int metricsPortWanted) {
    PostgresClusterSpec spec = resource.getSpec();
    prepareDirectory();
    CertificateAuthority ca = CertificateAuthority.create("pgtide-local-ca", Duration.ofDays(3650));
    TlsMaterial hubTls = ca.issue("pgtide-operator", List.of("127.0.0.1", "localhost"), Duration.ofDays(3650));
    int bridgePort = machine.freePort();
    choosePorts(httpPortWanted, primaryPortWanted, replicasPortWanted, metricsPortWanted);
    PatroniCluster cluster = startMembers(spec);
    progress.accept("all " + cluster.members().size() + " members running; replicas streaming");
    // like Spilo: real-time statement counters for QPS and latency (pg_stat_database's reach shared memory in
    // bursts under sustained load on PostgreSQL 15+)
    statementStatistics(cluster);
    startOperator(cluster, ca, hubTls, bridgePort);
    String key = infra.clusterKey();
    startControllers(key);
    startEndpoints(key);
    progress.accept("starting " + cluster.members().size() + " sidecars");
    infra.startSidecars();
    infra.superviseMembers();
    core.http().restarts(key, infra::restarts);
    core.http().upgrade(key, this::upgrade);
    core.http().applier(key, this::apply);
    awaitPrimaryLogin(cluster);
    if (spec.pooler != null) {
      // the endpoint's target is the primary the operator chose: the pooler follows the same one
      // its series as the operator exports them on Kubernetes, for the one PgBouncer of local mode
      pooler = new LocalPooler(spec.pooler, dir, poolerPort, primaryPort, cluster.secrets(), infra::primaryTargets,
          progress).start(machine, samples -> core.metrics().pooler().update(key, "primary", "pgbouncer", samples));
    }
    if (spec.backup != null) {
      startBackups(spec, cluster);
    }
    writeState();
    return this;
  }

  /** Checks the spec, makes the directory the owner's only, and stops what a crashed earlier run left running. */
  private void prepareDirectory() {
    String problem = io.pgtide.operator.ClusterFile.problem(resource, true, binDirs);
    if (problem != null) {
      throw new io.pgtide.operator.ClusterFile.Invalid("invalid PostgresCluster " + resource.getMetadata().getName()
          + ": " + problem);
    }
    OsUser.makeTraversable(dir.getParent());
    // the owner's only (0700): secrets, sockets, certificates and logs are out of other users' reach
    OsUser.ownedDirectory(dir, true);
    // a crashed operator leaves its etcd, Patroni, PostgreSQL and sidecars running: stop them before resuming
    List<Leftovers.Leftover> left = Leftovers.stop(dir);
    if (!left.isEmpty()) {
      progress.accept("stopped " + left.size() + " processes an earlier run left behind: "
          + left.stream().map(l -> l.kind() + " " + l.pid()).toList());
    }
  }

  /** Endpoints are stable across runs on the same directory: connection strings keep working. */
  private void choosePorts(int httpPortWanted, int primaryPortWanted, int replicasPortWanted, int metricsPortWanted) {
    JsonObject recorded = recordedPorts();
    httpPort = port(recorded, "httpPort", "operator API", "--http-port", httpPortWanted);
    primaryPort = port(recorded, "primaryPort", "primary endpoint", "--primary-port", primaryPortWanted);
    replicasPort = port(recorded, "replicasPort", "replicas endpoint", "--replicas-port", replicasPortWanted);
    metricsPort = port(recorded, "metricsPort", "operator metrics", "--metrics-port", metricsPortWanted);
    JsonObject ports = new JsonObject().put("httpPort", httpPort).put("primaryPort", primaryPort)
        .put("replicasPort", replicasPort).put("metricsPort", metricsPort);
    if (resource.getSpec().pooler != null) {
      poolerPort = port(recorded, "poolerPort", "pooler", null, 0);
      ports.put("poolerPort", poolerPort);
    }
    PrivateFiles.write(dir.resolve("ports.json"), ports.encodePrettily());
  }

  /** etcd and the members: resumed from the directory, restored from another cluster's backups, or new. */
  private PatroniCluster startMembers(PostgresClusterSpec spec) {
    String name = resource.getMetadata().getName();
    PatroniTiming timing = new PatroniTiming(spec.patroni.ttl, spec.patroni.loopWait, spec.patroni.retryTimeout,
        spec.patroni.maximumLagOnFailover, spec.patroni.synchronousMode);
    if (PatroniCluster.exists(dir)) {
      String interrupted = LocalMajorUpgrade.tidyInterrupted(dir);
      if (interrupted != null) {
        progress.accept(interrupted);
      }
      String problem = resumedMajorProblem(dir, spec.postgresVersion);
      if (problem != null) {
        throw new io.pgtide.operator.ClusterFile.Invalid(problem);
      }
      progress.accept("resuming " + name + " from " + dir + " (same data, members and credentials)");
      return PatroniCluster.resume(machine, dir, Duration.ofSeconds(180));
    }
    if (spec.bootstrap != null && spec.bootstrap.recovery != null) {
      return restored(name, spec, timing);
    }
    progress.accept("starting etcd and member 1/" + spec.replicas + " of " + name);
    PatroniCluster cluster = PatroniCluster.start(machine, name, dir, spec.replicas, timing, spec.parameters,
        ClusterSecrets.generate(), null, binDirs.apply(spec.postgresVersion));
    cluster.save();
    return cluster;
  }

  /**
   * Why a resumed cluster cannot run the spec's major, or null: its data (PG_VERSION of its members) is the truth. A
   * raise is an upgrade of a running cluster (local apply); a lower major cannot read the data at all.
   */
  static String resumedMajorProblem(Path dir, int wanted) {
    Integer data = dataMajor(dir);
    if (data == null || data == wanted) {
      return null;
    }
    return wanted < data ? MajorUpgrade.refusal(data, wanted, false)
        : "postgresVersion " + wanted + ": the data in " + dir + " is PostgreSQL " + data + "; start it with "
          + "postgresVersion " + data + ", then raise postgresVersion with local apply to upgrade it in place";
  }

  /** The major of the data in a cluster directory (the first member's PG_VERSION), null when there is none. */
  static Integer dataMajor(Path dir) {
    try (var members = Files.list(dir)) {
      for (Path m : members.sorted().toList()) {
        Path version = m.resolve("data").resolve("PG_VERSION");
        if (Files.isRegularFile(version)) {
          return Integer.valueOf(Files.readString(version).strip());
        }
      }
      return null;
    } catch (IOException | NumberFormatException e) {
      return null;
    }
  }

  /** The operator's core in this process, acting on the local processes through {@link LocalInfrastructure}. */
  private void startOperator(PatroniCluster cluster, CertificateAuthority ca, TlsMaterial hubTls, int bridgePort) {
    core = new OperatorCore(hubTls, "127.0.0.1", bridgePort,
        vertx -> infra = new LocalInfrastructure(vertx, machine, NAMESPACE, cluster, ca, bridgePort), 3_000);
    infra.progress(progress);
    PostgresClusterSpec spec = resource.getSpec();
    infra.customQueries(spec.monitoring == null ? List.of() : spec.monitoring.customQueries.stream()
        .filter(q -> q.path != null && !q.path.isBlank()).map(q -> q.path).toList());
    core.events().persistTo(dir.resolve("events.jsonl"));
    // an incident open when this process stopped is resumed when it runs again on the directory
    core.failover().persistTo(new io.pgtide.operator.failover.FileIncidentStore(core.vertx(),
        dir.resolve("failover.json")));
    infra.deleteRemovedData("Delete".equals(resource.getSpec().autoscaling.removedMemberStorage));
    // actions on the control API need the token in secrets/ (the CLI reads it); reads stay open on loopback
    core.http().authorizer(new LocalControlAuthorizer(dir.resolve("secrets")), true);
    core.start("127.0.0.1", metricsPort, httpPort);
  }

  /**
   * Failover policy, user sync, Patroni configuration, pending restarts, the autoscaler and the Pushgateway: the
   * controllers Kubernetes runs, wired the same way. No member is ever rolled here, so pending restarts need no
   * other wait.
   */
  private void startControllers(String key) {
    DesiredRoles.PasswordSource passwords = new DesiredRoles.PasswordSource() {
      @Override
      public String password(PostgresClusterSpec.UserSpec user) {
        return LocalRunner.this.password(user);
      }

      @Override
      public Map<String, String> refused(List<PostgresClusterSpec.UserSpec> users) {
        return UserSecrets.refused(resource.getMetadata().getName(), users); // the same rule as on Kubernetes
      }
    };
    controllers = io.pgtide.operator.ClusterControllerSet.start(core, new io.pgtide.operator.ClusterControllerSet
        .Wiring(key, () -> resource.getSpec(), () -> resource.getSpec(), passwords,
        new io.pgtide.operator.users.ScramVerifier(), infra, 30_000, () -> io.vertx.core.Future.succeededFuture(true)));
  }

  /** The primary and replicas ports: TCP proxies, as the two Services are on Kubernetes. */
  private void startEndpoints(String key) {
    new TcpProxy(core.vertx(), "primary", infra::primaryTargets).listen(primaryPort).await();
    new TcpProxy(core.vertx(), "replicas", infra::replicaTargets).listen(replicasPort).await();
    // like a Service's endpoints with a failure threshold: one unhealthy sample does not empty the replicas port
    int[] emptyTicks = {0};
    core.vertx().setPeriodic(500, t -> {
      List<String> healthy = core.state().view(key).healthyReplicas().stream().map(m -> m.id().member()).toList();
      emptyTicks[0] = healthy.isEmpty() ? emptyTicks[0] + 1 : 0;
      if (!healthy.isEmpty() || emptyTicks[0] >= 6) {
        infra.pointReplicas(key, healthy);
      }
    });
  }

  /**
   * "Up" means a client can use it: a login through the primary endpoint lands on a writable primary (the proxy
   * routes once the primary's sidecar has reported; a psql right after the banner used to be refused).
   */
  private void awaitPrimaryLogin(PatroniCluster cluster) {
    progress.accept("waiting for the primary endpoint to take a login");
    io.pgtide.local.process.Waits.until("a login through the primary endpoint on 127.0.0.1:" + primaryPort,
        Duration.ofSeconds(120), () -> {
          try {
            return "f".equals(io.pgtide.common.process.Psql.query(primaryPort, cluster.secrets().superuser(),
                cluster.secrets().superuserPassword(), "postgres", "SELECT pg_is_in_recovery()"));
          } catch (RuntimeException e) {
            return false;
          }
        }, () -> "");
  }

  /** A new cluster whose first member is the source's backup restored to the target (never touching the source). */
  private PatroniCluster restored(String name, PostgresClusterSpec spec, PatroniTiming timing) {
    io.pgtide.backup.Restore restore;
    try {
      restore = new io.pgtide.backup.Restore(machine::freePort, spec.bootstrap.recovery, progress);
      restore.check();
    } catch (IllegalArgumentException e) {
      throw new io.pgtide.operator.ClusterFile.Invalid(e.getMessage());
    }
    progress.accept("starting etcd and restoring member 1/" + spec.replicas + " of " + name + " from "
        + spec.bootstrap.recovery.source);
    PatroniCluster cluster = PatroniCluster.start(machine, name, dir, spec.replicas, timing, spec.parameters,
        restore.sourceSecrets(), data -> {
          try {
            restore.restoreInto(data);
          } catch (RuntimeException e) {
            OsUser.deleteTree(data); // a half-restored directory must not be adopted by a later run
            throw e instanceof IllegalArgumentException
                ? new io.pgtide.operator.ClusterFile.Invalid(e.getMessage()) : e;
          }
        });
    cluster.save();
    return cluster;
  }

  private void startBackups(PostgresClusterSpec spec, PatroniCluster cluster) {
    String key = infra.clusterKey();
    var policy = io.pgtide.common.backup.BackupPolicy.from(spec.backup);
    var barman = new io.pgtide.backup.Barman(io.pgtide.backup.Barman.localRepository(dir),
        resource.getMetadata().getName());
    ClusterSecrets s = cluster.secrets();
    // through the primary endpoint: after a failover Barman streams from the new primary
    // verifying PostgreSQL's certificate (127.0.0.1, from the cluster's CA) as the backup agent does on Kubernetes
    var tls = io.pgtide.common.process.PgClientTls.verifyFull(cluster.serverCaFile(), null);
    barman.configure("127.0.0.1", primaryPort, s.superuser(), s.superuserPassword(), s.replicationUser(),
        s.replicationPassword(), policy, tls);
    backups = new io.pgtide.backup.BackupController(core.vertx(), key, barman, () -> resource.getSpec().backup,
        new io.pgtide.backup.PrimaryArchivingLag("127.0.0.1", primaryPort, s.superuser(), s.superuserPassword(),
            tls),
        new io.pgtide.backup.RestoreVerification(machine::freePort, dir, resource.getMetadata().getName(),
            "127.0.0.1", primaryPort, s.superuser(), s.superuserPassword(), progress),
        core.events()::emit, core.metrics().registry());
    core.http().backups(key, backups);
    backups.start(5_000);
    progress.accept("backups: " + policy.barmanRetention() + ", base backups on '" + policy.schedule()
        + "' (UTC) and one now; repository " + barman.repository());
  }

  public io.vertx.core.Future<JsonObject> backupNow() {
    return backups == null ? io.vertx.core.Future.failedFuture("no spec.backup") : backups.backupNow();
  }

  public io.pgtide.backup.BackupController backups() {
    return backups;
  }

  private static void statementStatistics(PatroniCluster cluster) {
    io.pgtide.local.process.Waits.until("pg_stat_statements on the primary", Duration.ofSeconds(60), () -> {
      try {
        var leader = cluster.leader();
        if (leader.isEmpty()) {
          return false;
        }
        io.pgtide.common.process.Psql.query(leader.get().pgPort(), cluster.secrets().superuser(),
            cluster.secrets().superuserPassword(), "postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        return true;
      } catch (RuntimeException e) {
        return false;
      }
    }, () -> "");
  }

  /**
   * The password of a declared user: its Secret file — the generated one (created on first use, 0600), or the one
   * {@code passwordSecret.name} names under {@code <dir>/secrets/}.
   */
  public String password(PostgresClusterSpec.UserSpec user) {
    if (user.passwordSecret != null) {
      Path file = dir.resolve("secrets").resolve(user.passwordSecret.name).resolve(user.passwordSecret.key);
      try {
        return Files.readString(file).strip();
      } catch (IOException e) {
        throw new IllegalStateException("password Secret " + user.passwordSecret.name + " has no key "
            + user.passwordSecret.key + " (" + file + ")");
      }
    }
    return password(user.name);
  }

  /** A generated password: the file named like the user's Secret on Kubernetes ({@link UserSecrets#secretName}). */
  public String password(String user) {
    Path secrets = dir.resolve("secrets");
    String cluster = resource.getMetadata().getName();
    Path file = secrets.resolve(UserSecrets.secretName(user, cluster));
    // local mode used to name the file after the role as is: a cluster made then keeps its users' passwords
    Path earlier = secrets.resolve(user + "." + cluster + UserSecrets.SUFFIX);
    if (user.indexOf('/') < 0 && !Files.exists(file) && Files.isRegularFile(earlier, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.move(earlier, file);
      } catch (IOException e) {
        throw new IllegalStateException("cannot rename " + earlier + " to " + file + ": " + e.getMessage(), e);
      }
    }
    return new String(PrivateFiles.readOrCreate(file, () -> ClusterSecrets.password(24)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8)), java.nio.charset.StandardCharsets.UTF_8).strip();
  }

  private JsonObject recordedPorts() {
    Path file = dir.resolve("ports.json");
    try {
      return Files.exists(file) ? new JsonObject(Files.readString(file)) : new JsonObject();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot read the recorded ports in " + file + ": " + e.getMessage(), e);
    }
  }

  /** The port asked for, else the one recorded by an earlier run (it must be free), else a free one. */
  private int port(JsonObject recorded, String key, String what, String flag, int wanted) {
    if (wanted > 0) {
      return wanted;
    }
    Integer earlier = recorded.getInteger(key);
    if (earlier == null) {
      return machine.freePort();
    }
    if (!LocalMachine.isFree(earlier)) {
      throw new IllegalStateException("port " + earlier + " of the " + what + ", recorded for this cluster in "
          + dir.resolve("ports.json") + ", is taken by another process; free it, or " + (flag == null
          ? "remove " + key + " from that file for a free one" : "move the endpoint with " + flag + " <port>"));
    }
    return earlier;
  }

  private void writeState() {
    JsonObject state = new JsonObject().put("pid", ProcessHandle.current().pid()).put("httpPort", httpPort)
        .put("metricsPort", metricsPort)
        .put("primaryPort", primaryPort).put("replicasPort", replicasPort)
        .put("poolerPort", pooler == null ? null : poolerPort)
        .put("cluster", resource.getMetadata().getName()).put("namespace", NAMESPACE);
    try {
      Files.writeString(dir.resolve("operator.json"), state.encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Applies an edited spec to the running cluster, as the Kubernetes path does on a CR update: users and databases
   * (synced at once), parameters and Patroni timing (through Patroni, with pending restarts rolled), failover
   * policy, member count (when the autoscaler does not own it), autoscaling and Pushgateway settings. An invalid
   * edit, or one of what cannot change in place (the name, the PostgreSQL version), is refused and nothing changes.
   */
  public synchronized io.vertx.core.Future<JsonObject> apply(PostgresCluster edited) {
    String problem = io.pgtide.operator.ClusterFile.problem(edited, true, binDirs);
    PostgresClusterSpec was = resource.getSpec();
    PostgresClusterSpec now = edited.getSpec();
    if (problem == null && !resource.getMetadata().getName().equals(edited.getMetadata().getName())) {
      problem = "metadata.name cannot change in place (running " + resource.getMetadata().getName() + ", got "
          + edited.getMetadata().getName() + ")";
    }
    if (problem == null && upgrading) {
      problem = "a major upgrade to " + now.postgresVersion + " runs; apply again once it ended (" + LocalMajorUpgrade.FILE
          + " in " + dir + " says where it stands)";
    }
    if (problem == null && was.postgresVersion != now.postgresVersion) {
      problem = upgradeProblem(was, now);
      if (problem == null) {
        return startUpgrade(edited);
      }
    }
    if (problem == null && !Serialization.asJson(was.pooler).equals(Serialization.asJson(now.pooler))) {
      problem = "spec.pooler cannot change in place in local mode (PgBouncer starts with the cluster): stop the "
          + "cluster and run local up with the edited file";
    }
    if (problem != null) {
      return io.vertx.core.Future.failedFuture(new io.pgtide.operator.ClusterFile.Invalid(problem));
    }
    edited.getMetadata().setNamespace(resource.getMetadata().getNamespace());
    resource = edited;
    String key = infra.clusterKey();
    JsonObject applied = new JsonObject().put("cluster", key);
    infra.deleteRemovedData("Delete".equals(now.autoscaling.removedMemberStorage));
    controllers.follow(now);
    if (!java.util.Objects.equals(pushTarget(was), pushTarget(now))) {
      applied.put("monitoring", pushTarget(now) == null ? "off" : now.monitoring.pushgateway);
    }
    io.vertx.core.Future<Void> scaled = io.vertx.core.Future.succeededFuture();
    if (!now.autoscaling.enabled && now.replicas != infra.cluster().members().size()) {
      applied.put("replicas", infra.cluster().members().size() + " -> " + now.replicas);
      scaled = infra.scale(key, now.replicas);
    }
    progress.accept("applying the edited spec of " + key);
    io.vertx.core.Future<Void> done = scaled;
    return controllers.patroniConfig().apply().map(p -> applied.put("patroni", p))
        .compose(v -> controllers.users().sync(false).map(u -> applied.put("users", u)))
        .compose(v -> done.map(applied));
  }

  /** Why a changed postgresVersion cannot start an upgrade, or null: a raise alone, to a major installed here. */
  private String upgradeProblem(PostgresClusterSpec was, PostgresClusterSpec now) {
    String refusal = MajorUpgrade.refusal(was.postgresVersion, now.postgresVersion, false);
    if (refusal != null) {
      return refusal;
    }
    PostgresClusterSpec same = Serialization.clone(now);
    same.postgresVersion = was.postgresVersion;
    if (!Serialization.asJson(same).equals(Serialization.asJson(was))) {
      return "postgresVersion " + now.postgresVersion + ": a major upgrade is applied alone; apply the other "
          + "changes before or after it";
    }
    return null; // installed: ClusterFile.problem checked it with this runner's binDirs
  }

  /**
   * Starts the in-place upgrade (LocalMajorUpgrade) on a worker thread and answers at once; the spec takes the new
   * major only when it succeeded, so a failed one leaves the running spec what runs (apply again to retry).
   */
  private io.vertx.core.Future<JsonObject> startUpgrade(PostgresCluster edited) {
    PostgresCluster was = resource;
    int from = was.getSpec().postgresVersion;
    int to = edited.getSpec().postgresVersion;
    String key = infra.clusterKey();
    edited.getMetadata().setNamespace(was.getMetadata().getNamespace());
    upgrading = true;
    upgrade = new LocalMajorUpgrade(machine, infra.cluster(), infra, core.failover(), core.events(), key, progress);
    String blocked = LocalMajorUpgrade.blocked(core.state().view(key), infra.cluster().members().size(),
        was.getSpec().backup != null);
    upgrade.begin(from, to);
    core.vertx().executeBlocking(() -> upgrade.run(from, to, binDirs.apply(to), blocked), false)
        .onComplete(ar -> {
          synchronized (this) {
            if (ar.succeeded() && MajorUpgrade.SUCCEEDED.equals(ar.result().getString("phase"))) {
              resource = edited;
            }
            upgrading = false;
          }
          if (ar.failed()) {
            progress.accept("upgrade of " + key + " ended with " + ar.cause());
          }
        });
    return io.vertx.core.Future.succeededFuture(new JsonObject().put("cluster", key)
        .put("upgrade", from + " -> " + to + " started; " + LocalMajorUpgrade.FILE + " in " + infra.cluster().dir()
            + " follows it"));
  }

  /** The last major upgrade's status (phase, step, steps, downtime, error), as recorded; null before any. */
  public JsonObject upgrade() {
    LocalMajorUpgrade u = upgrade;
    return u != null ? u.status() : LocalMajorUpgrade.recorded(dir);
  }

  private static String pushTarget(PostgresClusterSpec spec) {
    return spec.monitoring == null || spec.monitoring.pushgateway == null || spec.monitoring.pushgateway.isBlank()
        ? null : spec.monitoring.pushgateway + "@" + spec.monitoring.pushIntervalSeconds;
  }

  public PostgresCluster resource() {
    return resource;
  }

  public OperatorCore core() {
    return core;
  }

  public LocalInfrastructure infra() {
    return infra;
  }

  public AutoscalerController autoscaler() {
    return controllers.autoscaler();
  }

  public PatroniConfigController patroniConfig() {
    return controllers.patroniConfig();
  }

  public UserSyncController users() {
    return controllers.users();
  }

  public String clusterKey() {
    return infra.clusterKey();
  }

  public int primaryPort() {
    return primaryPort;
  }

  public int replicasPort() {
    return replicasPort;
  }

  /** Metrics and health of the local operator. */
  public int metricsPort() {
    return metricsPort;
  }

  /** The control API and the dashboard of the local operator. */
  public int httpPort() {
    return httpPort;
  }

  public Path dir() {
    return dir;
  }

  /** The PgBouncer of spec.pooler, null without one. */
  public LocalPooler pooler() {
    return pooler;
  }

  public Map<String, String> endpoints() {
    Map<String, String> out = new java.util.LinkedHashMap<>(Map.of("primary", "127.0.0.1:" + primaryPort,
        "replicas", "127.0.0.1:" + replicasPort, "operator", "http://127.0.0.1:" + httpPort));
    if (pooler != null) {
      out.put("pooler", "127.0.0.1:" + pooler.port());
    }
    return out;
  }

  @Override
  public void close() {
    if (backups != null) {
      try {
        backups.stop().await(90, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        progress.accept("stopping the backup WAL receiver failed: " + e.getMessage());
      }
    }
    if (pooler != null) {
      pooler.close(); // before the members: its clients see it go, not a primary vanish under it
    }
    if (core != null) {
      core.close();
    }
    if (infra != null) {
      infra.close();
    }
    try {
      Files.deleteIfExists(dir.resolve("operator.json"));
    } catch (IOException e) {
      // best effort
    }
  }
}
