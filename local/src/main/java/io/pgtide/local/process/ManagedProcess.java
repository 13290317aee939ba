package io.pgtide.local.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A child process we started and must stop, by PID. Its output goes to one log file. Started by a
 * {@link LocalMachine}, which stops it when that machine closes or the JVM exits, and under a parent-death signal so
 * it dies with this JVM even when the JVM is SIGKILLed (no hook runs then).
 */
public final class ManagedProcess {
  private final String name;
  private final Process process;
  private final Path log;
  private final Consumer<ManagedProcess> gone;

  ManagedProcess(String name, Process process, Path log, Consumer<ManagedProcess> gone) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.gone = gone;
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
      gone.accept(this);
    }
  }

  public void kill() {
    Signals.send(pid(), Signal.KILL);
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    gone.accept(this);
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
