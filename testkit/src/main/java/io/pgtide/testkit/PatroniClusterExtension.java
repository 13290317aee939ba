package io.pgtide.testkit;

import io.pgtide.local.process.PatroniCluster;
import io.pgtide.local.process.PatroniTiming;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real etcd + Patroni cluster of 1..5 members for a test class, ready when a leader runs and every replica
 * streams. Stopped by PID after the class, also when it fails (and by a shutdown hook on JVM exit).
 * <pre>{@code @RegisterExtension static PatroniClusterExtension pg = PatroniClusterExtension.members(3);}</pre>
 */
public final class PatroniClusterExtension implements BeforeAllCallback, AfterAllCallback {
  private final int size;
  private PatroniTiming timing = PatroniTiming.FAST;
  private Map<String, String> parameters = Map.of();
  private PatroniCluster cluster;

  private PatroniClusterExtension(int size) {
    if (size < 1 || size > 5) {
      throw new IllegalArgumentException("members must be 1..5");
    }
    this.size = size;
  }

  public static PatroniClusterExtension members(int size) {
    return new PatroniClusterExtension(size);
  }

  public PatroniClusterExtension timing(PatroniTiming timing) {
    this.timing = timing;
    return this;
  }

  public PatroniClusterExtension parameters(Map<String, String> parameters) {
    this.parameters = parameters;
    return this;
  }

  public PatroniCluster cluster() {
    return cluster;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    String name = context.getRequiredTestClass().getSimpleName().toLowerCase();
    cluster = PatroniCluster.start(TestMachine.get(), "pg" + Long.toString(System.nanoTime() % 100000, 36),
        TestDirs.create(name), size, timing, parameters);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (cluster != null) {
      cluster.close();
    }
  }
}
