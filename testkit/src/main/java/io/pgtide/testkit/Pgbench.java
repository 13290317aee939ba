package io.pgtide.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** Runs Debian's pgbench (or another client command) to completion against a loopback server. */
public final class Pgbench {
  private Pgbench() {
  }

  /** Runs {@code command} with PGPASSWORD set and returns its output; fails with the output on a non-zero exit. */
  public static String run(List<String> command, String password) {
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      pb.environment().put("PGPASSWORD", password);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes());
      if (p.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** {@code pgbench -i -s scale} through 127.0.0.1:port as {@code user}. */
  public static void init(int port, String user, String password, int scale) {
    run(List.of("pgbench", "-i", "-s", Integer.toString(scale), "-q", "-h", "127.0.0.1", "-p",
        Integer.toString(port), "-U", user, "postgres"), password);
  }
}
