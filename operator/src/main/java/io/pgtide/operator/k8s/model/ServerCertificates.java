package io.pgtide.operator.k8s.model;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.tls.TlsMaterial;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * PostgreSQL's server certificate on Kubernetes (issue #32 part 1): its names, where it and its CA live, and when it
 * is issued again. Pure.
 *
 * <p>Each cluster has a CA of its own, not the operator's: its key sits in a Secret the cluster owns
 * ({@link #caSecret}), its certificate is published in the ConfigMap {@code <c>-ca} for clients to mount. A client
 * trusting one cluster's CA (even with {@code sslmode=verify-ca}, which checks no name) then accepts that cluster's
 * servers and nothing else: with the operator's CA it would accept every cluster's server, and every certificate
 * the operator's CA issues for the bridge (sidecars', agents') carries serverAuth too. Deleting the cluster deletes
 * its CA with it; a cluster created again under the same name has another CA, so its old clients refuse it until
 * they are given the new {@code <c>-ca}.
 *
 * <p>The CA lasts {@link #CA_VALIDITY} and is not rotated by pgtide (a new CA would break every client holding the
 * old one); the server certificate lasts {@link ClusterCertificates#VALIDITY} and is issued again into the same
 * Secret when {@link #reissueReason} says so. The kubelet updates the mounted files, and PostgreSQL loads them at
 * its next reload (see {@link ClusterModel#statefulSet} for who reloads): no restart.
 */
public final class ServerCertificates {
  /** The cluster CA's lifetime: long, because rotating it means handing every client a new {@code <c>-ca}. */
  public static final Duration CA_VALIDITY = Duration.ofDays(3650);
  /** Where Spilo's container (and the sidecar) mount the server certificate Secret. */
  public static final String MOUNT_DIR = "/etc/pgtide/server-tls";
  /** Where clients in pgtide's own pods (the backup agent) mount the ConfigMap {@code <c>-ca}. */
  public static final String CA_MOUNT_DIR = "/etc/pgtide/server-ca";
  /** The key of {@code <c>-ca} holding the CA certificate (PEM), as cert-manager's and Kubernetes' own. */
  public static final String CA_KEY = "ca.crt";

  private ServerCertificates() {
  }

  /** The Secret holding the cluster's CA certificate and key ({@code ca.crt}, {@code ca.key}); never mounted. */
  public static String caSecret(String cluster) {
    return cluster + "-pgtide-server-ca";
  }

  /** The TLS Secret holding PostgreSQL's certificate and key ({@code tls.crt}, {@code tls.key}, {@code ca.crt}). */
  public static String tlsSecret(String cluster) {
    return cluster + "-server-tls";
  }

  /** The ConfigMap clients mount to verify the server: {@code ca.crt}, the cluster CA's certificate. */
  public static String caConfigMap(String cluster) {
    return cluster + "-ca";
  }

  /** The certificate's CN: the primary Service's name in the namespace (clients check the SANs, not the CN). */
  public static String commonName(String namespace, String cluster) {
    return cluster + "." + namespace + ".svc";
  }

  /**
   * The names a client may dial, each a subject alternative name: the primary Service {@code <c>} and the replicas'
   * {@code <c>-repl}, bare (same namespace), {@code .ns}, {@code .ns.svc} and {@code .ns.svc.cluster.local}. No
   * per-member names: the StatefulSet's governing Service {@code <c>} has a cluster IP, so the cluster DNS makes no
   * {@code <pod>.<c>} records, and the one headless Service ({@code <c>-config}, Patroni's) has no selector, hence
   * no member addresses either. Not {@code localhost}: no client outside the pod dials that, and the sidecar inside
   * does not verify.
   */
  public static List<String> dnsNames(String namespace, String cluster) {
    List<String> out = new ArrayList<>();
    for (String service : List.of(cluster, cluster + "-repl")) {
      out.add(service);
      out.add(service + "." + namespace);
      out.add(service + "." + namespace + ".svc");
      out.add(service + "." + namespace + ".svc.cluster.local");
    }
    return out;
  }

  /** The certificate's URIs: the cluster's uid, as every certificate of a cluster's carries. */
  public static List<String> uris(PostgresCluster cr) {
    String uid = cr.getMetadata().getUid();
    return uid == null ? List.of() : List.of(ClusterCertificates.uidUri(uid));
  }

  /**
   * Why the server certificate must be issued again, or null while it is good: any reason of
   * {@link ClusterCertificates#reissueReason} (unreadable, not from the cluster's current CA, another uid, a third
   * of its life left), or its DNS names are not exactly {@code names} (an upgrade that adds a name).
   */
  public static String reissueReason(String certPem, String caPem, String uid, List<String> names, Instant now) {
    String reason = ClusterCertificates.reissueReason(certPem, caPem, uid, now);
    if (reason != null) {
      return reason.replace("the operator's current CA", "the cluster's CA");
    }
    Set<String> has = dnsNames(TlsMaterial.parse(certPem));
    if (!has.equals(new TreeSet<>(names))) {
      return "the certificate names " + has + ", not " + new TreeSet<>(names);
    }
    return null;
  }

  /** The Secret mounted as PostgreSQL's certificate: the user's ({@code spec.tls.secretName}) or pgtide's. */
  public static String mountedSecret(PostgresCluster cr) {
    var tls = cr.getSpec() == null ? null : cr.getSpec().tls;
    return tls != null && tls.secretName != null ? tls.secretName : tlsSecret(cr.getMetadata().getName());
  }

  /**
   * Why a certificate the user provides ({@code spec.tls.secretName}: {@code tls.crt} with any intermediates,
   * {@code tls.key}, {@code ca.crt}) cannot serve, or null when it can: a key missing, something unreadable, a key
   * that is not the certificate's, a certificate out of its validity or not for serverAuth, no path from it to
   * {@code ca.crt} (which clients are given to trust), or it lacks {@code <cluster>.<ns>.svc}, the name pgtide's
   * backup agent verifies. Checked before the pods mount it: PostgreSQL refuses to start on a broken one and keeps
   * the old one on a reload, so the condition is the only place a user would learn it.
   */
  public static String providedProblem(String secret, String certPem, String keyPem, String caPem, String namespace,
                                       String cluster, Instant now) {
    for (var key : new String[][] {{"tls.crt", certPem}, {"tls.key", keyPem}, {"ca.crt", caPem}}) {
      if (key[1] == null || key[1].isBlank()) {
        return "Secret " + secret + " has no " + key[0];
      }
    }
    List<X509Certificate> chain;
    List<X509Certificate> anchors;
    try {
      chain = certificates(certPem);
      anchors = certificates(caPem);
    } catch (java.security.cert.CertificateException e) {
      return "Secret " + secret + ": a certificate is not readable: " + e.getMessage();
    }
    if (chain.isEmpty() || anchors.isEmpty()) {
      return "Secret " + secret + ": " + (chain.isEmpty() ? "tls.crt" : "ca.crt") + " holds no PEM certificate";
    }
    X509Certificate leaf = chain.get(0);
    java.security.PrivateKey key;
    try {
      key = privateKey(keyPem);
    } catch (IllegalArgumentException e) {
      return "Secret " + secret + ": tls.key is not a readable private key (" + e.getMessage() + ")";
    }
    if (!keyMatches(key, leaf.getPublicKey())) {
      return "Secret " + secret + ": tls.key is not the key of the certificate in tls.crt";
    }
    try {
      leaf.checkValidity(java.util.Date.from(now));
    } catch (java.security.cert.CertificateException e) {
      return "Secret " + secret + ": the certificate is valid from " + leaf.getNotBefore().toInstant() + " to "
          + leaf.getNotAfter().toInstant() + ", not now";
    }
    try {
      List<String> usages = leaf.getExtendedKeyUsage();
      if (usages != null && !usages.contains("1.3.6.1.5.5.7.3.1") && !usages.contains("2.5.29.37.0")) {
        return "Secret " + secret + ": the certificate is not for server authentication (extended key usage "
            + usages + ")";
      }
    } catch (CertificateParsingException e) {
      return "Secret " + secret + ": the certificate's extended key usage is unreadable";
    }
    String path = pathProblem(chain, anchors, now);
    if (path != null) {
      return "Secret " + secret + ": ca.crt does not verify the certificate (" + path + ")";
    }
    String needed = commonName(namespace, cluster);
    if (!dnsNames(leaf).contains(needed)) {
      return "Secret " + secret + ": the certificate does not name " + needed + " (it names " + dnsNames(leaf)
          + "); clients and pgtide's backup agent verify that name";
    }
    return null;
  }

  private static List<X509Certificate> certificates(String pem) throws java.security.cert.CertificateException {
    var factory = java.security.cert.CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    for (var c : factory.generateCertificates(new java.io.ByteArrayInputStream(
        pem.getBytes(java.nio.charset.StandardCharsets.UTF_8)))) {
      out.add((X509Certificate) c);
    }
    return out;
  }

  /** A PEM private key: PKCS#8, or PKCS#1 / SEC 1 as cert-manager writes by default. */
  private static java.security.PrivateKey privateKey(String keyPem) {
    try (var parser = new org.bouncycastle.openssl.PEMParser(new java.io.StringReader(keyPem))) {
      Object o = parser.readObject();
      var converter = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter();
      if (o instanceof org.bouncycastle.openssl.PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      if (o instanceof org.bouncycastle.asn1.pkcs.PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new IllegalArgumentException(o == null ? "no PEM block" : "a PEM " + o.getClass().getSimpleName());
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Whether the private key is the certificate's: it signs, the certificate's public key verifies. */
  private static boolean keyMatches(java.security.PrivateKey key, java.security.PublicKey certificateKey) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC", "ECDSA" -> "SHA256withECDSA";
      default -> key.getAlgorithm(); // Ed25519, Ed448
    };
    try {
      byte[] probe = "pgtide server certificate check".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      var signer = java.security.Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      var verifier = java.security.Signature.getInstance(algorithm);
      verifier.initVerify(certificateKey);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (java.security.GeneralSecurityException e) {
      return false; // a key of another type than the certificate's
    }
  }

  /** PKIX from the certificate (and the intermediates after it) to one of the anchors; no revocation check. */
  private static String pathProblem(List<X509Certificate> chain, List<X509Certificate> anchors, Instant now) {
    try {
      Set<java.security.cert.TrustAnchor> trust = new java.util.HashSet<>();
      for (X509Certificate a : anchors) {
        trust.add(new java.security.cert.TrustAnchor(a, null));
      }
      // a bundle that repeats the root in tls.crt: the anchor is not part of the path
      List<X509Certificate> path = chain.stream().filter(c -> !anchors.contains(c)).toList();
      var params = new java.security.cert.PKIXParameters(trust);
      params.setRevocationEnabled(false);
      params.setDate(java.util.Date.from(now));
      java.security.cert.CertPathValidator.getInstance("PKIX").validate(
          java.security.cert.CertificateFactory.getInstance("X.509").generateCertPath(path), params);
      return null;
    } catch (java.security.cert.CertPathValidatorException e) {
      return e.getMessage();
    } catch (java.security.GeneralSecurityException e) {
      return e.getMessage();
    }
  }

  /** The DNS and IP subject alternative names of a certificate. */
  public static Set<String> dnsNames(X509Certificate cert) {
    Set<String> out = new TreeSet<>();
    try {
      Collection<List<?>> names = cert.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> name : names) {
          // 2: dNSName, 7: iPAddress
          if (name.size() == 2 && (Integer.valueOf(2).equals(name.get(0)) || Integer.valueOf(7).equals(name.get(0)))) {
            out.add(String.valueOf(name.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      return out;
    }
    return out;
  }
}
