package io.pgtide.sidecar;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongPredicate;
import java.util.stream.Stream;

/**
 * Spilo's Patroni and PostgreSQL as the sidecar sees them in a pod that shares one process namespace
 * ({@code shareProcessNamespace: true}, the sidecar running as Spilo's postgres user so it may signal them).
 * Patroni is the process whose program (argv[0] or the script a Python interpreter runs) is named {@code patroni}
 * (not runit's {@code runsv patroni}, which supervises it in Spilo and restarts it at once when it dies);
 * PostgreSQL is every process whose executable is {@code postgres} (postmaster and backends keep that name in
 * {@code comm} whatever title they set). A process is one PID <em>and</em> its start time, so a PID reused after
 * a death is never taken for, or signalled as, the process that died. Zombies count as dead: they run nothing.
 * Blocking reads of /proc and waits: call from a worker.
 */
public final class PodProcesses {
  /** One process: PID, start time in clock ticks since boot (field 22 of /proc/PID/stat), what it is. */
  public record Proc(long pid, long startTicks, String kind) {
    JsonObject json() {
      return new JsonObject().put("pid", pid).put("startTicks", startTicks).put("kind", kind);
    }
  }

  private final Path proc;
  private final LongPredicate inScope;

  /** {@code inScope} narrows which PIDs may be looked at (in a pod: all of them; a test: its own children). */
  public PodProcesses(Path proc, LongPredicate inScope) {
    this.proc = proc;
    this.inScope = inScope;
  }

  /** Patroni and PostgreSQL processes alive now, Patroni first. */
  public List<Proc> find() {
    List<Proc> patroni = new ArrayList<>();
    List<Proc> postgres = new ArrayList<>();
    try (Stream<Path> entries = Files.list(proc)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit) || !inScope.test(Long.parseLong(name))) {
          continue;
        }
        long pid = Long.parseLong(name);
        Optional<Stat> stat = stat(pid);
        if (stat.isEmpty() || stat.get().dead()) {
          continue;
        }
        if (isPatroni(cmdline(pid))) {
          patroni.add(new Proc(pid, stat.get().startTicks, "patroni"));
        } else if (stat.get().comm.equals("postgres")) {
          postgres.add(new Proc(pid, stat.get().startTicks, "postgres"));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list " + proc + ": " + e.getMessage(), e);
    }
    List<Proc> all = new ArrayList<>(patroni);
    all.addAll(postgres);
    return all;
  }

  /** Is {@code p} (that PID with that start time) still running? */
  public boolean alive(Proc p) {
    return stat(p.pid).filter(s -> s.startTicks == p.startTicks && !s.dead()).isPresent();
  }

  /** What {@link io.pgtide.common.contract.CommandPayload.ProbeProcesses} answers. */
  public JsonObject probe() {
    List<Proc> found = find();
    return new JsonObject().put("dead", found.isEmpty()).put("processes", json(found));
  }

  /**
   * SIGKILL Patroni first (so it cannot start PostgreSQL again), then every PostgreSQL process, and wait up to
   * {@code boundMs} until each of them is gone. {@code confirmed} is true only when every process it found is
   * gone; a process that appears afterwards (the container restarted) is another incarnation, listed apart.
   */
  public JsonObject fence(long boundMs) throws InterruptedException {
    List<Proc> targets = find();
    List<String> refused = new ArrayList<>();
    for (Proc p : targets) {
      if (!kill(p)) {
        refused.add(p.kind + " " + p.pid);
      }
    }
    long deadline = System.nanoTime() + boundMs * 1_000_000;
    List<Proc> left = targets;
    while (!(left = left.stream().filter(this::alive).toList()).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    List<Proc> newer = find().stream().filter(p -> !targets.contains(p)).toList();
    JsonObject out = new JsonObject().put("confirmed", left.isEmpty()).put("killed", json(targets))
        .put("left", json(left)).put("restarted", json(newer));
    if (!refused.isEmpty()) {
      out.put("refused", new JsonArray(refused));
    }
    return out;
  }

  /** SIGKILL to exactly this process: the handle is taken only if the PID still has the start time we saw. */
  private boolean kill(Proc p) {
    Optional<ProcessHandle> handle = ProcessHandle.of(p.pid);
    if (handle.isEmpty() || !alive(p)) {
      return true; // gone already
    }
    // the handle carries the start time read when it was made; having re-checked ours after, a reuse in between
    // makes destroyForcibly refuse rather than hit a stranger
    return handle.get().destroyForcibly() || !alive(p);
  }

  private static boolean isPatroni(List<String> argv) {
    if (argv.isEmpty()) {
      return false;
    }
    // argv[1] only behind a Python interpreter: Spilo's runit supervises Patroni as "runsv patroni", a root process
    // that must never be taken for Patroni (it would be signalled, refuse, and no fence could be confirmed)
    String program = baseName(argv.get(0));
    return program.equals("patroni")
        || program.startsWith("python") && argv.size() > 1 && baseName(argv.get(1)).equals("patroni");
  }

  private static String baseName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private List<String> cmdline(long pid) {
    try {
      String raw = new String(Files.readAllBytes(proc.resolve(pid + "/cmdline")), StandardCharsets.UTF_8);
      return raw.isEmpty() ? List.of() : List.of(raw.split("\0"));
    } catch (IOException e) {
      return List.of();
    }
  }

  private record Stat(String comm, char state, long startTicks) {
    boolean dead() {
      return state == 'Z' || state == 'X' || state == 'x';
    }
  }

  private Optional<Stat> stat(long pid) {
    try {
      String line = Files.readString(proc.resolve(pid + "/stat"));
      // comm is in parentheses and may itself hold spaces or parentheses: split after the last ')'
      int open = line.indexOf('(');
      int close = line.lastIndexOf(')');
      String[] rest = line.substring(close + 2).split(" ");
      // rest[0] is field 3 (state); field 22 (starttime) is rest[19]
      return Optional.of(new Stat(line.substring(open + 1, close), rest[0].charAt(0), Long.parseLong(rest[19])));
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // gone between listing and reading
    }
  }

  private static JsonArray json(List<Proc> procs) {
    return new JsonArray(procs.stream().map(Proc::json).toList());
  }
}
