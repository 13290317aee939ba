package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The sidecar's jar leaves Bouncy Castle out (issue #33: its entries were half the jar's central directory, which
 * the JVM holds on the heap for as long as the jar is open). That is safe only while nothing the sidecar runs calls
 * the code that uses it: {@code TlsMaterial.sslContext}, {@code parse} and {@code certificate} (local mode's JDK
 * clients and the operator) and {@code CertificateAuthority}. Maven runs this after packaging, on
 * {@code target/pgtide-sidecar.jar} (the surefire execution {@code shaded-jar} names it in {@code pgtide.sidecar.jar});
 * in the test phase, when the jar does not exist yet, it has nothing to check.
 */
class SidecarJarTest {
  /** The classes that use Bouncy Castle themselves; the jar still holds them, for their other methods. */
  static final Set<String> BC_USERS = Set.of("io/pgtide/common/tls/TlsMaterial",
      "io/pgtide/common/tls/CertificateAuthority");
  /** TlsMaterial's methods that reach Bouncy Castle. */
  static final Set<String> BC_METHODS = Set.of("sslContext", "parse", "certificate");

  @Test
  void theSidecarJarHoldsNoBouncyCastleAndNothingInItCallsWhatNeedsIt() throws IOException {
    String built = System.getProperty("pgtide.sidecar.jar");
    if (built == null) {
      return;
    }
    List<String> offenders = new ArrayList<>();
    int classes = 0;
    try (JarFile jar = new JarFile(built)) {
      assertThat(jar.stream().map(JarEntry::getName).filter(n -> n.contains("org/bouncycastle/")).toList())
          .isEmpty();
      for (JarEntry e : jar.stream().filter(e -> e.getName().endsWith(".class")).toList()) {
        String name = e.getName().substring(0, e.getName().length() - ".class".length());
        // Netty declares Bouncy Castle optional: it looks for it reflectively before its PEM reader (encrypted
        // keys) or self-signed generator uses it
        if (BC_USERS.contains(name) || name.startsWith("META-INF/") || name.startsWith("io/netty/")) {
          continue;
        }
        classes++;
        try (InputStream in = jar.getInputStream(e)) {
          for (String ref : references(in.readAllBytes())) {
            if (ref.startsWith("org/bouncycastle/") || ref.startsWith("io/pgtide/common/tls/CertificateAuthority")
                || BC_METHODS.stream().anyMatch(m -> ref.equals("io/pgtide/common/tls/TlsMaterial." + m))) {
              offenders.add(name + " -> " + ref);
            }
          }
        }
      }
    }
    assertThat(classes).isGreaterThan(1_000);
    assertThat(offenders).as("sidecar classes that would need Bouncy Castle").isEmpty();
  }

  /**
   * The classes and methods a class file names in its constant pool: each Class entry as {@code a/b/C} and each
   * method or field reference as {@code a/b/C.name}.
   */
  static List<String> references(byte[] classFile) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
    in.readInt(); // magic
    in.readUnsignedShort(); // minor
    in.readUnsignedShort(); // major
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    int[] classNameIndex = new int[count];
    int[][] memberRefs = new int[count][];
    int[] nameAndTypeName = new int[count];
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 7 -> classNameIndex[i] = in.readUnsignedShort();
        case 9, 10, 11 -> memberRefs[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
        case 12 -> {
          nameAndTypeName[i] = in.readUnsignedShort();
          in.readUnsignedShort();
        }
        case 3, 4 -> in.readInt();
        case 5, 6 -> {
          in.readLong();
          i++; // a long or double takes two slots
        }
        case 8, 16, 19, 20 -> in.readUnsignedShort();
        case 15 -> {
          in.readUnsignedByte();
          in.readUnsignedShort();
        }
        case 17, 18 -> in.readInt();
        default -> throw new IOException("unknown constant pool tag " + tag);
      }
    }
    List<String> refs = new ArrayList<>();
    for (int i = 1; i < count; i++) {
      if (classNameIndex[i] != 0) {
        refs.add(utf8[classNameIndex[i]]);
      }
      if (memberRefs[i] != null) {
        refs.add(utf8[classNameIndex[memberRefs[i][0]]] + "." + utf8[nameAndTypeName[memberRefs[i][1]]]);
      }
    }
    return refs;
  }
}
