package io.pgtide.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The backup image's jar carries backups and nothing else (issue #30): no operator, local mode, CLI or sidecar
 * classes and no Kubernetes client. Maven runs it twice: in the test phase on the classpath the shaded jar is made
 * of (a superset: the module's classes and its runtime dependencies, plus the test libraries), and after packaging
 * on {@code target/pgtide-backup.jar} itself (the surefire execution {@code shaded-jar} names it in
 * {@code pgtide.backup.jar}).
 */
class BackupJarTest {
  static final List<String> FORBIDDEN = List.of("io/pgtide/operator/", "io/pgtide/local/", "io/pgtide/cli/",
      "io/pgtide/sidecar/", "io/pgtide/testkit/", "io/fabric8/");

  @Test
  void theBackupJarHoldsNoOperatorLocalModeOrKubernetesClientClasses() throws IOException {
    String built = System.getProperty("pgtide.backup.jar");
    List<String> entries = new ArrayList<>();
    if (built != null) {
      try (JarFile jar = new JarFile(built)) {
        jar.stream().forEach(e -> entries.add(e.getName()));
        assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
            .isEqualTo(BackupMain.class.getName());
      }
      System.out.printf("%s: %d bytes, %d entries%n", built, Files.size(Path.of(built)), entries.size());
    } else {
      for (String element : System.getProperty("java.class.path").split(File.pathSeparator)) {
        entries.addAll(entriesOf(Path.of(element)));
      }
    }
    assertThat(entries).as("what the backup image would run").contains("io/pgtide/backup/BackupAgent.class",
        "io/pgtide/backup/BackupRestore.class", "io/pgtide/common/backup/BackupPolicy.class");
    assertThat(entries.stream().filter(e -> e.endsWith(".class"))
        .filter(e -> FORBIDDEN.stream().anyMatch(e::startsWith)).toList()).isEmpty();
  }

  private static List<String> entriesOf(Path element) {
    try {
      if (Files.isDirectory(element)) {
        try (Stream<Path> walk = Files.walk(element)) {
          return walk.filter(Files::isRegularFile)
              .map(p -> element.relativize(p).toString().replace(File.separatorChar, '/')).toList();
        }
      }
      if (!Files.isRegularFile(element)) {
        return List.of();
      }
      try (JarFile jar = new JarFile(element.toFile())) {
        return jar.stream().map(e -> e.getName()).toList();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + element, e);
    }
  }
}
