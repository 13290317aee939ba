package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.model.ClusterCertificates;
import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.pgtide.operator.k8s.model.ServerCertificates;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.tls.CertificateAuthority;
import io.vertx.core.Vertx;
import java.io.FileInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The reconciler against fabric8's mock API server in CRUD mode. */
@EnableKubernetesMockClient(crud = true)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
public class ClusterReconcilerMockTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  /** Every request the reconciler made (not the tests' own), for the RBAC check. */
  static final List<String> OPERATOR_REQUESTS = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** The operator's CA: read back from its Secret after a restart, so the same in every reconciler here. */
  static final CertificateAuthority CA = CertificateAuthority.create("test", Duration.ofDays(1));
  Vertx vertx;
  ClusterReconciler reconciler;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    reconciler = new ClusterReconciler(vertx, client, OperatorConfig.DEFAULTS, CA);
    drain();
  }

  @AfterEach
  void tearDown() throws Exception {
    drain();
    vertx.close().await();
  }

  public static PostgresCluster sample(String file) throws Exception {
    try (var in = new FileInputStream(Path.of("..", "manifests", "samples", file).toFile())) {
      return Serialization.unmarshal(in, PostgresCluster.class);
    }
  }

  static PostgresCluster apply(PostgresCluster cr) {
    return applyTo(client, cr);
  }

  /** Creates or replaces {@code cr} (and its namespace) on the mock server of {@code client}. */
  public static PostgresCluster applyTo(KubernetesClient client, PostgresCluster cr) {
    client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(cr.getMetadata().getNamespace()).endMetadata().build()).createOr(r -> r.update());
    return client.resources(PostgresCluster.class).inNamespace(cr.getMetadata().getNamespace()).resource(cr)
        .createOr(r -> r.update());
  }

  static PostgresCluster fresh(PostgresCluster cr) {
    return client.resources(PostgresCluster.class).inNamespace(cr.getMetadata().getNamespace())
        .withName(cr.getMetadata().getName()).get();
  }

  static io.pgtide.common.crd.PostgresClusterStatus.Condition condition(PostgresCluster cr, String type) {
    return fresh(cr).getStatus().conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElseThrow();
  }

  static io.pgtide.common.crd.PostgresClusterStatus.Condition degraded(PostgresCluster cr) {
    return condition(cr, "Degraded");
  }

  /** Methods of the requests since the last drain. */
  static List<String> drain() throws Exception {
    List<String> methods = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      methods.add(r.getMethod() + " " + r.getPath());
    }
    return methods;
  }

  /** Runs the reconciler and records the requests it made. */
  void reconcile(PostgresCluster cr) throws Exception {
    drain();
    try {
      reconciler.reconcile(cr).toCompletionStage().toCompletableFuture().handle((v, e) -> null).get();
    } finally {
      OPERATOR_REQUESTS.addAll(drain());
    }
  }

  @Test
  void createsEveryOwnedObjectForTheMinimalAndTheFullSample() throws Exception {
    for (String file : List.of("minimal.yaml", "full.yaml")) {
      PostgresCluster cr = apply(sample(file));
      String ns = cr.getMetadata().getNamespace();
      String name = cr.getMetadata().getName();
      if (file.equals("full.yaml")) {
        client.storage().v1().storageClasses().resource(new io.fabric8.kubernetes.api.model.storage
            .StorageClassBuilder().withNewMetadata().withName("standard").endMetadata()
            .withProvisioner("kubernetes.io/no-provisioner").build()).createOr(r -> r.update());
      }
      reconcile(cr);
      StatefulSet sts = client.apps().statefulSets().inNamespace(ns).withName(name).get();
      assertThat(sts.getSpec().getReplicas()).isEqualTo(cr.getSpec().replicas);
      var pod = sts.getSpec().getTemplate().getSpec();
      assertThat(pod.getContainers()).extracting(c -> c.getName()).containsExactly("postgres", "pgtide-sidecar");
      var spilo = pod.getContainers().get(0);
      assertThat(spilo.getEnv()).extracting(e -> e.getName()).contains("SCOPE", "PGROOT", "POD_IP", "POD_NAMESPACE",
          "PGUSER_SUPERUSER", "PGPASSWORD_SUPERUSER", "PGUSER_STANDBY", "PGPASSWORD_STANDBY",
          "KUBERNETES_SCOPE_LABEL", "KUBERNETES_ROLE_LABEL", "KUBERNETES_LABELS", "DCS_ENABLE_KUBERNETES_API",
          "KUBERNETES_USE_CONFIGMAPS", "SPILO_CONFIGURATION");
      assertThat(spilo.getPorts()).extracting(p -> p.getContainerPort()).containsExactly(5432, 8008, 8080);
      var sidecar = pod.getContainers().get(1);
      assertThat(sidecar.getSecurityContext().getRunAsNonRoot()).isTrue();
      assertThat(sidecar.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
      // fencing from inside the pod: one process namespace, the sidecar as Spilo's postgres user (uid 101), told so
      assertThat(pod.getShareProcessNamespace()).isTrue();
      assertThat(sidecar.getSecurityContext().getRunAsUser()).isEqualTo(101L);
      assertThat(sidecar.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
      assertThat(sidecar.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
      assertThat(sidecar.getEnv()).anySatisfy(e -> {
        assertThat(e.getName()).isEqualTo("PGTIDE_POD_PROCESSES");
        assertThat(e.getValue()).isEqualTo("true");
      });
      assertThat(sidecar.getPorts()).extracting(p -> p.getContainerPort()).doesNotContain(5432, 8008, 8080);
      assertThat(sidecar.getEnv()).anySatisfy(e -> {
        assertThat(e.getName()).isEqualTo("PGTIDE_MEMBER");
        assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
      });
      assertThat(sts.getMetadata().getLabels()).containsEntry("application", "spilo").containsEntry("cluster-name", name);
      List<HasMetadata> owned = new ArrayList<>(List.of(sts,
          client.services().inNamespace(ns).withName(name).get(),
          client.services().inNamespace(ns).withName(name + "-repl").get(),
          client.services().inNamespace(ns).withName(name + "-config").get(),
          client.serviceAccounts().inNamespace(ns).withName(name + "-patroni").get(),
          client.resources(Role.class).inNamespace(ns).withName(name + "-patroni").get(),
          client.resources(RoleBinding.class).inNamespace(ns).withName(name + "-patroni").get(),
          client.resources(PodDisruptionBudget.class).inNamespace(ns).withName(name + "-pdb").get(),
          client.resources(NetworkPolicy.class).inNamespace(ns).withName(name).get(),
          client.secrets().inNamespace(ns).withName(ClusterModel.superuserSecret(name)).get(),
          client.secrets().inNamespace(ns).withName(ClusterModel.standbySecret(name)).get(),
          client.secrets().inNamespace(ns).withName(ClusterModel.sidecarTlsSecret(name)).get()));
      assertThat(owned).allSatisfy(o -> {
        assertThat(o).isNotNull();
        assertThat(o.getMetadata().getOwnerReferences()).singleElement()
            .satisfies(ref -> assertThat(ref.getName()).isEqualTo(name));
      });
      Service primary = client.services().inNamespace(ns).withName(name).get();
      assertThat(primary.getSpec().getSelector()).containsEntry("spilo-role", "master");
      assertThat(client.services().inNamespace(ns).withName(name + "-repl").get().getSpec().getSelector())
          .containsEntry("spilo-role", "replica");
      PostgresCluster after = fresh(cr);
      assertThat(after.getMetadata().getFinalizers()).contains(ClusterReconciler.FINALIZER);
      // every object applied, but no member runs (no pods on a mock server): not Ready, not Running
      assertThat(after.getStatus().phase).isEqualTo("Pending");
      assertThat(after.getStatus().conditions).anySatisfy(c -> {
        assertThat(c.type).isEqualTo("Degraded");
        assertThat(c.status).isEqualTo("False");
      }).noneSatisfy(c -> assertThat(c.type).isEqualTo("Ready"));
      assertThat(after.getStatus().selector).isEqualTo("application=spilo,cluster-name=" + name);
    }
  }

  @Test
  void aSecondReconcileOfAnUnchangedClusterWritesNothing() throws Exception {
    PostgresCluster cr = apply(sample("minimal.yaml"));
    reconcile(cr);
    reconcile(fresh(cr));
    int before = OPERATOR_REQUESTS.size();
    reconcile(fresh(cr));
    List<String> requests = OPERATOR_REQUESTS.subList(before, OPERATOR_REQUESTS.size());
    assertThat(requests).isNotEmpty().allSatisfy(r -> assertThat(r).startsWith("GET "));
    // after an operator restart: a new reconciler with nothing in memory also writes nothing
    reconciler = new ClusterReconciler(vertx, client, OperatorConfig.DEFAULTS, CA);
    before = OPERATOR_REQUESTS.size();
    reconcile(fresh(cr));
    assertThat(OPERATOR_REQUESTS.subList(before, OPERATOR_REQUESTS.size())).isNotEmpty()
        .allSatisfy(r -> assertThat(r).startsWith("GET "));
  }

  /**
   * The sidecars' certificate is issued again in its Secret (a patch, no restart) when it is not bound to the
   * cluster's uid (one made by an earlier version) or is due: the new one carries the uid and a fresh lifetime.
   */
  @Test
  void theSidecarCertificateIsIssuedAgainInPlaceWhenUnboundOrDue() throws Exception {
    PostgresCluster cr = sample("minimal.yaml");
    cr.getMetadata().setName("rotated");
    cr = apply(cr);
    reconcile(cr);
    String name = ClusterModel.sidecarTlsSecret("rotated");
    // the mock API server keeps stringData as written (a real one folds it into data)
    java.util.function.Supplier<java.security.cert.X509Certificate> cert = () -> {
      var s = client.secrets().inNamespace("default").withName(name).get();
      return io.pgtide.common.tls.TlsMaterial.parse(s.getData() != null && s.getData().get("tls.crt") != null
          ? new String(java.util.Base64.getDecoder().decode(s.getData().get("tls.crt")),
              java.nio.charset.StandardCharsets.UTF_8) : s.getStringData().get("tls.crt"));
    };
    String uid = cr.getMetadata().getUid();
    assertThat(io.pgtide.common.tls.PeerIdentity.clusterUid(cert.get())).contains(uid);

    // as an earlier version left it: no uid, a year's validity
    var old = CA.issue("default/rotated/*", List.of(), Duration.ofDays(365));
    client.secrets().inNamespace("default").withName(name).edit(s -> {
      s.setData(java.util.Map.of("tls.crt", b64(old.certPem()), "tls.key", b64(old.keyPem()),
          "ca.crt", b64(old.caPem())));
      s.setStringData(null);
      return s;
    });
    reconcile(fresh(cr));
    assertThat(io.pgtide.common.tls.PeerIdentity.clusterUid(cert.get())).contains(uid);
    assertThat(cert.get().getNotAfter().toInstant()).isBefore(java.time.Instant.now().plus(Duration.ofDays(91)));

    // due: a third of its life left
    var due = CA.issue("default/rotated/*", List.of(), List.of(ClusterCertificates.uidUri(uid)),
        Duration.ofMinutes(1));
    client.secrets().inNamespace("default").withName(name).edit(s -> {
      s.setData(java.util.Map.of("tls.crt", b64(due.certPem()), "tls.key", b64(due.keyPem()),
          "ca.crt", b64(due.caPem())));
      s.setStringData(null);
      return s;
    });
    reconcile(fresh(cr));
    assertThat(cert.get().getSerialNumber()).isNotEqualTo(due.certificate().getSerialNumber());
    assertThat(cert.get().getNotAfter().toInstant()).isAfter(java.time.Instant.now().plus(Duration.ofDays(89)));
  }

  /**
   * PostgreSQL's certificate (#32): the cluster's own CA is made once and kept, published in {@code <c>-ca}; the
   * server certificate verifies against it for the Services' names, and is issued again in place when its names
   * are not the wanted ones (an upgrade), from the same CA (clients keep trusting it).
   */
  @Test
  void theServerCertificateComesFromTheClustersOwnPublishedCaAndIsIssuedAgainInPlace() throws Exception {
    PostgresCluster sample = sample("minimal.yaml");
    sample.getMetadata().setName("served");
    PostgresCluster cr = apply(sample);
    reconcile(cr);
    String ns = cr.getMetadata().getNamespace();
    java.util.function.BiFunction<String, String, String> secretKey = (secret, key) -> {
      var s = client.secrets().inNamespace(ns).withName(secret).get();
      return s.getData() != null && s.getData().get(key) != null
          ? new String(java.util.Base64.getDecoder().decode(s.getData().get(key)),
              java.nio.charset.StandardCharsets.UTF_8) : s.getStringData().get(key);
    };
    String caPem = client.configMaps().inNamespace(ns).withName("served-ca").get().getData().get("ca.crt");
    assertThat(caPem).isEqualTo(secretKey.apply("served-pgtide-server-ca", "ca.crt"));
    assertThat(caPem).as("not the operator's CA").isNotEqualTo(CA.caPem());
    var cert = io.pgtide.common.tls.TlsMaterial.parse(secretKey.apply("served-server-tls", "tls.crt"));
    cert.verify(io.pgtide.common.tls.TlsMaterial.parse(caPem).getPublicKey());
    assertThat(ServerCertificates.dnsNames(cert)).contains("served", "served.default.svc", "served-repl");
    assertThat(client.secrets().inNamespace(ns).withName("served-server-tls").get().getMetadata()
        .getOwnerReferences()).singleElement().satisfies(o -> assertThat(o.getUid())
        .isEqualTo(fresh(cr).getMetadata().getUid()));

    // as a version that named the primary only left it
    var clusterCa = io.pgtide.common.tls.CertificateAuthority.load(new io.pgtide.common.tls.TlsMaterial(caPem,
        secretKey.apply("served-pgtide-server-ca", "ca.key"), caPem));
    var old = clusterCa.issueServer("served.default.svc", List.of("served"),
        List.of(ClusterCertificates.uidUri(cr.getMetadata().getUid())), Duration.ofDays(90));
    client.secrets().inNamespace(ns).withName("served-server-tls").edit(s -> {
      s.setData(java.util.Map.of("tls.crt", b64(old.certPem()), "tls.key", b64(old.keyPem()),
          "ca.crt", b64(old.caPem())));
      s.setStringData(null);
      return s;
    });
    reconcile(fresh(cr));
    var again = io.pgtide.common.tls.TlsMaterial.parse(secretKey.apply("served-server-tls", "tls.crt"));
    assertThat(again.getSerialNumber()).isNotEqualTo(old.certificate().getSerialNumber());
    assertThat(ServerCertificates.dnsNames(again)).containsExactlyInAnyOrderElementsOf(
        ServerCertificates.dnsNames(ns, "served"));
    again.verify(io.pgtide.common.tls.TlsMaterial.parse(caPem).getPublicKey());
    assertThat(client.configMaps().inNamespace(ns).withName("served-ca").get().getData().get("ca.crt"))
        .as("the same CA").isEqualTo(caPem);
  }

  /**
   * {@code spec.tls.secretName}: missing, then unusable, each a Degraded reason with no StatefulSet; then a good one
   * is mounted, its CA published in {@code <c>-ca}, pgtide issues no certificate of its own, and the user's Secret
   * is never written; a renewal from another CA is followed in {@code <c>-ca}.
   */
  @Test
  void aUserCertificateIsCheckedMountedPublishedAndNeverWritten() throws Exception {
    PostgresCluster sample = sample("minimal.yaml");
    sample.getMetadata().setName("kept");
    sample.getSpec().tls = new io.pgtide.common.crd.PostgresClusterSpec.TlsSpec();
    sample.getSpec().tls.secretName = "kept-cert";
    PostgresCluster cr = apply(sample);
    String ns = cr.getMetadata().getNamespace();
    reconcile(cr);
    assertThat(degraded(cr).reason).isEqualTo("ServerTlsSecretNotFound");
    assertThat(degraded(cr).message).contains("kept-cert");
    assertThat(client.apps().statefulSets().inNamespace(ns).withName("kept").get()).isNull();

    var userCa = io.pgtide.common.tls.CertificateAuthority.create("user", Duration.ofDays(1));
    var unnamed = userCa.issueServer("kept", List.of("kept"), List.of(), Duration.ofDays(30));
    client.secrets().inNamespace(ns).resource(tlsSecret("kept-cert", unnamed)).create();
    reconcile(fresh(cr));
    assertThat(degraded(cr).reason).isEqualTo("ServerTlsSecretInvalid");
    assertThat(degraded(cr).message).contains("does not name kept." + ns + ".svc");
    assertThat(client.apps().statefulSets().inNamespace(ns).withName("kept").get()).isNull();

    var good = userCa.issueServer("kept", ServerCertificates.dnsNames(ns, "kept"), List.of(), Duration.ofDays(30));
    client.secrets().inNamespace(ns).withName("kept-cert").edit(s -> tlsSecret("kept-cert", good));
    String version = client.secrets().inNamespace(ns).withName("kept-cert").get().getMetadata().getResourceVersion();
    reconcile(fresh(cr));
    assertThat(degraded(cr).status).isEqualTo("False");
    var pod = client.apps().statefulSets().inNamespace(ns).withName("kept").get().getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("server-tls")).singleElement()
        .satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("kept-cert"));
    assertThat(client.configMaps().inNamespace(ns).withName("kept-ca").get().getData().get("ca.crt"))
        .isEqualTo(userCa.caPem());
    assertThat(client.secrets().inNamespace(ns).withName("kept-server-tls").get()).isNull();
    assertThat(client.secrets().inNamespace(ns).withName("kept-pgtide-server-ca").get()).isNull();

    var renewed = io.pgtide.common.tls.CertificateAuthority.create("user-2", Duration.ofDays(1))
        .issueServer("kept", ServerCertificates.dnsNames(ns, "kept"), List.of(), Duration.ofDays(30));
    client.secrets().inNamespace(ns).withName("kept-cert").edit(s -> tlsSecret("kept-cert", renewed));
    String renewedVersion = client.secrets().inNamespace(ns).withName("kept-cert").get().getMetadata()
        .getResourceVersion();
    assertThat(renewedVersion).isNotEqualTo(version);
    reconcile(fresh(cr));
    assertThat(client.configMaps().inNamespace(ns).withName("kept-ca").get().getData().get("ca.crt"))
        .isEqualTo(renewed.caPem());
    var secret = client.secrets().inNamespace(ns).withName("kept-cert").get();
    assertThat(secret.getMetadata().getResourceVersion()).as("never written").isEqualTo(renewedVersion);
    assertThat(secret.getMetadata().getOwnerReferences()).isNullOrEmpty();
  }

  static io.fabric8.kubernetes.api.model.Secret tlsSecret(String name, io.pgtide.common.tls.TlsMaterial m) {
    return new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName(name).endMetadata()
        .withType("kubernetes.io/tls").withData(java.util.Map.of("tls.crt", b64(m.certPem()),
            "tls.key", b64(m.keyPem()), "ca.crt", b64(m.caPem()))).build();
  }

  static String b64(String text) {
    return java.util.Base64.getEncoder().encodeToString(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /**
   * spec.pooler: both poolers' objects, owned by the cluster, with the pooler's own certificate from the cluster's
   * CA for its Services' names; an unchanged cluster then costs reads only; without spec.pooler they go (the
   * Secrets stay with the cluster: a pooler switched on again keeps its password).
   */
  @Test
  void aPoolerIsCreatedWithItsOwnCertificateAndRemovedWithSpecPooler() throws Exception {
    PostgresCluster cr = sample("minimal.yaml");
    cr.getMetadata().setName("pooled");
    cr.getSpec().pooler = new io.pgtide.common.crd.PostgresClusterSpec.PoolerSpec();
    cr.getSpec().pooler.replicas = true;
    cr = apply(cr);
    reconcile(cr);
    String ns = cr.getMetadata().getNamespace();
    String uid = fresh(cr).getMetadata().getUid();
    List<HasMetadata> objects = new ArrayList<>();
    for (String pooler : List.of("pooled-pooler", "pooled-pooler-repl")) {
      objects.add(client.apps().deployments().inNamespace(ns).withName(pooler).get());
      objects.add(client.services().inNamespace(ns).withName(pooler).get());
      objects.add(client.policy().v1().podDisruptionBudget().inNamespace(ns).withName(pooler).get());
    }
    objects.add(client.configMaps().inNamespace(ns).withName("pooled-pooler").get());
    objects.add(client.network().v1().networkPolicies().inNamespace(ns).withName("pooled-pooler").get());
    Secret credentials = client.secrets().inNamespace(ns).withName("pooled-pooler").get();
    Secret tls = client.secrets().inNamespace(ns).withName("pooled-pooler-tls").get();
    objects.add(credentials);
    objects.add(tls);
    assertThat(objects).doesNotContainNull().allSatisfy(o -> assertThat(o.getMetadata().getOwnerReferences())
        .singleElement().satisfies(ref -> assertThat(ref.getUid()).isEqualTo(uid)));
    assertThat(degraded(cr).status).isEqualTo("False");
    // the userlist holds the generated password, and nothing else
    String password = io.pgtide.operator.k8s.api.SecretPasswords.passwordOf(credentials);
    assertThat(password).hasSizeGreaterThanOrEqualTo(32);
    assertThat(io.pgtide.operator.k8s.api.SecretPasswords.valueOf(credentials, "userlist.txt"))
        .isEqualTo("\"pgtide_pooler\" \"" + password + "\"\n");
    // its own serverAuth certificate from the cluster's CA, for the pooler Services' names, not PostgreSQL's key
    String caPem = client.configMaps().inNamespace(ns).withName(ServerCertificates.caConfigMap("pooled")).get()
        .getData().get(ServerCertificates.CA_KEY);
    var cert = io.pgtide.common.tls.TlsMaterial.parse(io.pgtide.operator.k8s.api.SecretPasswords.valueOf(tls,
        "tls.crt"));
    cert.verify(io.pgtide.common.tls.TlsMaterial.parse(caPem).getPublicKey());
    assertThat(ServerCertificates.dnsNames(cert)).contains("pooled-pooler.default.svc",
        "pooled-pooler-repl.default.svc").noneMatch(n -> n.equals("pooled.default.svc"));
    assertThat(io.pgtide.operator.k8s.api.SecretPasswords.valueOf(tls, "tls.key")).isNotEqualTo(
        io.pgtide.operator.k8s.api.SecretPasswords.valueOf(client.secrets().inNamespace(ns)
            .withName(ServerCertificates.tlsSecret("pooled")).get(), "tls.key"));

    reconcile(fresh(cr));
    int before = OPERATOR_REQUESTS.size();
    reconcile(fresh(cr));
    assertThat(OPERATOR_REQUESTS.subList(before, OPERATOR_REQUESTS.size())).as("an unchanged pooler costs reads")
        .allSatisfy(r -> assertThat(r).startsWith("GET "));

    PostgresCluster without = fresh(cr);
    without.getSpec().pooler.replicas = false;
    without = apply(without);
    reconcile(without);
    assertThat(client.apps().deployments().inNamespace(ns).withName("pooled-pooler-repl").get()).isNull();
    assertThat(client.services().inNamespace(ns).withName("pooled-pooler-repl").get()).isNull();
    assertThat(client.apps().deployments().inNamespace(ns).withName("pooled-pooler").get()).isNotNull();

    without = fresh(cr);
    without.getSpec().pooler = null;
    without = apply(without);
    reconcile(without);
    for (String pooler : List.of("pooled-pooler", "pooled-pooler-repl")) {
      assertThat(client.apps().deployments().inNamespace(ns).withName(pooler).get()).isNull();
      assertThat(client.services().inNamespace(ns).withName(pooler).get()).isNull();
      assertThat(client.policy().v1().podDisruptionBudget().inNamespace(ns).withName(pooler).get()).isNull();
    }
    assertThat(client.configMaps().inNamespace(ns).withName("pooled-pooler").get()).isNull();
    assertThat(client.network().v1().networkPolicies().inNamespace(ns).withName("pooled-pooler").get()).isNull();
    assertThat(client.secrets().inNamespace(ns).withName("pooled-pooler").get()).as("the password stays")
        .isNotNull();
    // the cluster itself is untouched
    assertThat(client.apps().statefulSets().inNamespace(ns).withName("pooled").get()).isNotNull();
    assertThat(client.services().inNamespace(ns).withName("pooled").get()).isNotNull();
  }

  @Test
  void deleteAppliesTheVolumeRetentionPolicy() throws Exception {
    for (String policy : List.of("Retain", "Delete")) {
      PostgresCluster cr = sample("minimal.yaml");
      cr.getMetadata().setName("vol-" + policy.toLowerCase());
      cr.getSpec().storage.pvcRetention = policy;
      cr = apply(cr);
      reconcile(cr);
      String ns = cr.getMetadata().getNamespace();
      client.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder().withNewMetadata()
          .withName("pgdata-" + cr.getMetadata().getName() + "-0")
          .withLabels(ClusterModel.labels(cr.getMetadata().getName())).endMetadata().withNewSpec().endSpec().build())
          .create();
      PostgresCluster deleting = fresh(cr);
      deleting.getMetadata().setDeletionTimestamp("2026-11-23T00:00:00Z");
      reconcile(deleting);
      boolean pvcLeft = client.persistentVolumeClaims().inNamespace(ns)
          .withName("pgdata-" + cr.getMetadata().getName() + "-0").get() != null;
      assertThat(pvcLeft).as(policy).isEqualTo(policy.equals("Retain"));
      assertThat(fresh(cr).getMetadata().getFinalizers()).doesNotContain(ClusterReconciler.FINALIZER);
    }
  }

  @Test
  void anUnsatisfiableOrInvalidClusterIsDegradedWithAReasonAndNothingElseIsTouched() throws Exception {
    PostgresCluster bad = sample("minimal.yaml");
    bad.getMetadata().setName("bad-version");
    bad.getSpec().postgresVersion = 11;
    bad = apply(bad);
    reconcile(bad);
    assertThat(fresh(bad).getStatus().phase).isEqualTo("Degraded");
    assertThat(degraded(bad).message).contains("postgresVersion must be 13..17");
    assertThat(client.apps().statefulSets().inNamespace("default").withName("bad-version").get()).isNull();

    PostgresCluster noClass = sample("minimal.yaml");
    noClass.getMetadata().setName("no-class");
    noClass.getSpec().storage.storageClass = "does-not-exist";
    noClass = apply(noClass);
    reconcile(noClass);
    assertThat(fresh(noClass).getStatus().phase).isEqualTo("Degraded");
    assertThat(degraded(noClass).reason).isEqualTo("StorageClassNotFound");
    assertThat(client.apps().statefulSets().inNamespace("default").withName("no-class").get()).isNull();

    PostgresCluster noPull = sample("minimal.yaml");
    noPull.getMetadata().setName("no-pull-secret");
    noPull.getSpec().imagePullSecrets = List.of("registry-creds");
    noPull = apply(noPull);
    reconcile(noPull);
    assertThat(fresh(noPull).getStatus().phase).isEqualTo("Degraded");
    assertThat(degraded(noPull).reason).isEqualTo("ImagePullSecretNotFound");
    assertThat(degraded(noPull).message).contains("registry-creds");
    assertThat(client.apps().statefulSets().inNamespace("default").withName("no-pull-secret").get()).isNull();
  }

  /** Runs last: every call the reconciler made in this class must be allowed by manifests/rbac/clusterrole.yaml. */
  @Test
  @org.junit.jupiter.api.Order(Integer.MAX_VALUE)
  void everyApiCallTheReconcilerMadeIsAllowedByTheClusterRole() throws Exception {
    assertThat(OPERATOR_REQUESTS).isNotEmpty();
    List<String> denied = RbacCheck.denied(Path.of("..", "manifests", "rbac", "clusterrole.yaml"), OPERATOR_REQUESTS);
    assertThat(denied).as("calls the ClusterRole does not allow").isEmpty();
  }
}
