package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.local.process.Signals;
import io.pgtide.operator.LocalClusters;
import io.pgtide.operator.pooler.PoolStats;
import io.pgtide.operator.pooler.PoolerSql;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Local mode's {@code spec.pooler} on real processes (#32): a declared user logs in through PgBouncer with its own
 * password (auth_query through pgtide_pooler's lookup function), over TLS both ways; SHOW POOLS and SHOW STATS read
 * through {@link PoolStats} count what went through; after a switchover the same PgBouncer process (a reload, no
 * restart) takes new connections to the new primary, and a client connection opened before it keeps working.
 */
class PoolerIT {

  static PostgresCluster resource() {
    PostgresCluster c = LocalClusters.resource("pooled", 2, false);
    PostgresClusterSpec.DatabaseSpec app = new PostgresClusterSpec.DatabaseSpec();
    app.name = "app";
    app.owner = "alice";
    c.getSpec().databases = new java.util.ArrayList<>(List.of(app));
    c.getSpec().pooler = new PostgresClusterSpec.PoolerSpec();
    c.getSpec().pooler.defaultPoolSize = 5;
    return c;
  }

  @Test
  void aDeclaredUserPoolsThroughPgBouncerAcrossASwitchover() throws Exception {
    LocalRunner runner = LocalClusters.up(resource());
    Vertx vertx = Vertx.vertx();
    PgConnection held = null;
    try {
      LocalPooler pooler = runner.pooler();
      assertThat(pooler).as("spec.pooler starts PgBouncer").isNotNull();
      int port = pooler.port();
      long pid = pooler.pid();
      String alice = runner.password("alice");

      // the user and its database are made by the user sync, the lookup function by the pooler's scan
      await("alice logs in through PgBouncer").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
          .ignoreExceptions()
          .until(() -> Psql.query("127.0.0.1", port, "alice", alice, "app", "SELECT current_user"), "alice"::equals);
      assertThatThrownBy(() -> Psql.query("127.0.0.1", port, "alice", alice + "x", "app", "SELECT 1"))
          .as("a wrong password").hasMessageContaining("authentication failed");
      assertThatThrownBy(() -> Psql.query("127.0.0.1", port, "postgres",
          LocalClusters.superuserPassword(runner), "app", "SELECT 1"))
          .as("the lookup never returns a superuser's verifier").hasMessageContaining("no such user");
      // no one but pgtide_pooler may call the lookup
      assertThatThrownBy(() -> Psql.query(runner.primaryPort(), "alice", alice, "app",
          "SELECT passwd FROM pgtide_pooler.user_lookup('postgres')")).hasMessageContaining("permission denied");
      // idempotent: the pooler ran it at start; again changes nothing that breaks a login
      LocalClusters.primarySql(runner, PoolerSql.lookupFunction());
      assertThat(Psql.query("127.0.0.1", port, "alice", alice, "app", "SELECT 1")).isEqualTo("1");

      // TLS both ways: the client to PgBouncer, and PgBouncer to PostgreSQL (verify-full with the cluster's CA)
      assertThat(Psql.query("127.0.0.1", port, "alice", alice, "app", "SELECT 1", "require")).isEqualTo("1");
      assertThat(Psql.query("127.0.0.1", port, "alice", alice, "app",
          "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", "disable")).as("PgBouncer's server side")
          .isEqualTo("t");

      // statistics: N transactions through it show in SHOW STATS' counters
      double before = PoolStats.total(samples(pooler), PoolStats.TRANSACTIONS).orElseThrow();
      int n = 15;
      for (int i = 0; i < n; i++) {
        Psql.query("127.0.0.1", port, "alice", alice, "app", "SELECT " + i);
      }
      await("SHOW STATS counts the " + n + " transactions").atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> PoolStats.total(samples(pooler), PoolStats.TRANSACTIONS).orElseThrow() >= before + n);
      List<PoolStats.Sample> now = samples(pooler);
      System.out.println("[pooler-it] " + now);
      assertThat(now).filteredOn(s -> s.labels().equals(Map.of("database", "app", "user", "alice")))
          .extracting(PoolStats.Sample::name)
          .contains(PoolStats.CLIENTS_ACTIVE, PoolStats.CLIENTS_WAITING, PoolStats.SERVERS_IDLE, PoolStats.MAX_WAIT);
      assertThat(PoolStats.total(now, PoolStats.CLIENTS_WAITING)).hasValue(0);
      assertThat(PoolStats.total(now, PoolStats.QUERIES).orElseThrow()).isGreaterThanOrEqualTo(n);
      double servers = PoolStats.total(now, PoolStats.SERVERS_IDLE).orElse(0) + PoolStats.total(now,
          PoolStats.SERVERS_USED).orElse(0) + PoolStats.total(now, PoolStats.SERVERS_ACTIVE).orElse(0);
      assertThat(servers).as("server connections kept for reuse, at most the pool size per pool")
          .isBetween(1.0, 5.0 * 2);

      // a client connection held open across the switchover (simple queries: transaction pooling)
      held = PgConnection.connect(vertx, new PgConnectOptions().setHost("127.0.0.1").setPort(port)
          .setUser("alice").setPassword(alice).setDatabase("app")
          // only startup parameters PgBouncer tracks (it refuses others it is not told to ignore)
          .setProperties(Map.of("application_name", "pooler-it", "client_encoding", "UTF8", "DateStyle", "ISO")))
          .await();
      assertThat(held.query("SELECT NOT pg_is_in_recovery()").execute().await().iterator().next().getBoolean(0))
          .isTrue();

      var cluster = runner.infra().cluster();
      PatroniMember old = cluster.leader().orElseThrow();
      PatroniMember next = cluster.members().stream().filter(m -> !m.name().equals(old.name())).findFirst()
          .orElseThrow();
      assertThat(pooler.target()).isEqualTo(old.pgPort());
      long asked = System.nanoTime();
      runner.core().failover().switchover(runner.clusterKey(), next.name()).await();

      await("a new connection through the same PgBouncer reaches the new primary").atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
          .until(() -> Psql.query("127.0.0.1", port, "alice", alice, "app",
              "SELECT NOT pg_is_in_recovery() AND inet_server_port() = " + next.pgPort()), "t"::equals);
      System.out.println("[pooler-it] a new connection through PgBouncer reached the new primary "
          + (System.nanoTime() - asked) / 1_000_000 + " ms after the switchover was asked for");
      assertThat(pooler.pid()).as("reloaded, not restarted").isEqualTo(pid);
      assertThat(Signals.alive(pid)).isTrue();
      assertThat(pooler.target()).isEqualTo(next.pgPort());
      PgConnection client = held;
      await("the client connection held across it reaches the new primary").atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
          .until(() -> client.query("SELECT NOT pg_is_in_recovery() AND inet_server_port() = " + next.pgPort())
              .execute().await().iterator().next().getBoolean(0));
    } finally {
      if (held != null) {
        held.close();
      }
      vertx.close().await();
      runner.close();
    }
  }

  static List<PoolStats.Sample> samples(LocalPooler pooler) {
    return PoolStats.samples(pooler.show("SHOW POOLS"), pooler.show("SHOW STATS"));
  }
}
