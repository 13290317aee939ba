package io.pgtide.common.tls;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/** Reads the CN of a TLS peer's leaf certificate, and the cluster uid it is bound to. */
public final class PeerIdentity {
  /**
   * The URI subject alternative name that binds a certificate to one PostgresCluster object, followed by its
   * {@code metadata.uid}: a cluster deleted and created again under the same name has another uid.
   */
  public static final String CLUSTER_UID_URI = "urn:pgtide:cluster-uid:";

  private PeerIdentity() {
  }

  /** The uid a leaf certificate is bound to ({@link #CLUSTER_UID_URI}), empty when it names none. */
  public static Optional<String> clusterUid(List<Certificate> chain) {
    if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate leaf)) {
      return Optional.empty();
    }
    return clusterUid(leaf);
  }

  public static Optional<String> clusterUid(X509Certificate leaf) {
    try {
      var names = leaf.getSubjectAlternativeNames();
      if (names == null) {
        return Optional.empty();
      }
      for (List<?> name : names) {
        // type 6: uniformResourceIdentifier
        if (name.size() == 2 && Integer.valueOf(6).equals(name.get(0)) && name.get(1) instanceof String uri
            && uri.startsWith(CLUSTER_UID_URI) && uri.length() > CLUSTER_UID_URI.length()) {
          return Optional.of(uri.substring(CLUSTER_UID_URI.length()));
        }
      }
    } catch (java.security.cert.CertificateParsingException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }

  public static Optional<String> commonName(List<Certificate> chain) {
    if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate leaf)) {
      return Optional.empty();
    }
    try {
      for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
        if ("CN".equalsIgnoreCase(rdn.getType())) {
          return Optional.of(rdn.getValue().toString());
        }
      }
    } catch (InvalidNameException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }
}
