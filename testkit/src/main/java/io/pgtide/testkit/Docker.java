package io.pgtide.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** Whether a Docker engine is reachable, so Testcontainers tests can skip cleanly instead of failing. */
public final class Docker {
  private Docker() {
  }

  public static boolean available() {
    if (!Files.exists(Path.of("/var/run/docker.sock")) && System.getenv("DOCKER_HOST") == null) {
      return false;
    }
    try {
      return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable e) {
      return false;
    }
  }
}
