package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.k8s.model.PoolerModel.Kind;
import io.pgtide.operator.pooler.PoolerSql;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** spec.pooler's objects on Kubernetes: names, labels that never select members, TLS files, PDB and policy. */
class PoolerModelTest {

  static PostgresCluster cluster(boolean replicas) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("u-orders").build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().pooler = new PostgresClusterSpec.PoolerSpec();
    cr.getSpec().pooler.instances = 3;
    cr.getSpec().pooler.replicas = replicas;
    cr.getSpec().pooler.resources.put("requests", new LinkedHashMap<>(Map.of("cpu", "100m", "memory", "64Mi")));
    cr.getSpec().pooler.resources.put("limits", new LinkedHashMap<>(Map.of("memory", "128Mi")));
    return cr;
  }

  static Map<String, String> ini(String text) {
    return text.lines().filter(l -> l.contains(" = ")).collect(Collectors.toMap(l -> l.substring(0, l.indexOf(" = ")),
        l -> l.substring(l.indexOf(" = ") + 3), (a, b) -> b));
  }

  @Test
  void withoutSpecPoolerThereIsNothing() {
    PostgresCluster cr = cluster(false);
    cr.getSpec().pooler = null;
    assertThat(PoolerModel.kinds(cr)).isEmpty();
    assertThat(PoolerModel.named(cr, OperatorConfig.DEFAULTS)).isEmpty();
  }

  @Test
  void namesEveryObjectAndOwnsIt() {
    List<HasMetadata> objects = PoolerModel.named(cluster(true), OperatorConfig.DEFAULTS);
    assertThat(objects).extracting(o -> o.getKind() + "/" + o.getMetadata().getName()).containsExactlyInAnyOrder(
        "Secret/orders-pooler", "Secret/orders-pooler-tls", "ConfigMap/orders-pooler", "NetworkPolicy/orders-pooler",
        "Service/orders-pooler", "PodDisruptionBudget/orders-pooler", "Deployment/orders-pooler",
        "Service/orders-pooler-repl", "PodDisruptionBudget/orders-pooler-repl", "Deployment/orders-pooler-repl");
    for (HasMetadata o : objects) {
      assertThat(o.getMetadata().getNamespace()).isEqualTo("shop");
      assertThat(o.getMetadata().getOwnerReferences()).singleElement().satisfies(ref -> {
        assertThat(ref.getUid()).isEqualTo("u-orders");
        assertThat(ref.getController()).isTrue();
      });
    }
    assertThat(PoolerModel.named(cluster(false), OperatorConfig.DEFAULTS))
        .extracting(o -> o.getMetadata().getName()).doesNotContain("orders-pooler-repl");
  }

  @Test
  void noPoolerLabelOrSelectorMatchesTheMembers() {
    PostgresCluster cr = cluster(true);
    Map<String, String> members = MemberSelector.of("orders").labels();
    for (HasMetadata o : PoolerModel.named(cr, OperatorConfig.DEFAULTS)) {
      assertThat(o.getMetadata().getLabels()).doesNotContainKeys("application", "cluster-name");
    }
    for (Kind kind : Kind.values()) {
      Deployment d = PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, kind, "");
      Map<String, String> pod = d.getSpec().getTemplate().getMetadata().getLabels();
      // neither the members' selector (Services, PDB, NetworkPolicy, Patroni) finds a pooler pod, nor the reverse
      assertThat(pod.entrySet().containsAll(members.entrySet())).isFalse();
      assertThat(members.entrySet().containsAll(d.getSpec().getSelector().getMatchLabels().entrySet())).isFalse();
      assertThat(pod).containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
      assertThat(PoolerModel.service(cr, kind).getSpec().getSelector()).isEqualTo(d.getSpec().getSelector()
          .getMatchLabels());
      assertThat(PoolerModel.podDisruptionBudget(cr, kind).getSpec().getSelector().getMatchLabels())
          .isEqualTo(d.getSpec().getSelector().getMatchLabels());
    }
    // the two poolers' Services never reach each other's pods
    assertThat(PoolerModel.labels("orders", Kind.PRIMARY)).isNotEqualTo(PoolerModel.labels("orders", Kind.REPLICAS));
  }

  @Test
  void eachPoolerDialsItsServiceByTheNameTheServerCertificateCarriesAndVerifiesIt() {
    PostgresCluster cr = cluster(true);
    var config = PoolerModel.configMap(cr);
    Map<String, String> primary = ini(config.getData().get("pgbouncer.ini"));
    Map<String, String> replicas = ini(config.getData().get("pgbouncer-repl.ini"));
    assertThat(config.getData().get("pgbouncer.ini")).contains("* = host=orders.shop.svc port=5432");
    assertThat(config.getData().get("pgbouncer-repl.ini")).contains("* = host=orders-repl.shop.svc port=5432");
    assertThat(ServerCertificates.dnsNames("shop", "orders")).contains("orders.shop.svc", "orders-repl.shop.svc");
    assertThat(primary).containsEntry("server_tls_sslmode", "verify-full")
        .containsEntry("server_tls_ca_file", "/etc/pgtide/server-ca/ca.crt")
        .containsEntry("client_tls_sslmode", "prefer")
        .containsEntry("client_tls_cert_file", "/etc/pgbouncer/tls/tls.crt")
        .containsEntry("client_tls_key_file", "/etc/pgbouncer/tls/tls.key")
        .containsEntry("auth_file", "/etc/pgbouncer/auth/userlist.txt")
        .containsEntry("auth_user", PoolerSql.ROLE)
        .containsEntry("listen_addr", "0.0.0.0").containsEntry("listen_port", "5432")
        .containsEntry("unix_socket_dir", "/var/run/pgbouncer");
    assertThat(replicas).containsEntry("server_tls_sslmode", "verify-full");
    assertThat(ini(PoolerModel.configMap(cluster(false)).getData().get("pgbouncer.ini"))).isNotEmpty();
    assertThat(PoolerModel.configMap(cluster(false)).getData()).containsOnlyKeys("pgbouncer.ini");
  }

  @Test
  void thePoolerHasItsOwnCertificateForItsServicesNamesNotPostgresKey() {
    PostgresCluster cr = cluster(true);
    assertThat(PoolerModel.dnsNames(cr)).containsExactly("orders-pooler", "orders-pooler.shop",
        "orders-pooler.shop.svc", "orders-pooler.shop.svc.cluster.local", "orders-pooler-repl",
        "orders-pooler-repl.shop", "orders-pooler-repl.shop.svc", "orders-pooler-repl.shop.svc.cluster.local");
    assertThat(PoolerModel.dnsNames(cluster(false))).hasSize(4).noneMatch(n -> n.contains("-repl"));
    var pod = PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "").getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getSecret() != null).extracting(v -> v.getSecret().getSecretName())
        .containsExactlyInAnyOrder("orders-pooler", "orders-pooler-tls")
        .doesNotContain(ServerCertificates.tlsSecret("orders"), ClusterModel.superuserSecret("orders"));
    Volume auth = pod.getVolumes().stream().filter(v -> v.getName().equals("auth")).findFirst().orElseThrow();
    assertThat(auth.getSecret().getItems()).singleElement().satisfies(i -> assertThat(i.getKey())
        .isEqualTo("userlist.txt"));
    assertThat(auth.getSecret().getDefaultMode()).isEqualTo(0440);
    Map<String, String> mounts = pod.getContainers().get(0).getVolumeMounts().stream()
        .collect(Collectors.toMap(VolumeMount::getName, VolumeMount::getMountPath));
    assertThat(mounts).containsEntry("config", "/etc/pgbouncer/config").containsEntry("auth", "/etc/pgbouncer/auth")
        .containsEntry("tls", "/etc/pgbouncer/tls").containsEntry("server-ca", "/etc/pgtide/server-ca")
        .containsEntry("run", "/var/run/pgbouncer");
    assertThat(pod.getContainers().get(0).getVolumeMounts()).allMatch(m -> m.getSubPath() == null);
  }

  @Test
  void withTheUsersOwnCertificateThePoolerOffersNoClientTlsButStillVerifiesTheServer() {
    PostgresCluster cr = cluster(false);
    cr.getSpec().tls = new PostgresClusterSpec.TlsSpec();
    cr.getSpec().tls.secretName = "orders-cert";
    Map<String, String> s = ini(PoolerModel.configMap(cr).getData().get("pgbouncer.ini"));
    assertThat(s).containsEntry("client_tls_sslmode", "disable").containsEntry("server_tls_sslmode", "verify-full");
    assertThat(PoolerModel.named(cr, OperatorConfig.DEFAULTS)).extracting(o -> o.getMetadata().getName())
        .doesNotContain("orders-pooler-tls");
    var pod = PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "").getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).extracting(Volume::getName).doesNotContain("tls");
  }

  @Test
  void theCredentialsSecretHoldsThePasswordAndTheUserlistBuiltFromIt() {
    var s = PoolerModel.credentials(cluster(false), "s3cr\"t");
    assertThat(s.getStringData()).containsEntry("username", "pgtide_pooler").containsEntry("password", "s3cr\"t")
        .containsEntry("userlist.txt", "\"pgtide_pooler\" \"s3cr\"\"t\"\n");
  }

  @Test
  void theDeploymentRunsPgBouncerUnprivilegedFromTheSpiloImageSpreadOverNodes() {
    PostgresCluster cr = cluster(false);
    Deployment d = PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "");
    assertThat(d.getSpec().getReplicas()).isEqualTo(3);
    var pod = d.getSpec().getTemplate().getSpec();
    var c = pod.getContainers().get(0);
    assertThat(c.getImage()).isEqualTo(OperatorConfig.DEFAULTS.spiloImage());
    assertThat(c.getCommand()).containsExactly("/usr/sbin/pgbouncer", "/etc/pgbouncer/config/pgbouncer.ini");
    assertThat(c.getSecurityContext().getRunAsUser()).isEqualTo(101L);
    assertThat(c.getSecurityContext().getRunAsGroup()).isEqualTo(103L);
    assertThat(c.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getReadinessProbe().getTcpSocket().getPort().getIntVal()).isEqualTo(5432);
    assertThat(c.getLivenessProbe().getTcpSocket().getPort().getIntVal()).isEqualTo(5432);
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("128Mi");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("run")).singleElement()
        .satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
    var term = pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution().get(0)
        .getPodAffinityTerm();
    assertThat(term.getTopologyKey()).isEqualTo("kubernetes.io/hostname");
    assertThat(term.getLabelSelector().getMatchLabels()).isEqualTo(PoolerModel.labels("orders", Kind.PRIMARY));
    cr.getSpec().image = "registry.example/spilo:custom";
    assertThat(PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "").getSpec().getTemplate()
        .getSpec().getContainers().get(0).getImage()).isEqualTo("registry.example/spilo:custom");
  }

  @Test
  void aChangedIniOrCertificateRollsThePodsAndNothingElseDoes() {
    PostgresCluster cr = cluster(false);
    String before = hash(PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "cert-1"));
    assertThat(hash(PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "cert-1"))).isEqualTo(before);
    assertThat(hash(PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "cert-2"))).isNotEqualTo(before);
    cr.getSpec().pooler.defaultPoolSize = 50;
    assertThat(hash(PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "cert-1"))).isNotEqualTo(before);
    cr.getSpec().pooler.defaultPoolSize = 20;
    cr.getSpec().pooler.instances = 5; // more pods, the same configuration
    assertThat(hash(PoolerModel.deployment(cr, OperatorConfig.DEFAULTS, Kind.PRIMARY, "cert-1"))).isEqualTo(before);
  }

  static String hash(Deployment d) {
    return d.getSpec().getTemplate().getMetadata().getAnnotations().get(PoolerModel.CONFIG_HASH);
  }

  @Test
  void onePodAtATimeMayBeEvictedWhateverTheInstances() {
    for (int instances : new int[] {1, 2, 5}) {
      PostgresCluster cr = cluster(true);
      cr.getSpec().pooler.instances = instances;
      var pdb = PoolerModel.podDisruptionBudget(cr, Kind.REPLICAS);
      assertThat(pdb.getMetadata().getName()).isEqualTo("orders-pooler-repl");
      assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
      assertThat(pdb.getSpec().getMinAvailable()).isNull();
    }
  }

  @Test
  void theServicesReachThePoolerPortAndThePolicyAdmitsClientsThereOnly() {
    PostgresCluster cr = cluster(true);
    var svc = PoolerModel.service(cr, Kind.REPLICAS);
    assertThat(svc.getMetadata().getName()).isEqualTo("orders-pooler-repl");
    assertThat(svc.getSpec().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getPort()).isEqualTo(5432);
      assertThat(p.getTargetPort().getIntVal()).isEqualTo(5432);
    });
    var np = PoolerModel.networkPolicy(cr);
    assertThat(np.getSpec().getPodSelector().getMatchLabels()).isEqualTo(PoolerModel.labels("orders"));
    assertThat(np.getSpec().getPolicyTypes()).containsExactly("Ingress");
    // clients (and the operator, for SHOW STATS) from anywhere, as the members' own policy admits PostgreSQL
    // clients; no other port
    assertThat(np.getSpec().getIngress()).singleElement().satisfies(rule -> {
      assertThat(rule.getFrom()).isEmpty();
      assertThat(rule.getPorts()).singleElement().satisfies(p -> assertThat(p.getPort().getIntVal()).isEqualTo(5432));
    });
    // the members' policy admits the pooler pods on 5432 (its PostgreSQL rule names no source)
    var members = ClusterModel.networkPolicy(cr, OperatorConfig.DEFAULTS);
    assertThat(members.getSpec().getIngress()).anySatisfy(rule -> {
      assertThat(rule.getFrom()).isEmpty();
      assertThat(rule.getPorts()).anySatisfy(p -> assertThat(p.getPort().getIntVal()).isEqualTo(5432));
    });
  }

  @Test
  void theClustersOwnershipCheckCoversThePoolerObjects() {
    assertThat(ClusterModel.named(cluster(true), OperatorConfig.DEFAULTS))
        .extracting(o -> o.getKind() + "/" + o.getMetadata().getName())
        .contains("Deployment/orders-pooler-repl", "ConfigMap/orders-pooler", "Secret/orders-pooler-tls");
  }
}
