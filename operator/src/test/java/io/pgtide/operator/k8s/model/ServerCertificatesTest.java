package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL's server certificate on Kubernetes (#32): its names and usage, when it is issued again, and how it
 * reaches Spilo and the backup agent.
 */
class ServerCertificatesTest {
  static final CertificateAuthority CA = CertificateAuthority.create("orders-ca", Duration.ofDays(1));

  static TlsMaterial issue(CertificateAuthority ca, List<String> names, String uid, Duration validity) {
    return ca.issueServer("orders.shop.svc", names, List.of(ClusterCertificates.uidUri(uid)), validity);
  }

  @Test
  void namesThePrimaryAndReplicaServicesInEveryFormAndNothingElse() {
    assertThat(ServerCertificates.dnsNames("shop", "orders")).containsExactly(
        "orders", "orders.shop", "orders.shop.svc", "orders.shop.svc.cluster.local",
        "orders-repl", "orders-repl.shop", "orders-repl.shop.svc", "orders-repl.shop.svc.cluster.local");
    assertThat(ServerCertificates.dnsNames("shop", "orders")).as("a client dialling localhost is refused")
        .doesNotContain("localhost", "127.0.0.1");
    assertThat(ServerCertificates.commonName("shop", "orders")).isEqualTo("orders.shop.svc");
    assertThat(ServerCertificates.caConfigMap("orders")).isEqualTo("orders-ca");
    assertThat(ServerCertificates.tlsSecret("orders")).isEqualTo("orders-server-tls");
    assertThat(ServerCertificates.caSecret("orders")).isEqualTo("orders-pgtide-server-ca");
  }

  @Test
  void theCertificateIsForAServerOnlyAndBoundToTheCluster() throws Exception {
    TlsMaterial m = issue(CA, ServerCertificates.dnsNames("shop", "orders"), "u-orders", Duration.ofDays(90));
    X509Certificate cert = m.certificate();
    assertThat(cert.getExtendedKeyUsage()).as("serverAuth, no clientAuth: the key cannot pass for a client")
        .containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(cert.getBasicConstraints()).as("no CA").isEqualTo(-1);
    assertThat(ServerCertificates.dnsNames(cert)).containsExactlyInAnyOrderElementsOf(
        ServerCertificates.dnsNames("shop", "orders"));
    assertThat(io.pgtide.common.tls.PeerIdentity.clusterUid(cert)).contains("u-orders");
    cert.verify(TlsMaterial.parse(CA.caPem()).getPublicKey());
  }

  @Test
  void issuedAgainWhenNamesCaUidOrLifetimeSaySo() {
    List<String> names = ServerCertificates.dnsNames("shop", "orders");
    Instant now = Instant.now();
    TlsMaterial good = issue(CA, names, "u-orders", Duration.ofDays(90));
    assertThat(ServerCertificates.reissueReason(good.certPem(), CA.caPem(), "u-orders", names, now)).isNull();
    assertThat(ServerCertificates.reissueReason(good.certPem(), CA.caPem(), "u-orders", names, now.plus(
        Duration.ofDays(61)))).startsWith("the certificate expires at ");
    assertThat(ServerCertificates.reissueReason(issue(CA, names.subList(0, 4), "u-orders", Duration.ofDays(90))
        .certPem(), CA.caPem(), "u-orders", names, now)).as("an upgrade that adds the replicas' names")
        .startsWith("the certificate names [orders, ");
    assertThat(ServerCertificates.reissueReason(good.certPem(), CA.caPem(), "u-other", names, now))
        .isEqualTo("the certificate is bound to another cluster (uid u-orders)");
    CertificateAuthority operatorCa = CertificateAuthority.create("pgtide-operator-ca", Duration.ofDays(1));
    assertThat(ServerCertificates.reissueReason(issue(operatorCa, names, "u-orders", Duration.ofDays(90)).certPem(),
        CA.caPem(), "u-orders", names, now)).isEqualTo("the certificate was not issued by the cluster's CA");
    assertThat(ServerCertificates.reissueReason("", CA.caPem(), "u-orders", names, now))
        .isEqualTo("the certificate is not readable");
  }

  @Test
  void spiloReadsTheMountedFilesThroughItsOwnContractAsItsGroup() {
    PostgresCluster cr = BackupAgentModelTest.cluster("orders");
    StatefulSet sts = ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS);
    var pod = sts.getSpec().getTemplate().getSpec();
    Container spilo = pod.getContainers().stream().filter(c -> c.getName().equals("postgres")).findFirst().get();
    Map<String, String> env = spilo.getEnv().stream().filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    assertThat(env).containsEntry("SSL_CERTIFICATE_FILE", "/etc/pgtide/server-tls/tls.crt")
        .containsEntry("SSL_PRIVATE_KEY_FILE", "/etc/pgtide/server-tls/tls.key")
        .containsEntry("SSL_CA_FILE", "/etc/pgtide/server-tls/ca.crt")
        .as("the content variables would make Spilo copy the files once, and never see a rotation")
        .doesNotContainKeys("SSL_CERTIFICATE", "SSL_PRIVATE_KEY");
    assertThat(spilo.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getName()).isEqualTo("server-tls");
      assertThat(m.getMountPath()).isEqualTo("/etc/pgtide/server-tls");
      assertThat(m.getSubPath()).as("a subPath mount never changes").isNull();
    });
    var volume = pod.getVolumes().stream().filter(v -> v.getName().equals("server-tls")).findFirst().get();
    assertThat(volume.getSecret().getSecretName()).isEqualTo("orders-server-tls");
    // root:103 0440: PostgreSQL (uid 101, gid 103) reads it; a root-owned key must have no group write or world bits
    assertThat(volume.getSecret().getDefaultMode()).isEqualTo(0440);
    assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(103L);
    assertThat(pod.getContainers().stream().filter(c -> !c.getName().equals("postgres"))
        .flatMap(c -> c.getVolumeMounts().stream())).as("the key is Spilo's alone")
        .noneMatch(m -> m.getName().equals("server-tls"));
  }

  @Test
  void theCaIsPublishedAndOwnedAndTheAgentVerifiesAgainstIt() {
    PostgresCluster cr = BackupAgentModelTest.cluster("orders");
    var cm = ClusterModel.caConfigMap(cr, CA.caPem());
    assertThat(cm.getMetadata().getName()).isEqualTo("orders-ca");
    assertThat(cm.getData()).containsEntry("ca.crt", CA.caPem());
    assertThat(cm.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo("u-orders"));
    assertThat(ClusterModel.named(cr, OperatorConfig.DEFAULTS)).extracting(o -> o.getKind() + "/"
        + o.getMetadata().getName()).contains("ConfigMap/orders-ca", "Secret/orders-server-tls",
        "Secret/orders-pgtide-server-ca");
    var agent = BackupAgentModel.deployment(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
    Map<String, String> env = agent.getContainers().get(0).getEnv().stream().filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    assertThat(env).containsEntry("PGTIDE_PRIMARY_TLS_NAME", "orders.shop.svc")
        .containsEntry("PGTIDE_SERVER_CA_FILE", "/etc/pgtide/server-ca/ca.crt");
    assertThat(agent.getVolumes()).anyMatch(v -> v.getConfigMap() != null
        && "orders-ca".equals(v.getConfigMap().getName()));
  }
}
