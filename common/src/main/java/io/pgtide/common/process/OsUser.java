package io.pgtide.common.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * PostgreSQL refuses to run as root. When this JVM is root, PostgreSQL and Patroni run as the unprivileged
 * {@code postgres} user (created by Debian's package) through {@code setpriv}, which execs in place so the PID we
 * hold is the PID of the real process (runuser would fork and leave its child behind on SIGKILL).
 */
public final class OsUser {
  public static final String POSTGRES = "postgres";

  private OsUser() {
  }

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  public static List<String> asPostgres(List<String> command) {
    if (!isRoot()) {
      return command;
    }
    List<String> out = new ArrayList<>(List.of("setpriv", "--reuid=" + POSTGRES, "--regid=" + POSTGRES,
        "--init-groups", "--"));
    out.addAll(command);
    return out;
  }

  /** A directory the unprivileged user owns; {@code privateDir} makes it 0700 as PostgreSQL demands of PGDATA. */
  public static Path ownedDirectory(Path dir, boolean privateDir) {
    try {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(privateDir ? "rwx------" : "rwxr-xr-x"));
      if (isRoot()) {
        run(List.of("chown", "-R", POSTGRES + ":" + POSTGRES, dir.toString()));
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare directory " + dir, e);
    }
  }

  /** Makes every parent of {@code dir} traversable so the unprivileged user can reach it. */
  public static void makeTraversable(Path dir) {
    if (!isRoot()) {
      return;
    }
    for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
      try {
        if (Files.isDirectory(p)) {
          var perms = Files.getPosixFilePermissions(p);
          perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
          Files.setPosixFilePermissions(p, perms);
        }
      } catch (IOException | UnsupportedOperationException e) {
        // best effort: a parent we cannot change is reported when the process fails to start
      }
    }
  }

  static void run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (p.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + out.trim());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Runs a short command to completion, returning its output; fails with the output when it exits non-zero. */
  /** Deletes a directory and everything under it (data directories a test or scale-down gives up). */
  public static void deleteTree(Path dir) {
    if (!java.nio.file.Files.exists(dir)) {
      return;
    }
    try (var walk = java.nio.file.Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot delete " + dir, e);
    }
  }

  public static String runChecked(List<String> command, Path log) {
    return runChecked(command, java.util.Map.of(), log);
  }

  /** Runs {@code command} with {@code env} added; its output, or the output in the failure on a non-zero exit. */
  public static String runChecked(List<String> command, java.util.Map<String, String> env, Path log) {
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      pb.environment().putAll(env);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes());
      int rc = p.waitFor();
      if (log != null) {
        Files.writeString(log, "$ " + String.join(" ", command) + "\n" + out,
            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      }
      if (rc != 0) {
        throw new IllegalStateException(String.join(" ", command) + " exited " + rc + ": " + out.trim());
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
