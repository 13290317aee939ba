package io.pgtide.common.tls;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small CA (EC P-256) that issues the hub's server certificate and each sidecar's client certificate, whose CN is
 * the member identity {@code namespace/cluster/member}. The operator keeps its CA in a Secret; tests make a
 * throwaway one.
 */
public final class CertificateAuthority {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final X509Certificate caCert;
  private final PrivateKey caKey;

  private CertificateAuthority(X509Certificate caCert, PrivateKey caKey) {
    this.caCert = caCert;
    this.caKey = caKey;
  }

  public static CertificateAuthority create(String name, Duration validity) {
    KeyPair pair = newKeyPair();
    X500Name subject = new X500Name("CN=" + name);
    Instant now = Instant.now();
    try {
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
          Date.from(now.minusSeconds(300)), Date.from(now.plus(validity)), subject, pair.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new CertificateAuthority(sign(builder, pair.getPrivate()), pair.getPrivate());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Loads a CA from the PEM material {@link #caMaterial()} produced. */
  public static CertificateAuthority load(TlsMaterial material) {
    try (PEMParser certParser = new PEMParser(new StringReader(material.certPem()));
         PEMParser keyParser = new PEMParser(new StringReader(material.keyPem()))) {
      X509Certificate cert = new JcaX509CertificateConverter()
          .getCertificate((X509CertificateHolder) certParser.readObject());
      Object key = keyParser.readObject();
      PrivateKeyInfo info = key instanceof PEMKeyPair kp ? kp.getPrivateKeyInfo() : (PrivateKeyInfo) key;
      return new CertificateAuthority(cert, new JcaPEMKeyConverter().getPrivateKey(info));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("CA material is not a PEM certificate and key: " + e.getMessage(), e);
    }
  }

  public TlsMaterial caMaterial() {
    return new TlsMaterial(pem(caCert), pem(caKey), pem(caCert));
  }

  public String caPem() {
    return pem(caCert);
  }

  /** A certificate usable both as TLS server and client, with the given CN and DNS/IP subject alternative names. */
  public TlsMaterial issue(String commonName, List<String> altNames, Duration validity) {
    return issue(commonName, altNames, List.of(), validity);
  }

  /**
   * As {@link #issue(String, List, Duration)}, with URI subject alternative names too: what the certificate is bound
   * to besides its name (a cluster's uid, {@link PeerIdentity#CLUSTER_UID_URI}).
   */
  public TlsMaterial issue(String commonName, List<String> altNames, List<String> uris, Duration validity) {
    return issue(commonName, altNames, uris, validity,
        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth});
  }

  /**
   * A TLS server's certificate only (extended key usage serverAuth, no clientAuth): a database's, whose key sits in
   * the database's pod and must not pass for a client anywhere else.
   */
  public TlsMaterial issueServer(String commonName, List<String> altNames, List<String> uris, Duration validity) {
    return issue(commonName, altNames, uris, validity, new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth});
  }

  private TlsMaterial issue(String commonName, List<String> altNames, List<String> uris, Duration validity,
                            KeyPurposeId[] usages) {
    KeyPair pair = newKeyPair();
    Instant now = Instant.now();
    try {
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCert, serial(),
          Date.from(now.minusSeconds(300)), Date.from(now.plus(validity)), new X500Name("CN=" + escape(commonName)),
          pair.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
      builder.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(usages));
      if (!altNames.isEmpty() || !uris.isEmpty()) {
        List<GeneralName> names = new ArrayList<>();
        for (String alt : altNames) {
          names.add(isIp(alt) ? new GeneralName(GeneralName.iPAddress, alt) : new GeneralName(GeneralName.dNSName, alt));
        }
        for (String uri : uris) {
          names.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
        }
        builder.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(names.toArray(GeneralName[]::new)));
      }
      return new TlsMaterial(pem(sign(builder, caKey)), pem(pair.getPrivate()), pem(caCert));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String escape(String cn) {
    return cn.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace("+", "\\+");
  }

  private static boolean isIp(String text) {
    if (!text.matches("[0-9.]+|[0-9a-fA-F:]+:[0-9a-fA-F:]*")) {
      return false;
    }
    try {
      InetAddress.getByName(text);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder builder, PrivateKey key) {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    } catch (OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign certificate", e);
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 is not available in this JVM", e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM);
  }

  private static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      if (object instanceof PrivateKey key) {
        writer.writeObject(new org.bouncycastle.util.io.pem.PemObject("PRIVATE KEY", key.getEncoded()));
      } else {
        writer.writeObject(object);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }
}
