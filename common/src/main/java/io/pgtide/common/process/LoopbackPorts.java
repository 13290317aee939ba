package io.pgtide.common.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Free loopback ports for the servers a process starts (local mode's members, a restore's or verification's
 * scratch PostgreSQL): never 5432, and never one handed out before by the same instance, so two servers started
 * close together are not given the same port before either binds it. One per process, held by what owns it.
 */
public final class LoopbackPorts implements IntSupplier {
  private final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

  @Override
  public int getAsInt() {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        socket.setReuseAddress(true);
        int port = socket.getLocalPort();
        if (port != 5432 && handedOut.add(port)) {
          return port;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("no free loopback port", e);
      }
    }
    throw new IllegalStateException("no free loopback port after 100 attempts");
  }
}
