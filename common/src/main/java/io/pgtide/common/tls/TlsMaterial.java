package io.pgtide.common.tls;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A certificate, its private key and the CA that signs peers, as PEM text. On disk it is the layout of a
 * Kubernetes TLS Secret mounted as a volume: {@code tls.crt}, {@code tls.key}, {@code ca.crt}.
 */
public record TlsMaterial(String certPem, String keyPem, String caPem) {

  @Override
  public String toString() {
    return "TlsMaterial[key redacted]";
  }

  /** The same certificate and key, trusting another CA (tests: a client from a foreign CA that trusts our hub). */
  public TlsMaterial withCa(String otherCaPem) {
    return new TlsMaterial(certPem, keyPem, otherCaPem);
  }

  public static TlsMaterial read(Path dir) {
    try {
      return new TlsMaterial(Files.readString(dir.resolve("tls.crt")), Files.readString(dir.resolve("tls.key")),
          Files.readString(dir.resolve("ca.crt")));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read TLS material (tls.crt, tls.key, ca.crt) from " + dir, e);
    }
  }

  public Path write(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("tls.crt"), certPem);
      Files.writeString(dir.resolve("ca.crt"), caPem);
      io.pgtide.common.secrets.PrivateFiles.write(dir.resolve("tls.key"), keyPem);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write TLS material to " + dir, e);
    }
  }

  /** Server side of the bridge: our certificate, peers must present one signed by our CA. */
  public NetServerOptions serverOptions() {
    return new NetServerOptions().setSsl(true).setClientAuth(ClientAuth.REQUIRED)
        .setKeyCertOptions(keyCert()).setTrustOptions(trust());
  }

  /** Client side of the bridge; the server's certificate must carry the host we dial as a SAN. */
  public NetClientOptions clientOptions() {
    return new NetClientOptions().setSsl(true).setHostnameVerificationAlgorithm("HTTPS")
        .setKeyCertOptions(keyCert()).setTrustOptions(trust());
  }

  private PemKeyCertOptions keyCert() {
    return new PemKeyCertOptions().setCertValue(Buffer.buffer(certPem)).setKeyValue(Buffer.buffer(keyPem));
  }

  private PemTrustOptions trust() {
    return new PemTrustOptions().addCertValue(Buffer.buffer(caPem));
  }
}
