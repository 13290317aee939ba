package io.pgtide.local.process;

import io.pgtide.common.process.OsUser;
import io.pgtide.common.secrets.PrivateFiles;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Local mode's PostgreSQL certificate (issue #32), as on Kubernetes: from a CA of the cluster's own, serverAuth
 * only, so {@code psql "sslmode=verify-full sslrootcert=<D>/server-tls/ca.crt host=127.0.0.1"} works. Its one name
 * is {@code 127.0.0.1}, where every member and both endpoints listen; {@code localhost} is deliberately not one (a
 * client must dial what it verifies, and the tests need a name the certificate refuses).
 *
 * <p>The CA is made once and kept in {@code <D>/server-ca} (its key 0600), so clients keep trusting the cluster
 * across restarts; the certificate is issued again at every start (from that CA), which is local mode's rotation.
 */
public final class LocalServerTls {
  /** The certificate's subject alternative names. */
  public static final List<String> NAMES = List.of("127.0.0.1");
  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  static final Duration VALIDITY = Duration.ofDays(825);

  private LocalServerTls() {
  }

  /** Where the cluster in {@code clusterDir} keeps PostgreSQL's certificate: tls.crt, tls.key, ca.crt. */
  public static Path dir(Path clusterDir) {
    return clusterDir.resolve("server-tls");
  }

  /** The CA certificate a client verifies the server with. */
  public static Path caFile(Path clusterDir) {
    return dir(clusterDir).resolve("ca.crt");
  }

  /** Makes the CA on the first start, issues the certificate from it, and returns its directory. */
  static Path issue(Path clusterDir) {
    CertificateAuthority ca = ca(clusterDir.resolve("server-ca"));
    Path out = ca.issueServer("127.0.0.1", NAMES, List.of(), VALIDITY).write(dir(clusterDir));
    // PostgreSQL runs as postgres when local mode runs as root: the key must be its own (0600)
    OsUser.ownedDirectory(out, true);
    return out;
  }

  private static CertificateAuthority ca(Path dir) {
    Path cert = dir.resolve("ca.crt");
    Path key = dir.resolve("ca.key");
    try {
      if (Files.exists(cert) && Files.exists(key)) {
        String certPem = Files.readString(cert);
        return CertificateAuthority.load(new TlsMaterial(certPem, Files.readString(key), certPem));
      }
      CertificateAuthority made = CertificateAuthority.create("pgtide local server CA", CA_VALIDITY);
      Files.createDirectories(dir);
      PrivateFiles.write(key, made.caMaterial().keyPem());
      Files.writeString(cert, made.caPem());
      return made;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the server CA in " + dir, e);
    }
  }
}
