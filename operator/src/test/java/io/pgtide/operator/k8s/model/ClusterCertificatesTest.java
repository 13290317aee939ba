package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When a cluster's certificate is issued again: before it expires, after a CA change, or bound to another uid. */
class ClusterCertificatesTest {
  static final CertificateAuthority CA = CertificateAuthority.create("test-ca", Duration.ofDays(1));

  static TlsMaterial issue(CertificateAuthority ca, String uid, Duration validity) {
    return ca.issue("shop/orders/*", List.of(), uid == null ? List.of() : List.of(ClusterCertificates.uidUri(uid)),
        validity);
  }

  @Test
  void aShortLivedCertificateIsIssuedAgainOnceTwoThirdsOfItsLifeHavePassed() {
    // a 15-minute certificate (the CA back-dates 5 minutes: 20 minutes of life, renewed at 13m20s from its start)
    TlsMaterial m = issue(CA, "uid-1", Duration.ofMinutes(15));
    Instant start = m.certificate().getNotBefore().toInstant();
    assertThat(ClusterCertificates.reissueReason(m.certPem(), CA.caPem(), "uid-1", start.plusSeconds(60))).isNull();
    assertThat(ClusterCertificates.reissueReason(m.certPem(), CA.caPem(), "uid-1", start.plusSeconds(13 * 60)))
        .isNull();
    assertThat(ClusterCertificates.reissueReason(m.certPem(), CA.caPem(), "uid-1", start.plusSeconds(14 * 60)))
        .startsWith("the certificate expires at ");
  }

  @Test
  void aCertificateOfAnotherUidOrNoneOrAnotherCaIsIssuedAgain() {
    Instant now = Instant.now();
    assertThat(ClusterCertificates.reissueReason(issue(CA, "uid-1", Duration.ofDays(90)).certPem(), CA.caPem(),
        "uid-1", now)).isNull();
    assertThat(ClusterCertificates.reissueReason(issue(CA, "uid-0", Duration.ofDays(90)).certPem(), CA.caPem(),
        "uid-1", now)).isEqualTo("the certificate is bound to another cluster (uid uid-0)");
    assertThat(ClusterCertificates.reissueReason(issue(CA, null, Duration.ofDays(365)).certPem(), CA.caPem(),
        "uid-1", now)).isEqualTo("the certificate is not bound to the cluster's uid");
    CertificateAuthority other = CertificateAuthority.create("other-ca", Duration.ofDays(1));
    assertThat(ClusterCertificates.reissueReason(issue(other, "uid-1", Duration.ofDays(90)).certPem(), CA.caPem(),
        "uid-1", now)).isEqualTo("the certificate was not issued by the operator's current CA");
    assertThat(ClusterCertificates.reissueReason("", CA.caPem(), "uid-1", now))
        .isEqualTo("the certificate is not readable");
  }
}
