package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.api.KubernetesEvents;
import io.pgtide.operator.k8s.api.KubernetesInfrastructure;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.common.crd.PostgresUser;
import io.pgtide.common.crd.PostgresUserSpec;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.operator.OperatorCore;
import io.pgtide.sidecar.SidecarConfig;
import io.pgtide.sidecar.SidecarVerticle;
import io.pgtide.sidecar.users.UserSync;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.TestDirs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The per-cluster controllers as they run on Kubernetes — fabric8's mock API server (CRUD) for the API, a real
 * Patroni primary with a real sidecar for the database: inline users and PostgresUser resources, passwords from
 * Secrets (referenced and generated), status and UsersSynced condition, PostgresUser statuses, Kubernetes Events,
 * and the RBAC the operator's calls need.
 */
@EnableKubernetesMockClient(crud = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesControllersIT {
  static final String NS = "kit";
  static final String AGENT = "pgtide-operator-under-test";
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(1);
  static KubernetesClient client;
  static KubernetesMockServer server;
  static KubernetesClient operatorClient;
  static OperatorCore core;
  static ClusterControllers controllers;
  static String name;
  static String key;
  static PatroniMember primary;

  @BeforeAll
  static void start() {
    // the operator's own client, told apart from the test's by its user agent for the RBAC check
    operatorClient = new KubernetesClientBuilder().withConfig(new ConfigBuilder(client.getConfiguration())
        .withUserAgent(AGENT).build()).build();
    name = pg.cluster().scope();
    key = NS + "/" + name;
    primary = pg.cluster().members().get(0);
    Path dir = TestDirs.create("k8s-controllers-it");
    CertificateAuthority ca = CertificateAuthority.create("pgtide-it-ca", Duration.ofDays(1));
    int hubPort = TestMachine.freePort();
    core = new OperatorCore(ca.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1)), "127.0.0.1",
        hubPort, v -> new KubernetesInfrastructure(v, operatorClient), 3_000).start("127.0.0.1", TestMachine.freePort(), TestMachine.freePort());
    controllers = new ClusterControllers(core, operatorClient, 3_600_000, 0,
        new io.pgtide.operator.users.ScramVerifier());
    new KubernetesEvents(core.vertx(), operatorClient, controllers::cluster).start();
    MemberId id = new MemberId(NS, name, primary.name());
    Path tls = ca.issue(id.toString(), List.of(), Duration.ofDays(1)).write(dir.resolve("tls"));
    SidecarConfig config = new SidecarConfig(id, "127.0.0.1", primary.pgPort(), "postgres",
        pg.cluster().secrets().superuserPassword(), "postgres", "http://127.0.0.1:" + primary.restPort(), "127.0.0.1",
        hubPort, tls, TestMachine.freePort(), 1000, 250, 1000).withPatroniCredentials(pg.cluster().restCredentials());
    core.vertx().deployVerticle(new SidecarVerticle(config, core.registry(), p -> new UserSync(core.vertx(), p)::apply))
        .await();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
  }

  @AfterAll
  static void stop() {
    if (core != null) {
      core.close();
    }
    if (operatorClient != null) {
      operatorClient.close();
    }
  }

  static PostgresClusterSpec.UserSpec user(String name) {
    PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
    u.name = name;
    return u;
  }

  static PostgresUser postgresUser(String resource, String cluster, String user) {
    PostgresUser u = new PostgresUser();
    u.setMetadata(new ObjectMetaBuilder().withName(resource).withNamespace(NS).build());
    u.setSpec(new PostgresUserSpec());
    u.getSpec().cluster = cluster;
    u.getSpec().name = user;
    return client.resources(PostgresUser.class).inNamespace(NS).resource(u).create();
  }

  static void secret(String name, String password) {
    client.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName(name).endMetadata()
        .addToData("password", Base64.getEncoder().encodeToString(password.getBytes(StandardCharsets.UTF_8)))
        .build()).createOr(r -> r.update());
  }

  static String generatedPassword(String user) {
    Secret s = client.secrets().inNamespace(NS).withName(io.pgtide.operator.users.UserSecrets.secretName(user, name)).get();
    assertThat(s).as("generated Secret of " + user).isNotNull();
    String v = s.getData() != null && s.getData().containsKey("password")
        ? new String(Base64.getDecoder().decode(s.getData().get("password")), StandardCharsets.UTF_8)
        : s.getStringData().get("password");
    return v;
  }

  static String login(String user, String password) {
    return Psql.query(primary.pgPort(), user, password, "postgres", "SELECT current_user");
  }

  static PostgresCluster cluster() {
    return client.resources(PostgresCluster.class).inNamespace(NS).withName(name).get();
  }

  static PostgresClusterStatus.Condition condition(String type) {
    return cluster().getStatus().conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElse(null);
  }

  static List<String> operatorRequests() throws Exception {
    List<String> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      if (AGENT.equals(r.getHeader("User-Agent"))) {
        out.add(r.getMethod() + " " + r.getPath());
      }
    }
    return out;
  }

  static void syncAndWriteStatus() {
    controllers.ensure(cluster());
    controllers.users(key).sync(false).await();
    controllers.writeStatus(key).await();
  }

  @Test
  @Order(1)
  void usersFromTheClusterAndPostgresUsersSyncWithSecretsStatusAndEvents() throws Exception {
    secret("bob-secret", "bob-password-1");
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    cr.setSpec(new PostgresClusterSpec());
    PostgresClusterSpec.UserSpec bob = user("bob");
    bob.passwordSecret = new PostgresClusterSpec.SecretKeyRef();
    bob.passwordSecret.name = "bob-secret";
    PostgresClusterSpec.UserSpec ghost = user("ghost");
    ghost.passwordSecret = new PostgresClusterSpec.SecretKeyRef();
    ghost.passwordSecret.name = "no-such-secret";
    cr.getSpec().users = new ArrayList<>(List.of(user("alice"), bob, ghost));
    client.resources(PostgresCluster.class).inNamespace(NS).resource(cr).create();
    postgresUser("carol-user", name, "carol");
    postgresUser("alice-again", name, "alice");
    postgresUser("lost-user", "no-such-cluster", "dave");
    new ClusterReconciler(core.vertx(), operatorClient, OperatorConfig.DEFAULTS, CertificateAuthority.create("t",
        Duration.ofDays(1))).reconcile(cluster()).await();
    controllers.ensure(cluster());
    client.resources(PostgresUser.class).inNamespace(NS).list().getItems().forEach(u -> controllers.userChanged(u)
        .await());
    await().atMost(Duration.ofSeconds(30)).until(() -> core.state().view(key).primary().isPresent());

    syncAndWriteStatus();

    assertThat(login("alice", generatedPassword("alice"))).isEqualTo("alice");
    assertThat(generatedPassword("alice")).hasSizeGreaterThanOrEqualTo(24);
    assertThat(login("bob", "bob-password-1")).isEqualTo("bob");
    assertThat(login("carol", generatedPassword("carol"))).as("a PostgresUser's role").isEqualTo("carol");
    PostgresClusterStatus status = cluster().getStatus();
    assertThat(status.users.failed).extracting(f -> f.name).containsExactly("ghost");
    assertThat(status.users.failed.get(0).reason).contains("no-such-secret").contains("not found");
    assertThat(status.users.synced).isEqualTo(3);
    assertThat(condition("UsersSynced").status).isEqualTo("False");
    assertThat(condition("UsersSynced").message).contains("ghost");
    assertThat(condition("Degraded").status).as("the reconciler's condition is kept").isEqualTo("False");
    // a live primary, but a mock server runs no endpoints controller: the Service does not route, so not Ready
    assertThat(condition("Ready").status).isEqualTo("False");
    assertThat(condition("Ready").reason).isEqualTo("PrimaryNotRouted");
    assertThat(status.primary).isEqualTo(primary.name());
    assertThat(status.members).extracting(m -> m.name + ":" + m.role + ":" + m.ready)
        .containsExactly(primary.name() + ":primary:true");
    assertThat(client.resources(PostgresUser.class).inNamespace(NS).withName("carol-user").get().getStatus().state)
        .isEqualTo("Synced");
    var dup = client.resources(PostgresUser.class).inNamespace(NS).withName("alice-again").get().getStatus();
    assertThat(dup.state).isEqualTo("Failed");
    assertThat(dup.reason).contains("already declared by the PostgresCluster");
    var lost = client.resources(PostgresUser.class).inNamespace(NS).withName("lost-user").get().getStatus();
    assertThat(lost.state).isEqualTo("Failed");
    assertThat(lost.reason).contains("no-such-cluster").contains("not found");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(client.v1().events().inNamespace(NS).list()
        .getItems()).anySatisfy(e -> {
          assertThat(e.getReason()).isEqualTo("UsersNotSynced");
          assertThat(e.getInvolvedObject().getName()).isEqualTo(name);
          assertThat(e.getType()).isEqualTo("Warning");
        }));
    String everything = io.fabric8.kubernetes.client.utils.Serialization.asJson(cluster())
        + io.fabric8.kubernetes.client.utils.Serialization.asJson(client.v1().events().inNamespace(NS).list());
    assertThat(everything).doesNotContain("bob-password-1").doesNotContain(generatedPassword("alice"))
        .doesNotContain("SCRAM-SHA-256");

    // a changed Secret rotates the password; removing the bad user makes the condition true
    secret("bob-secret", "bob-password-2");
    PostgresCluster fixed = cluster();
    fixed.getSpec().users.removeIf(u -> u.name.equals("ghost"));
    client.resources(PostgresCluster.class).inNamespace(NS).resource(fixed).update();
    syncAndWriteStatus();
    assertThat(login("bob", "bob-password-2")).isEqualTo("bob");
    assertThatThrownBy(() -> login("bob", "bob-password-1")).hasMessageContaining("password authentication failed");
    assertThat(condition("UsersSynced").status).isEqualTo("True");
    assertThat(cluster().getStatus().users.failed).isEmpty();

    List<String> denied = RbacCheck.denied(Path.of("..", "manifests", "rbac", "clusterrole.yaml"), operatorRequests());
    assertThat(denied).as("calls the ClusterRole does not allow").isEmpty();
  }

  @Test
  @Order(2)
  void theAutoscalersMemberCountGoesToStatusAndTheReconcilerKeepsIt() throws Exception {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("scaled").withNamespace(NS).build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().replicas = 1;
    cr.getSpec().autoscaling.enabled = true;
    cr.getSpec().autoscaling.minReplicas = 1;
    cr.getSpec().autoscaling.maxReplicas = 3;
    client.resources(PostgresCluster.class).inNamespace(NS).resource(cr).create();
    ClusterReconciler reconciler = new ClusterReconciler(core.vertx(), operatorClient, OperatorConfig.DEFAULTS,
        CertificateAuthority.create("t", Duration.ofDays(1)));
    java.util.function.Supplier<PostgresCluster> fresh = () -> client.resources(PostgresCluster.class).inNamespace(NS)
        .withName("scaled").get();
    reconciler.reconcile(fresh.get()).await();
    var sts = client.apps().statefulSets().inNamespace(NS).withName("scaled");
    assertThat(sts.get().getSpec().getReplicas()).isEqualTo(1);

    new KubernetesInfrastructure(core.vertx(), operatorClient).scale(NS + "/scaled", 2).await();
    assertThat(fresh.get().getStatus().desiredReplicas).isEqualTo(2);
    assertThat(fresh.get().getSpec().replicas).as("spec is the user's (GitOps)").isEqualTo(1);
    assertThat(sts.get().getSpec().getReplicas()).isEqualTo(2);
    reconciler.reconcile(fresh.get()).await();
    assertThat(sts.get().getSpec().getReplicas()).as("a reconcile keeps the autoscaler's count").isEqualTo(2);
    assertThat(fresh.get().getStatus().replicas).isEqualTo(2);

    PostgresCluster off = fresh.get();
    off.getSpec().autoscaling.enabled = false;
    client.resources(PostgresCluster.class).inNamespace(NS).resource(off).update();
    // the write itself is a server-side apply, which the mock server does not implement (RollingK8sE2E and
    // ClusterK8sE2E apply such changes on a real API server): here the desired count
    assertThat(ClusterModel.statefulSet(fresh.get(), OperatorConfig.DEFAULTS).getSpec().getReplicas())
        .as("without autoscaling spec.replicas rules").isEqualTo(1);

    List<String> denied = RbacCheck.denied(Path.of("..", "manifests", "rbac", "clusterrole.yaml"), operatorRequests());
    assertThat(denied).as("calls the ClusterRole does not allow").isEmpty();
  }

  @Test
  @Order(3)
  void aParameterThatNeedsARestartIsRolledOutAndShownAsProgressing() {
    String password = pg.cluster().secrets().superuserPassword();
    int before = Integer.parseInt(Psql.query(primary.pgPort(), "postgres", password, "postgres",
        "SHOW max_connections"));
    String after = Integer.toString(before + 20);
    PostgresCluster cr = cluster();
    cr.getSpec().parameters = new java.util.LinkedHashMap<>(java.util.Map.of("max_connections", after));
    client.resources(PostgresCluster.class).inNamespace(NS).resource(cr).update();
    controllers.ensure(cluster());
    controllers.patroniConfig(key).apply().await();
    List<String> progressing = new java.util.concurrent.CopyOnWriteArrayList<>();
    // the controllers' own 5 s loop: status, rolling update (none here), then the pending restart
    // psql is refused while PostgreSQL restarts
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
        .ignoreExceptionsInstanceOf(IllegalStateException.class).until(() -> {
      PostgresClusterStatus.Condition c = condition("Progressing");
      if (c != null) {
        progressing.add(c.status + "/" + c.reason);
      }
      // the whole sequence, not a moment of it: a restart can finish before the next status write, when the
      // status still says False from before it (the status shows a step one loop after it was taken)
      return progressing.contains("True/RestartPending")
          && after.equals(Psql.query(primary.pgPort(), "postgres", password, "postgres", "SHOW max_connections"))
          && c != null && "False".equals(c.status);
    });
    assertThat(progressing).contains("True/RestartPending");
    assertThat(client.v1().events().inNamespace(NS).list().getItems())
        .extracting(io.fabric8.kubernetes.api.model.Event::getReason).contains("RestartStarted", "Restarted");
  }

  @Test
  @Order(4)
  void monitoringPushgatewayIsPushedToOnKubernetesTooAndCleanedUpWhenRemoved() throws Exception {
    try (io.pgtide.testkit.PushgatewayProcess gateway = io.pgtide.testkit.PushgatewayProcess.start(
        TestDirs.create("k8s-pushgateway"))) {
      PostgresCluster cr = cluster();
      cr.getSpec().monitoring = new PostgresClusterSpec.MonitoringSpec();
      cr.getSpec().monitoring.pushgateway = gateway.url();
      cr.getSpec().monitoring.pushIntervalSeconds = 1;
      client.resources(PostgresCluster.class).inNamespace(NS).resource(cr).update();
      controllers.ensure(cluster());
      await().atMost(Duration.ofSeconds(30)).until(() -> gateway.metricsApi().contains("pgtide_cluster_members")
          && gateway.metricsApi().contains("\"cluster\":\"" + name + "\""));
      cr = cluster();
      cr.getSpec().monitoring = null;
      client.resources(PostgresCluster.class).inNamespace(NS).resource(cr).update();
      controllers.ensure(cluster());
      await().atMost(Duration.ofSeconds(30)).until(() -> !gateway.metricsApi().contains("pgtide_cluster_members"));
    }
  }
}
