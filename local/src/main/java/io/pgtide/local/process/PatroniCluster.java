package io.pgtide.local.process;

import io.pgtide.common.process.OsUser;
import io.pgtide.common.secrets.BasicCredentials;
import io.pgtide.common.secrets.ClusterSecrets;
import io.pgtide.common.secrets.PrivateFiles;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real etcd + Patroni cluster of N members on loopback. Used by local mode and by the tests. Blocking: call it
 * from a worker thread or a test thread, never from an event loop.
 */
public final class PatroniCluster implements AutoCloseable {
  /** Patroni's REST API user; its password is in {@link #REST_PASSWORD_FILE}, 0600. */
  public static final String REST_USER = "pgtide";
  public static final String REST_PASSWORD_FILE = "patroni-rest.password";
  private final String scope;
  private final Path dir;
  private final EtcdProcess etcd;
  private final PatroniTiming timing;
  private final Map<String, String> parameters;
  private final ClusterSecrets secrets;
  private final BasicCredentials restCredentials;
  private final Map<String, PatroniMember> members = new LinkedHashMap<>();
  private int nextOrdinal;
  /** The PostgreSQL programs every member runs: one major per cluster, changed only by a major upgrade. */
  private String binDir;

  private final LocalMachine machine;

  private PatroniCluster(LocalMachine machine, String scope, Path dir, EtcdProcess etcd, PatroniTiming timing,
                         Map<String, String> parameters, ClusterSecrets secrets, String binDir) {
    this.machine = machine;
    this.binDir = binDir;
    this.scope = scope;
    this.dir = dir;
    this.etcd = etcd;
    this.timing = timing;
    this.parameters = parameters;
    this.secrets = secrets;
    this.restCredentials = restCredentials(dir);
  }

  /** The REST API's credentials of the cluster in {@code dir}: made on its first start, kept across resumes. */
  private static BasicCredentials restCredentials(Path dir) {
    byte[] password = PrivateFiles.readOrCreate(dir.resolve(REST_PASSWORD_FILE),
        () -> ClusterSecrets.password(24).getBytes(StandardCharsets.UTF_8));
    return new BasicCredentials(REST_USER, new String(password, StandardCharsets.UTF_8).strip());
  }

  /** Starts etcd and {@code size} members (named {@code <scope>-0..}) and waits until {@link #awaitReady}. */
  public static PatroniCluster start(LocalMachine machine, String scope, Path dir, int size, PatroniTiming timing,
                                     Map<String, String> parameters) {
    return start(machine, scope, dir, size, timing, parameters, ClusterSecrets.generate(), null);
  }

  /**
   * As {@link #start(LocalMachine, String, Path, int, PatroniTiming, Map)}, with given credentials and, when {@code seed} is not
   * null, a first member whose data directory {@code seed} fills before its Patroni starts (a restored backup):
   * Patroni then adopts that data instead of running initdb, and the others copy it from the new primary.
   */
  public static PatroniCluster start(LocalMachine machine, String scope, Path dir, int size, PatroniTiming timing,
                                     Map<String, String> parameters, ClusterSecrets secrets,
                                     java.util.function.Consumer<Path> seed) {
    return start(machine, scope, dir, size, timing, parameters, secrets, seed, PatroniMember.BIN_DIR);
  }

  /** As above, on the PostgreSQL programs in {@code binDir} (another major than local mode's default). */
  public static PatroniCluster start(LocalMachine machine, String scope, Path dir, int size, PatroniTiming timing,
                                     Map<String, String> parameters, ClusterSecrets secrets,
                                     java.util.function.Consumer<Path> seed, String binDir) {
    if (size < 1 || size > 9) {
      throw new IllegalArgumentException("cluster size must be 1..9, got " + size);
    }
    OsUser.makeTraversable(dir);
    // the owner's only: it holds the members' sockets, their patroni.yml, etcd's certificates and the logs
    OsUser.ownedDirectory(dir, true);
    OsUser.ownedDirectory(dir.resolve("logs"), true);
    LocalServerTls.issue(dir);
    EtcdProcess etcd = EtcdProcess.start(machine, dir, machine.freePort(), machine.freePort());
    PatroniCluster cluster = new PatroniCluster(machine, scope, dir, etcd, timing, parameters, secrets, binDir);
    try {
      cluster.addMember(seed);
      cluster.awaitLeader(Duration.ofSeconds(120));
      for (int i = 1; i < size; i++) {
        cluster.addMember();
      }
      cluster.awaitReady(Duration.ofSeconds(180));
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** The CA certificate PostgreSQL's certificate is issued by ({@code sslrootcert} for verify-full). */
  public Path serverCaFile() {
    return LocalServerTls.caFile(dir);
  }

  /** Adds and starts a member that bootstraps from the primary through Patroni. */
  public synchronized PatroniMember addMember() {
    return addMember(null);
  }

  private synchronized PatroniMember addMember(java.util.function.Consumer<Path> seed) {
    String name = scope + "-" + nextOrdinal++;
    PatroniMember m = PatroniMember.create(machine, scope, name, dir, machine.freePort(), machine.freePort(), etcd,
        timing, parameters, secrets, restCredentials, binDir);
    if (seed != null) {
      seed.accept(m.dataDir());
      OsUser.ownedDirectory(m.dataDir(), true);
    }
    members.put(name, m);
    m.start();
    save();
    return m;
  }

  /** Whether {@code dir} holds a cluster {@link #save()} described, so {@link #resume} can bring it back. */
  public static boolean exists(Path dir) {
    return java.nio.file.Files.exists(dir.resolve("cluster.json"));
  }

  /**
   * Starts a stopped cluster again from its directory: the same etcd data, ports, members, data directories and
   * credentials, so the data and the roles are as they were.
   */
  public static PatroniCluster resume(LocalMachine machine, Path dir, Duration timeout) {
    try {
      JsonObject state = new JsonObject(java.nio.file.Files.readString(dir.resolve("cluster.json")));
      ClusterSecrets secrets = ClusterSecrets.load(dir.resolve("secrets.json"));
      JsonObject t = state.getJsonObject("timing");
      PatroniTiming timing = new PatroniTiming(t.getInteger("ttl"), t.getInteger("loopWait"),
          t.getInteger("retryTimeout"), t.getLong("maximumLagOnFailover"), t.getBoolean("synchronousMode"));
      Map<String, String> parameters = new java.util.TreeMap<>();
      state.getJsonObject("parameters", new JsonObject()).forEach(e -> parameters.put(e.getKey(), (String) e.getValue()));
      // a cluster made by an earlier version may have 0755 directories: the owner's only from now on
      OsUser.ownedDirectory(dir, true);
      // a new certificate from the cluster's CA at every start (and a first one for a cluster made before TLS)
      LocalServerTls.issue(dir);
      EtcdProcess etcd = EtcdProcess.start(machine, dir, state.getInteger("etcdClientPort"),
          state.getInteger("etcdPeerPort"));
      PatroniCluster cluster = new PatroniCluster(machine, state.getString("scope"), dir, etcd, timing, parameters,
          secrets, state.getString("binDir", PatroniMember.BIN_DIR));
      cluster.nextOrdinal = state.getInteger("nextOrdinal");
      try {
        for (Object o : state.getJsonArray("members")) {
          JsonObject m = (JsonObject) o;
          PatroniMember member = PatroniMember.create(machine, cluster.scope, m.getString("name"), dir,
              m.getInteger("pgPort"), m.getInteger("restPort"), etcd, timing, parameters, secrets,
              cluster.restCredentials, cluster.binDir);
          cluster.members.put(member.name(), member);
          member.start();
        }
        cluster.awaitReady(timeout);
        return cluster;
      } catch (RuntimeException e) {
        cluster.close();
        throw e;
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read the cluster state in " + dir, e);
    }
  }

  /** Records what {@link #resume} needs; the credentials go to a separate 0600 file. */
  public synchronized void save() {
    JsonArray ms = new JsonArray();
    members.values().forEach(m -> ms.add(new JsonObject().put("name", m.name()).put("pgPort", m.pgPort())
        .put("restPort", m.restPort())));
    JsonObject state = new JsonObject().put("scope", scope).put("etcdClientPort", etcd.clientPort())
        .put("etcdPeerPort", etcd.peerPort()).put("nextOrdinal", nextOrdinal).put("members", ms)
        .put("timing", new JsonObject().put("ttl", timing.ttl()).put("loopWait", timing.loopWait())
            .put("retryTimeout", timing.retryTimeout()).put("maximumLagOnFailover", timing.maximumLagOnFailover())
            .put("synchronousMode", timing.synchronousMode()))
        .put("parameters", new JsonObject(new java.util.LinkedHashMap<>(parameters))).put("binDir", binDir);
    try {
      java.nio.file.Files.writeString(dir.resolve("cluster.json"), state.encodePrettily());
      secrets.save(dir.resolve("secrets.json"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot record the cluster state in " + dir, e);
    }
  }

  /** Stops a member and forgets it (its data directory stays unless the caller removes it). */
  public synchronized void removeMember(String name) {
    removeMember(name, false);
  }

  /** Stops a member and forgets it; {@code deleteData} also removes its directory (its "volume"). */
  public synchronized void removeMember(String name, boolean deleteData) {
    PatroniMember m = members.remove(name);
    if (m != null) {
      m.close();
      if (deleteData) {
        OsUser.deleteTree(m.dir());
      }
    }
    save();
  }

  public String scope() {
    return scope;
  }

  /** The PostgreSQL programs the members run. */
  public synchronized String binDir() {
    return binDir;
  }

  /**
   * Points every member at the programs in {@code newBinDir} (a major upgrade's switch): each {@code patroni.yml}
   * written again, taking effect at its Patroni's next start; recorded for {@link #resume}. Members must be stopped.
   */
  public synchronized void switchBinDir(String newBinDir) {
    for (PatroniMember m : new ArrayList<>(members.values())) {
      if (m.patroniAlive()) {
        throw new IllegalStateException(m.name() + "'s Patroni runs: stop every member before switching programs");
      }
      members.put(m.name(), PatroniMember.create(machine, scope, m.name(), dir, m.pgPort(), m.restPort(), etcd,
          timing, parameters, secrets, restCredentials, newBinDir));
    }
    binDir = newBinDir;
    save();
  }

  public Path dir() {
    return dir;
  }

  public ClusterSecrets secrets() {
    return secrets;
  }

  /** What Patroni's REST API demands of a request that changes state (every member has the same). */
  public BasicCredentials restCredentials() {
    return restCredentials;
  }

  public Path restPasswordFile() {
    return dir.resolve(REST_PASSWORD_FILE);
  }

  public PatroniTiming timing() {
    return timing;
  }

  public EtcdProcess etcd() {
    return etcd;
  }

  public synchronized List<PatroniMember> members() {
    return new ArrayList<>(members.values());
  }

  public synchronized PatroniMember member(String name) {
    PatroniMember m = members.get(name);
    if (m == null) {
      throw new IllegalArgumentException("no member " + name + " in " + members.keySet());
    }
    return m;
  }

  /** Patroni's {@code /cluster} view, from the first member that answers. */
  public Optional<JsonObject> clusterView() {
    for (PatroniMember m : members()) {
      try {
        PatroniRest.Answer a = m.rest().get("/cluster");
        if (a.status() == 200) {
          return Optional.of(a.json());
        }
      } catch (Exception e) {
        // try the next member
      }
    }
    return Optional.empty();
  }

  /** The member Patroni reports as leader and running, if any. */
  public Optional<PatroniMember> leader() {
    return clusterView().flatMap(view -> {
      for (Object o : view.getJsonArray("members", new JsonArray())) {
        JsonObject m = (JsonObject) o;
        if ("leader".equals(m.getString("role")) || "master".equals(m.getString("role"))
            || "primary".equals(m.getString("role"))) {
          if ("running".equals(m.getString("state"))) {
            return Optional.ofNullable(members.get(m.getString("name")));
          }
        }
      }
      return Optional.empty();
    });
  }

  public PatroniMember awaitLeader(Duration timeout) {
    Waits.until("a running Patroni leader in " + scope, timeout, () -> leader().isPresent(), this::diagnostics);
    return leader().orElseThrow();
  }

  /** Ready: a leader runs and every other member streams from it (per the leader's {@code /patroni}). */
  public void awaitReady(Duration timeout) {
    Waits.until("leader and " + (members().size() - 1) + " streaming replicas in " + scope, timeout, () -> {
      Optional<PatroniMember> leader = leader();
      if (leader.isEmpty()) {
        return false;
      }
      if (streamingReplicas(leader.get()) < members().size() - 1) {
        return false;
      }
      for (PatroniMember m : members()) {
        if (!"running".equals(m.rest().get("/patroni").json().getString("state"))) {
          return false;
        }
      }
      return true;
    }, this::diagnostics);
  }

  public int streamingReplicas(PatroniMember leader) throws Exception {
    JsonObject status = leader.rest().get("/patroni").json();
    int streaming = 0;
    for (Object o : status.getJsonArray("replication", new JsonArray())) {
      if ("streaming".equals(((JsonObject) o).getString("state"))) {
        streaming++;
      }
    }
    return streaming;
  }

  /** Changes Patroni's dynamic configuration ({@code PATCH /config}); Patroni applies it without a restart. */
  public void patchConfig(JsonObject patch) {
    Exception last = null;
    for (PatroniMember m : members()) {
      try {
        PatroniRest.Answer a = m.rest().patch("/config", patch);
        if (a.status() == 200) {
          return;
        }
        last = new IllegalStateException("PATCH /config answered " + a.status() + ": " + a.body());
      } catch (Exception e) {
        last = e;
      }
    }
    throw new IllegalStateException("no member accepted PATCH /config", last);
  }

  public String diagnostics() {
    StringBuilder sb = new StringBuilder("cluster view: ").append(clusterView().map(JsonObject::encode).orElse("none"));
    for (PatroniMember m : members()) {
      sb.append("\n--- ").append(m.name()).append(" log tail:\n").append(m.logTail(15));
    }
    return sb.toString();
  }

  @Override
  public synchronized void close() {
    // replicas first so the primary is not failed over during shutdown
    List<PatroniMember> order = new ArrayList<>(members.values());
    Optional<PatroniMember> leader = Optional.empty();
    try {
      leader = leader();
    } catch (RuntimeException e) {
      // none
    }
    leader.ifPresent(l -> {
      order.remove(l);
      order.add(l);
    });
    order.forEach(PatroniMember::close);
    members.clear();
    etcd.close();
  }
}
