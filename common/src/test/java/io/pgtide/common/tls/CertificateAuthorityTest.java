package io.pgtide.common.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificateAuthorityTest {
  @Test
  void issuesCertificatesWhoseCommonNameIsTheMemberIdentityAndReloads() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));
    TlsMaterial m = ca.issue("shop/orders/orders-0", List.of("127.0.0.1", "pgtide-operator.ns.svc"), Duration.ofDays(1));
    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(m.certPem().getBytes()));
    assertThat(PeerIdentity.commonName(List.of(cert))).contains("shop/orders/orders-0");
    assertThat(cert.getSubjectAlternativeNames()).hasSize(2);
    assertThat(m.keyPem()).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(m.toString()).doesNotContain("PRIVATE");
    CertificateAuthority reloaded = CertificateAuthority.load(ca.caMaterial());
    assertThat(reloaded.caPem()).isEqualTo(ca.caPem());
  }
}
