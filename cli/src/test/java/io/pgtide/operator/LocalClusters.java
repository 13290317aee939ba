package io.pgtide.operator;

import io.pgtide.testkit.TestMachine;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.Psql;
import io.pgtide.cli.local.LocalRunner;
import io.pgtide.testkit.TestDirs;
import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;

/** Local-mode clusters for tests: a real etcd + Patroni cluster, sidecar processes and the operator. */
public final class LocalClusters {
  private LocalClusters() {
  }

  public static PostgresCluster resource(String name, int replicas, boolean synchronous) {
    PostgresCluster c = new PostgresCluster();
    c.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.postgresVersion = 15;
    spec.replicas = replicas;
    spec.patroni.ttl = 10;
    spec.patroni.loopWait = 2;
    spec.patroni.retryTimeout = 4;
    spec.patroni.synchronousMode = synchronous;
    spec.failoverDelaySeconds = 5;
    PostgresClusterSpec.UserSpec alice = new PostgresClusterSpec.UserSpec();
    alice.name = "alice";
    alice.memberOf = List.of("readers");
    PostgresClusterSpec.UserSpec readers = new PostgresClusterSpec.UserSpec();
    readers.name = "readers";
    readers.login = false;
    spec.users = new java.util.ArrayList<>(List.of(alice, readers));
    c.setSpec(spec);
    return c;
  }

  public static LocalRunner up(PostgresCluster resource) {
    return up(resource, io.pgtide.common.process.PgBin::localDir);
  }

  /** The same, with each major's programs where {@code binDirs} says (PostgreSQL 17 from its loader, say). */
  public static LocalRunner up(PostgresCluster resource, java.util.function.IntFunction<String> binDirs) {
    LocalRunner runner = new LocalRunner(TestMachine.get(), resource, TestDirs.create(resource.getMetadata().getName()),
        msg -> System.out.println("[local] " + msg), binDirs);
    try {
      runner.up(0, 0, 0);
      int replicas = resource.getSpec().replicas - 1;
      await().atMost(Duration.ofSeconds(90)).until(() -> runner.core().state().view(runner.clusterKey()).primary()
          .isPresent() && runner.core().state().view(runner.clusterKey()).healthyReplicas().size() == replicas
          && runner.core().failover().endpoint(runner.clusterKey()).isPresent());
      return runner;
    } catch (RuntimeException | Error e) {
      runner.close();
      throw e;
    }
  }

  public static String superuserPassword(LocalRunner runner) {
    return runner.infra().cluster().secrets().superuserPassword();
  }

  /** SQL through the primary endpoint as the superuser. */
  public static String primarySql(LocalRunner runner, String sql) {
    return Psql.query(runner.primaryPort(), "postgres", superuserPassword(runner), "postgres", sql);
  }

  public static String memberSql(LocalRunner runner, String member, String sql) {
    return Psql.query(runner.infra().cluster().member(member).pgPort(), "postgres", superuserPassword(runner),
        "postgres", sql);
  }
}
