package io.pgtide.cli.local;

import io.pgtide.local.process.Signal;
import io.pgtide.local.process.Signals;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a local cluster's crashed operator left running: its etcd, Patroni, PostgreSQL and sidecar processes. They
 * are recognised by what they run, never by a recorded PID alone (a PID may have been reused): a command line that
 * names a path under the cluster's directory (etcd's data dir, patroni.yml, the postmaster's -D) or a working
 * directory inside it (the sidecars). Stopping them goes gently first (sidecars, then Patroni, which stops its
 * PostgreSQL, then any postmaster left, fast shutdown, then etcd) and hard after a grace period.
 */
public final class Leftovers {
  /** One process of the cluster; {@code kind} orders the stop. */
  public record Leftover(long pid, String kind, String commandLine) {
  }

  private Leftovers() {
  }

  public static List<Leftover> find(Path dir) {
    String root = dir.toAbsolutePath().normalize().toString();
    long self = ProcessHandle.current().pid();
    List<Leftover> out = new ArrayList<>();
    ProcessHandle.allProcesses().filter(p -> p.pid() != self).forEach(p -> {
      String cmd = commandLine(p.pid());
      Path cwd = cwd(p.pid());
      boolean ours = cmd.contains(root + "/") || (cwd != null && cwd.toString().startsWith(root));
      if (ours && !cmd.isEmpty()) {
        out.add(new Leftover(p.pid(), kind(cmd), cmd));
      }
    });
    out.sort(Comparator.comparingInt(l -> order(l.kind())));
    return out;
  }

  /** Stops them in order; returns what was stopped. Blocking. */
  public static List<Leftover> stop(Path dir) {
    List<Leftover> found = find(dir);
    for (String kind : List.of("sidecar", "patroni", "postgres", "etcd", "other")) {
      List<Leftover> these = found.stream().filter(l -> l.kind().equals(kind)).toList();
      // a postmaster's fast shutdown is SIGINT; everything else stops on SIGTERM
      // (its children exit with it: only postmasters are signalled first)
      these.stream().filter(l -> !kind.equals("postgres") || l.commandLine().contains(" -D "))
          .forEach(l -> Signals.send(l.pid(), kind.equals("postgres") ? Signal.INT : Signal.TERM));
      long deadline = System.nanoTime() + Duration.ofSeconds(kind.equals("patroni") ? 60 : 20).toNanos();
      while (these.stream().anyMatch(l -> alive(l)) && System.nanoTime() < deadline) {
        sleep();
      }
      these.stream().filter(Leftovers::alive).forEach(l -> Signals.send(l.pid(), Signal.KILL));
    }
    return found;
  }

  private static boolean alive(Leftover l) {
    // the same process still: alive, and still running what it ran (not a reused PID)
    return Signals.alive(l.pid()) && commandLine(l.pid()).equals(l.commandLine());
  }

  private static String kind(String cmd) {
    if (cmd.contains("io.pgtide.sidecar.SidecarMain")) {
      return "sidecar";
    }
    if (cmd.contains("/usr/bin/patroni")) {
      return "patroni";
    }
    if (cmd.contains("/bin/postgres") || cmd.startsWith("postgres")) {
      return "postgres";
    }
    if (cmd.contains("etcd")) {
      return "etcd";
    }
    return "other";
  }

  private static int order(String kind) {
    return List.of("sidecar", "patroni", "postgres", "etcd", "other").indexOf(kind);
  }

  private static String commandLine(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static Path cwd(long pid) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
