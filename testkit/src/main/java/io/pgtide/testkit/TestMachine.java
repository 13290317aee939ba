package io.pgtide.testkit;

import io.pgtide.local.process.LocalMachine;

/**
 * The test JVM's {@link LocalMachine}: one for every test in the JVM, so no two fixtures are handed the same port,
 * and every process a test starts is stopped when the JVM exits. Test code's equivalent of a {@code main}.
 */
public final class TestMachine {
  private static final LocalMachine MACHINE = LocalMachine.open();

  private TestMachine() {
  }

  public static LocalMachine get() {
    return MACHINE;
  }

  public static int freePort() {
    return MACHINE.freePort();
  }
}
