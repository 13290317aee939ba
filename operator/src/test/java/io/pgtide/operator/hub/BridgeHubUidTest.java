package io.pgtide.operator.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.PeerIdentity;
import io.pgtide.operator.k8s.model.ClusterCertificates;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A sidecar certificate speaks only for the cluster object it was issued to: one of a cluster deleted and created
 * again under the same name (same CN, same CA) is refused, as is one bound to no uid, when the hub binds uids.
 */
class BridgeHubUidTest {
  static final CertificateAuthority CA = CertificateAuthority.create("test-ca", Duration.ofDays(1));
  static final MemberId MEMBER = new MemberId("shop", "orders", "orders-0");

  static List<Certificate> chain(List<String> uris) {
    return List.of(CA.issue("shop/orders/*", List.of(), uris, Duration.ofDays(1)).certificate());
  }

  @Test
  void theCertificateCarriesTheClustersUid() {
    assertThat(PeerIdentity.clusterUid(chain(List.of(ClusterCertificates.uidUri("uid-new")))))
        .contains("uid-new");
    assertThat(PeerIdentity.clusterUid(chain(List.of()))).isEmpty();
    assertThat(PeerIdentity.clusterUid(chain(List.of("urn:other:thing")))).isEmpty();
  }

  @Test
  void onlyTheLiveClustersUidIsAccepted() {
    Optional<String> live = Optional.of("uid-new");
    assertThat(BridgeHub.uidProblem(MEMBER, PeerIdentity.clusterUid(chain(List.of(
        ClusterCertificates.uidUri("uid-new")))), live)).isNull();
    // the old cluster's certificate: same CN, same CA, another uid
    assertThat(BridgeHub.uidProblem(MEMBER, PeerIdentity.clusterUid(chain(List.of(
        ClusterCertificates.uidUri("uid-old")))), live))
        .isEqualTo("shop/orders/orders-0's certificate is bound to uid uid-old, but shop/orders is uid uid-new "
            + "(an earlier cluster of that name)");
    assertThat(BridgeHub.uidProblem(MEMBER, Optional.empty(), live)).contains("bound to no cluster uid");
    assertThat(BridgeHub.uidProblem(MEMBER, Optional.of("uid-new"), Optional.empty()))
        .contains("no PostgresCluster shop/orders is known");
  }
}
