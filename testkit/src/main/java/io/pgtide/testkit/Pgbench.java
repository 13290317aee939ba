package io.pgtide.testkit;

import io.pgtide.common.process.OsUser;
import java.util.List;
import java.util.Map;

/** Runs Debian's pgbench (or another client command) to completion against a loopback server. */
public final class Pgbench {
  private Pgbench() {
  }

  /** Runs {@code command} with PGPASSWORD set and returns its output; fails with the output on a non-zero exit. */
  public static String run(List<String> command, String password) {
    return OsUser.runChecked(command, Map.of("PGPASSWORD", password), null);
  }

  /** {@code pgbench -i -s scale} through 127.0.0.1:port as {@code user}. */
  public static void init(int port, String user, String password, int scale) {
    run(List.of("pgbench", "-i", "-s", Integer.toString(scale), "-q", "-h", "127.0.0.1", "-p",
        Integer.toString(port), "-U", user, "postgres"), password);
  }
}
