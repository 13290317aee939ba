package io.pgtide.common.secrets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Files holding secrets (passwords, keys): created with mode 0600 from the first byte, never written world-readable
 * and tightened afterwards, and replaced atomically so a reader sees the old content or the new, never half.
 */
public final class PrivateFiles {
  private PrivateFiles() {
  }

  public static void write(Path file, byte[] content) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try {
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the private file " + file, e);
    }
  }

  public static void write(Path file, String content) {
    write(file, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** The file's content, created with {@code initial} first when it does not exist yet. */
  public static byte[] readOrCreate(Path file, java.util.function.Supplier<byte[]> initial) {
    try {
      if (!Files.exists(file)) {
        write(file, initial.get());
      }
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the private file " + file, e);
    }
  }
}
