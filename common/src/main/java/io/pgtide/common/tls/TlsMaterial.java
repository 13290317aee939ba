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

  /**
   * An HTTPS server's side: this certificate, no client certificate asked (callers authenticate otherwise, e.g. the
   * backup agent's bearer token). Also what {@code HttpServer.updateSSLOptions} takes when it is issued again.
   */
  public io.vertx.core.net.ServerSSLOptions httpsServerOptions() {
    return new io.vertx.core.net.ServerSSLOptions().setKeyCertOptions(keyCert());
  }

  /** A client that trusts only this material's CA (and verifies the host it dials, see {@code virtualHost}). */
  public static io.vertx.core.net.PemTrustOptions trusting(String caPem) {
    return new PemTrustOptions().addCertValue(Buffer.buffer(caPem));
  }

  /** Client side of the bridge; the server's certificate must carry the host we dial as a SAN. */
  public NetClientOptions clientOptions() {
    return new NetClientOptions().setSsl(true).setHostnameVerificationAlgorithm("HTTPS")
        .setKeyCertOptions(keyCert()).setTrustOptions(trust());
  }

  /**
   * A JDK {@link javax.net.ssl.SSLContext} presenting this certificate and trusting only our CA: for the blocking
   * JDK HTTP clients (local mode's etcd, which demands a client certificate).
   */
  public javax.net.ssl.SSLContext sslContext() {
    try (org.bouncycastle.openssl.PEMParser certs = new org.bouncycastle.openssl.PEMParser(
             new java.io.StringReader(certPem));
         org.bouncycastle.openssl.PEMParser keys = new org.bouncycastle.openssl.PEMParser(
             new java.io.StringReader(keyPem));
         org.bouncycastle.openssl.PEMParser cas = new org.bouncycastle.openssl.PEMParser(
             new java.io.StringReader(caPem))) {
      var converter = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter();
      var cert = converter.getCertificate((org.bouncycastle.cert.X509CertificateHolder) certs.readObject());
      var ca = converter.getCertificate((org.bouncycastle.cert.X509CertificateHolder) cas.readObject());
      Object key = keys.readObject();
      var info = key instanceof org.bouncycastle.openssl.PEMKeyPair kp ? kp.getPrivateKeyInfo()
          : (org.bouncycastle.asn1.pkcs.PrivateKeyInfo) key;
      var privateKey = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(info);
      char[] none = new char[0];
      java.security.KeyStore keyStore = java.security.KeyStore.getInstance("PKCS12");
      keyStore.load(null, null);
      keyStore.setKeyEntry("self", privateKey, none, new java.security.cert.Certificate[] {cert});
      java.security.KeyStore trustStore = java.security.KeyStore.getInstance("PKCS12");
      trustStore.load(null, null);
      trustStore.setCertificateEntry("ca", ca);
      var kmf = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keyStore, none);
      var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trustStore);
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a TLS context from this material: " + e.getMessage(), e);
    }
  }

  /** The leaf certificate, parsed. */
  public java.security.cert.X509Certificate certificate() {
    return parse(certPem);
  }

  /** One PEM certificate, parsed; IllegalArgumentException when it is none. */
  public static java.security.cert.X509Certificate parse(String pem) {
    try (org.bouncycastle.openssl.PEMParser parser = new org.bouncycastle.openssl.PEMParser(
        new java.io.StringReader(pem))) {
      Object o = parser.readObject();
      if (!(o instanceof org.bouncycastle.cert.X509CertificateHolder holder)) {
        throw new IllegalArgumentException("not a PEM certificate");
      }
      return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(holder);
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("not a PEM certificate: " + e.getMessage(), e);
    }
  }

  private PemKeyCertOptions keyCert() {
    return new PemKeyCertOptions().setCertValue(Buffer.buffer(certPem)).setKeyValue(Buffer.buffer(keyPem));
  }

  private PemTrustOptions trust() {
    return new PemTrustOptions().addCertValue(Buffer.buffer(caPem));
  }
}
