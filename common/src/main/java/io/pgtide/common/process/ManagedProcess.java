package io.pgtide.common.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A child process we started and must stop, by PID. Its output goes to one log file. Every live instance is also
 * stopped by a JVM shutdown hook, and every child dies with this JVM even when it is SIGKILLed (no hook runs then):
 * it is started under a parent-death signal (SIGTERM: Patroni stops PostgreSQL cleanly, etcd and sidecars exit).
 */
public final class ManagedProcess {
  private static final Set<ManagedProcess> LIVE = ConcurrentHashMap.newKeySet();
  /**
   * The kernel sends the parent-death signal when the <em>thread</em> that forked the child ends, not the process:
   * every child is forked by this one thread, which lives as long as the JVM (process-wide by nature, like the
   * shutdown hook).
   */
  private static final ExecutorService LAUNCHER = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pgtide-process-launcher");
    t.setDaemon(true);
    return t;
  });

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> p.stop(Duration.ofSeconds(3))),
        "pgtide-process-reaper"));
  }

  private final String name;
  private final Process process;
  private final Path log;

  private ManagedProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  public static ManagedProcess start(String name, List<String> command, Map<String, String> env, Path workDir,
                                     Path log) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(withParentDeathSignal(command)).directory(workDir.toFile())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(env);
      ManagedProcess p = new ManagedProcess(name, LAUNCHER.submit(pb::start).get(), log);
      LIVE.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + String.join(" ", command) + ")", e);
    } catch (ExecutionException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + String.join(" ", command) + ")",
          e.getCause() instanceof IOException io ? io : new IOException(e.getCause()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting " + name, e);
    }
  }

  /**
   * {@code command} under util-linux's setpriv with a parent-death signal; setpriv execs in place, so the PID we
   * hold stays the real process's. A command already run through setpriv (as the postgres user) gets the option
   * added: setpriv sets it after changing credentials, which would otherwise clear it.
   */
  static List<String> withParentDeathSignal(List<String> command) {
    List<String> out = new ArrayList<>();
    if (!command.isEmpty() && command.get(0).equals("setpriv")) {
      out.add("setpriv");
      out.add("--pdeathsig=TERM");
      out.addAll(command.subList(1, command.size()));
    } else {
      out.addAll(List.of("setpriv", "--pdeathsig=TERM", "--"));
      out.addAll(command);
    }
    return out;
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public Path log() {
    return log;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Process process() {
    return process;
  }

  public void signal(Signal signal) {
    Signals.send(pid(), signal);
  }

  /** SIGTERM, then SIGKILL after {@code grace}; waits until the process is gone. */
  public void stop(Duration grace) {
    try {
      if (process.isAlive()) {
        Signals.send(pid(), Signal.CONT); // a frozen process cannot act on SIGTERM
        Signals.send(pid(), Signal.TERM);
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          Signals.send(pid(), Signal.KILL);
          process.waitFor(10, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      LIVE.remove(this);
    }
  }

  public void kill() {
    Signals.send(pid(), Signal.KILL);
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LIVE.remove(this);
  }

  public String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
