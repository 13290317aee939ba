package io.pgtide.local.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * This machine as local mode and the tests use it: the child processes started here and the loopback ports handed
 * out. Opened once by whoever owns the processes (a {@code main}, a test JVM's kit) and passed to what starts them.
 * Every child it started is stopped when it closes or the JVM exits.
 */
public final class LocalMachine implements AutoCloseable {
  private final Set<ManagedProcess> live = ConcurrentHashMap.newKeySet();
  private final io.pgtide.common.process.LoopbackPorts ports = new io.pgtide.common.process.LoopbackPorts();
  /**
   * The kernel sends the parent-death signal when the <em>thread</em> that forked the child ends, not the process:
   * every child is forked by this one thread, which lives until the machine closes, after its children are stopped.
   */
  private final ExecutorService launcher = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pgtide-process-launcher");
    t.setDaemon(true);
    return t;
  });
  private final Thread reaper = new Thread(this::stopAll, "pgtide-process-reaper");

  private LocalMachine() {
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  public static LocalMachine open() {
    return new LocalMachine();
  }

  public ManagedProcess start(String name, List<String> command, Map<String, String> env, Path workDir, Path log) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(ManagedProcess.withParentDeathSignal(command)).directory(workDir.toFile())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(env);
      ManagedProcess p = new ManagedProcess(name, launcher.submit(pb::start).get(), log, live::remove);
      live.add(p);
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

  /** A free loopback port, never 5432 and never one this machine handed out before. */
  public int freePort() {
    return ports.getAsInt();
  }

  /** Whether nothing listens on this loopback port now (it can be bound). */
  public static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private void stopAll() {
    live.forEach(p -> p.stop(Duration.ofSeconds(3)));
  }

  /** Stops every child still running, then the launcher thread. */
  @Override
  public void close() {
    stopAll();
    launcher.shutdown();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down: the hook runs (or ran) anyway
    }
  }
}
