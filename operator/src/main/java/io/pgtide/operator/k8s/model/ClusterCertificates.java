package io.pgtide.operator.k8s.model;

import io.pgtide.common.tls.PeerIdentity;
import io.pgtide.common.tls.TlsMaterial;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/**
 * When a cluster's certificate (its sidecars', issued from the operator's CA) must be issued again: it is not
 * readable, was not signed by the operator's current CA, is not bound to this PostgresCluster's uid (one made
 * before certificates carried it, or an old cluster's of the same name), or has less than a third of its lifetime
 * left. Re-issued into the same Secret, the kubelet updates the mounted files and the sidecar reads them at its next
 * connection: rotation without a restart. Pure.
 */
public final class ClusterCertificates {
  /** How long a cluster certificate lasts; it is re-issued once two thirds of that have passed. */
  public static final Duration VALIDITY = Duration.ofDays(90);

  private ClusterCertificates() {
  }

  /** Why {@code certPem} must be issued again for the cluster with {@code uid}, or null while it is good. */
  public static String reissueReason(String certPem, String caPem, String uid, Instant now) {
    X509Certificate cert;
    X509Certificate ca;
    try {
      cert = TlsMaterial.parse(certPem);
      ca = TlsMaterial.parse(caPem);
    } catch (IllegalArgumentException e) {
      return "the certificate is not readable";
    }
    try {
      cert.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      return "the certificate was not issued by the operator's current CA";
    }
    String bound = PeerIdentity.clusterUid(cert).orElse(null);
    if (uid != null && !uid.equals(bound)) {
      return bound == null ? "the certificate is not bound to the cluster's uid"
          : "the certificate is bound to another cluster (uid " + bound + ")";
    }
    Instant from = cert.getNotBefore().toInstant();
    Instant until = cert.getNotAfter().toInstant();
    Instant renewAt = until.minus(Duration.between(from, until).dividedBy(3));
    if (!now.isBefore(renewAt)) {
      return "the certificate expires at " + until;
    }
    return null;
  }

  /** The URI that binds a certificate to the cluster with {@code uid}. */
  public static String uidUri(String uid) {
    return PeerIdentity.CLUSTER_UID_URI + uid;
  }
}
