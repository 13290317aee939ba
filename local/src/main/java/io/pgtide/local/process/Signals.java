package io.pgtide.local.process;

import java.io.IOException;

/** Sends POSIX signals by PID with {@code kill}; as root this reaches the postgres user's processes too. */
public final class Signals {
  private Signals() {
  }

  public static boolean send(long pid, Signal signal) {
    try {
      Process p = new ProcessBuilder("kill", "-" + signal.name(), Long.toString(pid)).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }
}
