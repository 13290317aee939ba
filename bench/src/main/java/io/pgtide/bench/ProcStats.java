package io.pgtide.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** RSS and CPU time of a process from /proc (Linux). */
final class ProcStats {
  private static final double TICKS = 100.0; // USER_HZ on Linux

  private ProcStats() {
  }

  static long rssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  /** user + system CPU seconds, including reaped children. */
  static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // fields after the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
    return (Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14])) / TICKS;
  }
}
