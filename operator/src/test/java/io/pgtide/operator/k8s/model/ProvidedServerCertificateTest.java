package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/**
 * A server certificate the user keeps ({@code spec.tls.secretName}, #32): what pgtide accepts to mount, and the words
 * it uses when it refuses; where the pods take it from; and that pgtide then claims none of its own names for it.
 */
class ProvidedServerCertificateTest {
  static final CertificateAuthority CA = CertificateAuthority.create("user-ca", Duration.ofDays(1));
  static final Instant NOW = Instant.now();

  static String problem(TlsMaterial m) {
    return problem(m.certPem(), m.keyPem(), m.caPem());
  }

  static String problem(String cert, String key, String ca) {
    return ServerCertificates.providedProblem("orders-cert", cert, key, ca, "shop", "orders", NOW);
  }

  static TlsMaterial issued(List<String> names) {
    return CA.issueServer("orders.shop.svc", names, List.of(), Duration.ofDays(30));
  }

  @Test
  void aCertificateFromTheGivenCaNamingThePrimaryServiceServes() {
    assertThat(problem(issued(List.of("orders.shop.svc", "db.example.com")))).isNull();
    // a bundle repeating the CA after the certificate, as some issuers write tls.crt
    TlsMaterial m = issued(List.of("orders.shop.svc"));
    assertThat(problem(m.certPem() + m.caPem(), m.keyPem(), m.caPem())).isNull();
  }

  @Test
  void eachMissingKeyIsNamed() {
    TlsMaterial m = issued(List.of("orders.shop.svc"));
    assertThat(problem("", m.keyPem(), m.caPem())).isEqualTo("Secret orders-cert has no tls.crt");
    assertThat(problem(m.certPem(), null, m.caPem())).isEqualTo("Secret orders-cert has no tls.key");
    assertThat(problem(m.certPem(), m.keyPem(), " ")).isEqualTo("Secret orders-cert has no ca.crt");
  }

  @Test
  void aForeignCaAnotherKeyOrAMissingNameIsRefusedWithTheReason() {
    TlsMaterial m = issued(List.of("orders.shop.svc"));
    String foreign = CertificateAuthority.create("foreign", Duration.ofDays(1)).caPem();
    assertThat(problem(m.certPem(), m.keyPem(), foreign)).startsWith("Secret orders-cert: ca.crt does not verify");
    assertThat(problem(m.certPem(), issued(List.of("orders.shop.svc")).keyPem(), m.caPem()))
        .isEqualTo("Secret orders-cert: tls.key is not the key of the certificate in tls.crt");
    assertThat(problem(issued(List.of("orders", "orders.shop")))).contains("does not name orders.shop.svc")
        .contains("[orders, orders.shop]");
    TlsMaterial client = CA.issue("orders.shop.svc", List.of("orders.shop.svc"), List.of(), Duration.ofDays(1));
    assertThat(problem(client)).as("serverAuth with clientAuth is fine").isNull();
    assertThat(problem("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", m.keyPem(),
        m.caPem())).startsWith("Secret orders-cert: a certificate is not readable");
    assertThat(problem(m.certPem(), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", m.caPem()))
        .startsWith("Secret orders-cert: tls.key is not a readable private key");
  }

  @Test
  void anExpiredCertificateIsRefused() {
    TlsMaterial m = issued(List.of("orders.shop.svc"));
    assertThat(ServerCertificates.providedProblem("orders-cert", m.certPem(), m.keyPem(), m.caPem(), "shop", "orders",
        NOW.plus(Duration.ofDays(31)))).contains("is valid from").endsWith(", not now");
  }

  /** cert-manager writes RSA keys as PKCS#1 ("RSA PRIVATE KEY") by default; a self-signed one is its own CA. */
  @Test
  void aSelfSignedRsaCertificateWithAPkcs1KeyServes() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair pair = g.generateKeyPair();
    X500Name subject = new X500Name("CN=orders.shop.svc");
    var builder = new JcaX509v3CertificateBuilder(subject, BigInteger.TEN, Date.from(NOW.minusSeconds(60)),
        Date.from(NOW.plus(Duration.ofDays(1))), subject, pair.getPublic());
    builder.addExtension(Extension.subjectAlternativeName, false,
        new GeneralNames(new GeneralName(GeneralName.dNSName, "orders.shop.svc")));
    var cert = new JcaX509CertificateConverter().getCertificate(
        builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(pair.getPrivate())));
    String certPem = pem(cert);
    String keyPem = pem(pair); // a KeyPair is written as PKCS#1
    assertThat(keyPem).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(problem(certPem, keyPem, certPem)).isNull();
  }

  static String pem(Object o) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }

  static PostgresCluster withTls(String secretName) {
    PostgresCluster cr = BackupAgentModelTest.cluster("orders");
    cr.getSpec().tls = new PostgresClusterSpec.TlsSpec();
    cr.getSpec().tls.secretName = secretName;
    return cr;
  }

  @Test
  void thePodsMountTheUsersSecretAndPgtideClaimsNoServerCertificateOfItsOwn() {
    PostgresCluster cr = withTls("orders-cert");
    var pod = ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
    var volume = pod.getVolumes().stream().filter(v -> v.getName().equals("server-tls")).findFirst().get();
    assertThat(volume.getSecret().getSecretName()).isEqualTo("orders-cert");
    assertThat(ClusterModel.named(cr, OperatorConfig.DEFAULTS)).extracting(o -> o.getKind() + "/"
        + o.getMetadata().getName()).contains("ConfigMap/orders-ca")
        .doesNotContain("Secret/orders-server-tls", "Secret/orders-pgtide-server-ca", "Secret/orders-cert");
  }

  @Test
  void aSecretNamePgtideWritesOrNoneIsRefused() {
    assertThat(ClusterValidation.problem(withTls("orders-server-tls"))).contains("is a Secret pgtide writes");
    assertThat(ClusterValidation.problem(withTls("orders-pgtide-server-ca"))).contains("is a Secret pgtide writes");
    assertThat(ClusterValidation.problem(withTls(null))).startsWith("tls.secretName is required");
    assertThat(ClusterValidation.problem(withTls("orders-cert"))).isNull();
  }
}
