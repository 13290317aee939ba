package io.pgtide.operator.k8s.api;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.PoolerModel;
import io.pgtide.operator.k8s.model.ServerCertificates;
import io.pgtide.operator.metrics.PoolerMetrics;
import io.pgtide.operator.pooler.PoolStats;
import io.pgtide.operator.pooler.PoolerSql;
import io.pgtide.common.cluster.ClusterKey;
import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.operator.users.ScramVerifier;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster's {@code spec.pooler} at run time, on the leader, every {@code pollMs}:
 * <ol>
 *   <li>on the primary (its Service, verify-full against {@code <c>-ca}, as the superuser): {@value PoolerSql#ROLE}
 *   with the SCRAM verifier of the password in {@code <c>-pooler}, once per operator run, then
 *   {@code pgtide_pooler.user_lookup} in each database taking connections that has not had it yet. PgBouncer 1.18 has
 *   no {@code auth_dbname}, so each database needs its own; a new one gets it at the next poll. The contract's user
 *   sync runs no SQL per database, so this goes to PostgreSQL directly, like the backup agent does;</li>
 *   <li>on each PgBouncer pod (its IP: the Service would answer from another pod each time, and each keeps its own
 *   pools), {@code SHOW POOLS} and {@code SHOW STATS} on the admin console as {@value PoolerSql#ROLE}, with the
 *   simple query protocol (the console supports no other), into {@link PoolerMetrics}. The pod IP is not a name the
 *   pooler's certificate carries, so the chain is checked against the cluster's own CA (verify-ca): only that
 *   cluster's pooler holds a certificate from it.</li>
 * </ol>
 * A failure is logged with the cluster's name and retried at the next poll; passwords are never logged.
 */
public final class PoolerClient {
  private static final Logger LOG = LoggerFactory.getLogger(PoolerClient.class);
  /** A database dropped and created again under its name lacks the function: every database again this often. */
  static final long RESCAN_MS = 10 * 60_000;
  static final int CONNECT_TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final KubernetesClient client;
  private final PoolerMetrics metrics;
  private final Supplier<PostgresCluster> cluster;
  private final String namespace;
  private final String name;
  private final String key;
  /** Whether the role has been set in this run; the databases that have the function (event loop only). */
  private boolean roleReady;
  private final Set<String> ready = new HashSet<>();
  private long readySince;
  private boolean polling;
  private long timer = -1;

  public PoolerClient(Vertx vertx, KubernetesClient client, PoolerMetrics metrics, Supplier<PostgresCluster> cluster) {
    this.vertx = vertx;
    this.client = client;
    this.metrics = metrics;
    this.cluster = cluster;
    this.namespace = cluster.get().getMetadata().getNamespace();
    this.name = cluster.get().getMetadata().getName();
    this.key = ClusterKey.text(namespace, name);
  }

  public PoolerClient start(long pollMs) {
    timer = vertx.setPeriodic(0, pollMs, t -> poll());
    return this;
  }

  public void stop() {
    vertx.cancelTimer(timer);
    metrics.forget(key);
  }

  /** What one poll needs from the API server. */
  record Inputs(String poolerPassword, String superuserPassword, String caPem, Map<PoolerModel.Kind, List<Pod>> pods) {
  }

  private void poll() {
    if (polling) {
      return; // the last poll is still waiting for a slow server: never two at once
    }
    polling = true;
    PostgresCluster cr = cluster.get();
    Blocking.call(vertx, () -> inputs(cr))
        .compose(in -> prepare(in).recover(e -> {
          ClusterLog.of(LOG, namespace, name).warn("pooler: the role or lookup function on the primary is not "
              + "ready, retrying: {}", e.getMessage());
          return Future.succeededFuture();
        }).compose(v -> statistics(in)))
        .onFailure(e -> ClusterLog.of(LOG, namespace, name).warn("pooler: poll failed: {}", e.getMessage()))
        .onComplete(ar -> polling = false);
  }

  private Inputs inputs(PostgresCluster cr) {
    var poolerSecret = client.secrets().inNamespace(namespace).withName(PoolerModel.sharedName(name)).get();
    var superuser = client.secrets().inNamespace(namespace).withName(ClusterModel.superuserSecret(name)).get();
    var ca = client.configMaps().inNamespace(namespace).withName(ServerCertificates.caConfigMap(name)).get();
    if (poolerSecret == null || superuser == null || ca == null || ca.getData() == null) {
      throw new IllegalStateException("the pooler's Secret, the superuser's or " + ServerCertificates.caConfigMap(name)
          + " is not there yet");
    }
    Map<PoolerModel.Kind, List<Pod>> pods = new LinkedHashMap<>();
    for (PoolerModel.Kind kind : PoolerModel.kinds(cr)) {
      pods.put(kind, client.pods().inNamespace(namespace).withLabels(PoolerModel.labels(name, kind)).list()
          .getItems().stream().filter(p -> p.getStatus() != null && p.getStatus().getPodIP() != null
              && "Running".equals(p.getStatus().getPhase())).toList());
    }
    return new Inputs(SecretPasswords.passwordOf(poolerSecret), SecretPasswords.passwordOf(superuser),
        ca.getData().get(ServerCertificates.CA_KEY), pods);
  }

  /** The role once per run, then the function in each database that lacks it. */
  private Future<Void> prepare(Inputs in) {
    if (io.pgtide.operator.k8s.model.StandbyModel.following(cluster.get())) {
      // a standby is read-only: the role and functions come with the source's data (when the source has a pooler)
      return Future.succeededFuture();
    }
    if (System.currentTimeMillis() - readySince > RESCAN_MS) {
      ready.clear();
      readySince = System.currentTimeMillis();
    }
    Future<Void> role = roleReady ? Future.succeededFuture()
        : vertx.executeBlocking(() -> new ScramVerifier().verifierFor(PoolerSql.ROLE, in.poolerPassword(), null),
                false)
            .compose(verifier -> onPrimary(in, "postgres", PoolerSql.role(verifier)))
            .map(v -> {
              roleReady = true;
              ClusterLog.of(LOG, namespace, name).info("pooler: role {} set on the primary", PoolerSql.ROLE);
              return null;
            });
    return role
        .compose(v -> onPrimary(in, "postgres", "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn "
            + "AND NOT datistemplate ORDER BY 1"))
        .compose(rows -> {
          Future<Void> chain = Future.succeededFuture();
          for (Row r : rows) {
            String db = r.getString(0);
            if (!ready.contains(db)) {
              chain = chain.compose(x -> onPrimary(in, db, PoolerSql.lookupFunction()).map(y -> {
                ready.add(db);
                return null;
              }));
            }
          }
          return chain;
        });
  }

  private Future<RowSet<Row>> onPrimary(Inputs in, String database, String sql) {
    PgConnectOptions options = options(ServerCertificates.commonName(namespace, name), database, "postgres",
        in.superuserPassword(), in.caPem(), SslMode.VERIFY_FULL);
    // bounded as the sidecar's statements are: a lock held elsewhere fails it instead of leaving it pending
    options.addProperty("statement_timeout", "30000").addProperty("lock_timeout", "5000");
    return once(options, sql);
  }

  private Future<Void> statistics(Inputs in) {
    List<Future<Void>> all = new ArrayList<>();
    for (var e : in.pods().entrySet()) {
      String pooler = e.getKey().component();
      Set<String> answered = java.util.concurrent.ConcurrentHashMap.newKeySet();
      List<Future<Void>> pods = new ArrayList<>();
      for (Pod pod : e.getValue()) {
        PgConnectOptions options = options(pod.getStatus().getPodIP(), "pgbouncer", PoolerSql.ROLE,
            in.poolerPassword(), PoolerModel.clientTls(cluster.get()) ? in.caPem() : null, SslMode.VERIFY_CA);
        String podName = pod.getMetadata().getName();
        pods.add(connect(options).compose(conn -> conn.query("SHOW POOLS").execute()
                .compose(pools -> conn.query("SHOW STATS").execute().map(stats -> PoolStats.samples(rows(pools),
                    rows(stats))))
                .eventually(conn::close))
            .map(samples -> {
              metrics.update(key, pooler, podName, samples);
              answered.add(podName);
              return (Void) null;
            })
            .recover(err -> {
              ClusterLog.of(LOG, namespace, name).warn("pooler: pod {} did not give its statistics: {}", podName,
                  err.getMessage());
              return Future.succeededFuture();
            }));
      }
      all.add(Future.join(pods).transform(ar -> {
        metrics.keepOnly(key, pooler, answered);
        return Future.<Void>succeededFuture();
      }));
    }
    for (PoolerModel.Kind kind : PoolerModel.Kind.values()) {
      if (!in.pods().containsKey(kind)) {
        metrics.keepOnly(key, kind.component(), Set.of());
      }
    }
    return Future.join(all).mapEmpty();
  }

  /**
   * Connection options for PostgreSQL or PgBouncer. Only startup parameters PgBouncer knows: it refuses a login
   * with any other (vertx-pg-client's defaults include IntervalStyle), and the admin console takes none at all
   * beyond these. {@code caPem} null: no TLS (the pooler has no certificate when {@code spec.tls} is the user's).
   */
  PgConnectOptions options(String host, String database, String user, String password, String caPem, SslMode mode) {
    Map<String, String> properties = new HashMap<>();
    properties.put("application_name", "pgtide-operator");
    properties.put("client_encoding", "utf8");
    properties.put("DateStyle", "ISO");
    PgConnectOptions o = new PgConnectOptions().setHost(host).setPort(5432).setDatabase(database).setUser(user)
        .setPassword(password).setProperties(properties);
    if (caPem == null) {
      return o.setSslMode(SslMode.DISABLE);
    }
    ClientSSLOptions ssl = new ClientSSLOptions().setTrustOptions(TlsMaterial.trusting(caPem))
        .setHostnameVerificationAlgorithm(mode == SslMode.VERIFY_FULL ? "HTTPS" : "");
    return o.setSslMode(mode).setSslOptions(ssl);
  }

  /** One statement (or a script: the simple query protocol runs several) on a connection of its own. */
  private Future<RowSet<Row>> once(PgConnectOptions options, String sql) {
    return connect(options).compose(conn -> conn.query(sql).execute().eventually(conn::close));
  }

  /**
   * A connection within {@value #CONNECT_TIMEOUT_MS} ms (a pod gone without a reset would hold a poll for minutes);
   * one that succeeds only after that is closed at once.
   */
  private Future<PgConnection> connect(PgConnectOptions options) {
    io.vertx.core.Promise<PgConnection> result = io.vertx.core.Promise.promise();
    long timeout = vertx.setTimer(CONNECT_TIMEOUT_MS, t -> result.tryFail("no connection to " + options.getHost()
        + " within " + CONNECT_TIMEOUT_MS + " ms"));
    PgConnection.connect(vertx, options).onComplete(ar -> {
      vertx.cancelTimer(timeout);
      if (ar.succeeded() && !result.tryComplete(ar.result())) {
        ar.result().close();
      } else if (ar.failed()) {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  /** Rows as column name to text, as {@link PoolStats} reads them. */
  static List<Map<String, String>> rows(RowSet<Row> rs) {
    List<String> columns = rs.columnsNames();
    List<Map<String, String>> out = new ArrayList<>();
    for (Row r : rs) {
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < columns.size(); i++) {
        Object v = r.getValue(i);
        row.put(columns.get(i), v == null ? null : String.valueOf(v));
      }
      out.add(row);
    }
    return out;
  }
}
