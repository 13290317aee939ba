package io.pgtide.operator.k8s.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.operator.k8s.api.SecretPasswords;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.pgtide.operator.k8s.model.StandbyModel;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A standby cluster in another namespace than its source, reconciled against fabric8's mock API server: its Secrets
 * take the source's passwords, its pods carry Spilo's standby variables, and the source's NetworkPolicy admits it;
 * a source whose Secrets cannot be read stops the standby with a condition before anything else is made.
 */
@EnableKubernetesMockClient(crud = true)
class StandbyReconcileMockTest {
  static KubernetesClient client;
  static final CertificateAuthority CA = CertificateAuthority.create("test", Duration.ofDays(1));
  Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  static PostgresCluster cluster(String ns, String name, PostgresClusterSpec.StandbySpec standby) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().standby = standby;
    return ClusterReconcilerMockTest.applyTo(client, cr);
  }

  static PostgresClusterSpec.StandbySpec following(String source, String namespace) {
    PostgresClusterSpec.StandbySpec s = new PostgresClusterSpec.StandbySpec();
    s.source = source;
    s.sourceNamespace = namespace;
    return s;
  }

  static void await(io.vertx.core.Future<Void> f) throws Exception {
    f.toCompletionStage().toCompletableFuture().handle((v, e) -> null).get();
  }

  static String password(String ns, String secret) {
    return SecretPasswords.passwordOf(client.secrets().inNamespace(ns).withName(secret).get());
  }

  @Test
  void aStandbyTakesTheSourcesPasswordsAndTheSourceAdmitsIt() throws Exception {
    PostgresCluster source = cluster("shop", "orders", null);
    PostgresCluster early = cluster("dr", "early", following("missing", "shop"));
    List<PostgresCluster> all = new java.util.ArrayList<>();
    ClusterReconciler reconciler = new ClusterReconciler(vertx, client, OperatorConfig.DEFAULTS, CA)
        .standbysFrom((ns, name) -> StandbyModel.standbysOf(ns, name, all));

    await(reconciler.reconcile(early));
    var degraded = client.resources(PostgresCluster.class).inNamespace("dr").withName("early").get().getStatus()
        .conditions.stream().filter(c -> c.type.equals("Degraded")).findFirst().orElseThrow();
    assertThat(degraded.reason).isEqualTo("StandbySourceInvalid");
    assertThat(degraded.message).contains("shop/missing");
    assertThat(client.apps().statefulSets().inNamespace("dr").withName("early").get()).isNull();

    await(reconciler.reconcile(source));
    PostgresCluster standby = cluster("dr", "orders-dr", following("orders", "shop"));
    all.addAll(List.of(source, standby));
    await(reconciler.reconcile(standby));
    for (String user : List.of("postgres", "standby")) {
      String secret = io.pgtide.operator.users.UserSecrets.secretName(user, "orders-dr");
      assertThat(password("dr", secret)).as(user)
          .isEqualTo(password("shop", io.pgtide.operator.users.UserSecrets.secretName(user, "orders")));
    }
    StatefulSet sts = client.apps().statefulSets().inNamespace("dr").withName("orders-dr").get();
    List<EnvVar> env = sts.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    assertThat(env).anyMatch(e -> e.getName().equals("STANDBY_HOST") && e.getValue().equals("orders.shop.svc"));
    assertThat(env).anyMatch(e -> e.getName().equals("STANDBY_PRIMARY_SLOT_NAME")
        && e.getValue().equals("pgtide_standby_dr_orders_dr"));

    await(reconciler.reconcile(source)); // the operator reconciles the source when a standby of it comes
    NetworkPolicy np = client.network().v1().networkPolicies().inNamespace("shop").withName("orders").get();
    assertThat(np.getSpec().getIngress()).flatExtracting(rule -> rule.getFrom())
        .anyMatch(from -> from.getNamespaceSelector() != null && from.getPodSelector() != null
            && "dr".equals(from.getNamespaceSelector().getMatchLabels().get("kubernetes.io/metadata.name"))
            && "orders-dr".equals(from.getPodSelector().getMatchLabels().get("cluster-name")));
    assertThat(ClusterModel.superuserSecret("orders-dr")).isNotEqualTo(ClusterModel.superuserSecret("orders"));
  }
}
