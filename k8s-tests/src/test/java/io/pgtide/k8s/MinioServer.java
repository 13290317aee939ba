package io.pgtide.k8s;

import static org.awaitility.Awaitility.await;

import io.pgtide.local.process.ManagedProcess;
import io.pgtide.testkit.TestDirs;
import io.pgtide.testkit.TestMachine;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real S3-compatible server for the backup tests: MinIO, built from its Go module by
 * {@code scripts/k8s/build-binaries.sh} (Debian packages none), listening on the test cluster's node address so the
 * backup agent's pod reaches it, with a fresh data directory per test. Read back with Debian's rclone.
 */
final class MinioServer implements AutoCloseable {
  static final String NODE_IP = "10.213.0.1";
  final int port;
  private final ManagedProcess process;
  private final String secret;

  static Path binary(RealKubernetes k8s) {
    String path = k8s.script("minio-path.sh").strip();
    Path bin = Path.of(path.lines().reduce((a, b) -> b).orElseThrow());
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException("MinIO is not built at " + bin + " (scripts/k8s/build-binaries.sh builds it)");
    }
    return bin;
  }

  static MinioServer start(RealKubernetes k8s) {
    Path dir = TestDirs.create("minio");
    int port = TestMachine.freePort();
    String secret = "pgtide-test-" + Long.toHexString(System.nanoTime());
    ManagedProcess p = TestMachine.get().start("minio", List.of(binary(k8s).toString(), "server",
            dir.resolve("data").toString(), "--address", NODE_IP + ":" + port, "--console-address", NODE_IP + ":0"),
        Map.of("MINIO_ROOT_USER", "pgtide-test", "MINIO_ROOT_PASSWORD", secret, "MINIO_BROWSER", "off",
            "HOME", dir.toString()), dir, dir.resolve("minio.log"));
    MinioServer server = new MinioServer(port, p, secret);
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(NODE_IP, port), 500);
        return true;
      } catch (IOException e) {
        return false;
      }
    });
    return server;
  }

  private MinioServer(int port, ManagedProcess process, String secret) {
    this.port = port;
    this.process = process;
    this.secret = secret;
  }

  String endpoint() {
    return "http://" + NODE_IP + ":" + port;
  }

  String user() {
    return "pgtide-test";
  }

  String password() {
    return secret;
  }

  /** rclone against this server (its remote "minio"), e.g. {@code mkdir minio:bucket}; fails with rclone's output. */
  String rclone(String... args) {
    List<String> cmd = new ArrayList<>(List.of("rclone"));
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      // Debian's rclone 1.60 cannot load a CA bundle named by AWS_CA_BUNDLE (some machines set it): plain http here
      pb.environment().remove("AWS_CA_BUNDLE");
      pb.environment().putAll(Map.of("RCLONE_CONFIG_MINIO_TYPE", "s3", "RCLONE_CONFIG_MINIO_PROVIDER", "Minio",
          "RCLONE_CONFIG_MINIO_ENDPOINT", endpoint(), "RCLONE_CONFIG_MINIO_ACCESS_KEY_ID", user(),
          "RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY", secret));
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("rclone " + String.join(" ", args) + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    process.stop(Duration.ofSeconds(10));
  }
}
