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
