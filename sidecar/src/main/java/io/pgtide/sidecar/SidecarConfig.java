package io.pgtide.sidecar;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.secrets.BasicCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Everything the sidecar needs, from the environment (the pod's downward API and mounted Secrets). The password
 * is read from {@code PGTIDE_PG_PASSWORD_FILE} (a mounted Secret) or {@code PGTIDE_PG_PASSWORD}; never logged.
 * {@code patroniCredentials} (null: none) go with every request that changes Patroni's state, for a REST API that
 * demands them ({@code PGTIDE_PATRONI_USER} with {@code PGTIDE_PATRONI_PASSWORD_FILE}; local mode sets both).
 */
public record SidecarConfig(MemberId id, String pgHost, int pgPort, String pgUser, String pgPassword,
                            String pgDatabase, String patroniUrl, String operatorHost, int operatorPort,
                            Path tlsDir, int httpPort, long intervalMs, long roleWatchMs, long connectTimeoutMs,
                            ResourceSource resources, boolean podProcesses, BasicCredentials patroniCredentials) {

  /**
   * Where CPU and memory come from: the sidecar's own cgroup, or PostgreSQL's process tree — on Kubernetes (the pod
   * shares one process namespace: the sidecar's cgroup is its own container's, not Spilo's) and in local mode (every
   * member shares the machine's cgroup). Limits: those given (on Kubernetes the Spilo container's, through the
   * downward API), else the machine's.
   */
  public record ResourceSource(boolean processTree, Double cpuLimitCores, Long memoryLimitBytes) {
    public static final ResourceSource CGROUP = new ResourceSource(false, null, null);
    public static final ResourceSource PROCESS_TREE = new ResourceSource(true, null, null);

    static ResourceSource fromEnv(Map<String, String> env) {
      Long millicores = positive(env, "PGTIDE_PG_CPU_LIMIT_MILLICORES");
      return new ResourceSource("process-tree".equals(env.get("PGTIDE_RESOURCES")),
          millicores == null ? null : millicores / 1000.0, positive(env, "PGTIDE_PG_MEMORY_LIMIT_BYTES"));
    }

    private static Long positive(Map<String, String> env, String name) {
      String value = env.get(name);
      if (value == null || value.isBlank()) {
        return null;
      }
      try {
        long n = Long.parseLong(value.strip());
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // said below
      }
      throw new IllegalArgumentException(name + " must be a positive whole number, got '" + value + "'");
    }
  }

  /*
   * podProcesses: the sidecar shares its pod's process namespace with Spilo (PGTIDE_POD_PROCESSES=true, set by the
   * operator with shareProcessNamespace), so it may fence and probe Spilo's Patroni and PostgreSQL; never in local
   * mode, where every process of the machine would be in sight.
   */

  public SidecarConfig(MemberId id, String pgHost, int pgPort, String pgUser, String pgPassword, String pgDatabase,
                       String patroniUrl, String operatorHost, int operatorPort, Path tlsDir, int httpPort,
                       long intervalMs, long roleWatchMs, long connectTimeoutMs) {
    this(id, pgHost, pgPort, pgUser, pgPassword, pgDatabase, patroniUrl, operatorHost, operatorPort, tlsDir, httpPort,
        intervalMs, roleWatchMs, connectTimeoutMs, ResourceSource.CGROUP, false, null);
  }

  /** The same, sending {@code credentials} to Patroni with every request that changes its state. */
  public SidecarConfig withPatroniCredentials(BasicCredentials credentials) {
    return new SidecarConfig(id, pgHost, pgPort, pgUser, pgPassword, pgDatabase, patroniUrl, operatorHost, operatorPort,
        tlsDir, httpPort, intervalMs, roleWatchMs, connectTimeoutMs, resources, podProcesses, credentials);
  }

  /** Spilo uses 5432, 8008 and 8080 in the pod; the sidecar's HTTP port is none of them. */
  public static final int DEFAULT_HTTP_PORT = 9188;

  public SidecarConfig {
    if (httpPort == 5432 || httpPort == 8008 || httpPort == 8080) {
      throw new IllegalArgumentException("PGTIDE_HTTP_PORT " + httpPort + " is taken by Spilo (5432, 8008, 8080)");
    }
    if (intervalMs < 100) {
      throw new IllegalArgumentException("PGTIDE_INTERVAL_MS must be at least 100, got " + intervalMs);
    }
  }

  @Override
  public String toString() {
    return "SidecarConfig[id=" + id + ", pg=" + pgUser + "@" + pgHost + ":" + pgPort + "/" + pgDatabase
        + ", patroni=" + patroniUrl + ", operator=" + operatorHost + ":" + operatorPort + ", http=" + httpPort
        + ", intervalMs=" + intervalMs + ", password=" + (pgPassword == null ? "none" : "set")
        + ", patroniCredentials=" + (patroniCredentials == null ? "none" : patroniCredentials.username()) + "]";
  }

  public static SidecarConfig fromEnv(Map<String, String> env) {
    MemberId id = new MemberId(required(env, "PGTIDE_NAMESPACE", "POD_NAMESPACE"),
        required(env, "PGTIDE_CLUSTER", "SCOPE"), required(env, "PGTIDE_MEMBER", "POD_NAME"));
    return new SidecarConfig(id,
        env.getOrDefault("PGTIDE_PG_HOST", "127.0.0.1"),
        integer(env, "PGTIDE_PG_PORT", 5432),
        env.getOrDefault("PGTIDE_PG_USER", env.getOrDefault("PGUSER_SUPERUSER", "postgres")),
        password(env),
        env.getOrDefault("PGTIDE_PG_DATABASE", "postgres"),
        env.getOrDefault("PGTIDE_PATRONI_URL", "http://127.0.0.1:8008"),
        env.getOrDefault("PGTIDE_OPERATOR_HOST", "pgtide-operator"),
        integer(env, "PGTIDE_OPERATOR_PORT", 7443),
        Path.of(env.getOrDefault("PGTIDE_TLS_DIR", "/etc/pgtide/tls")),
        integer(env, "PGTIDE_HTTP_PORT", DEFAULT_HTTP_PORT),
        integer(env, "PGTIDE_INTERVAL_MS", 1000),
        integer(env, "PGTIDE_ROLE_WATCH_MS", 250),
        integer(env, "PGTIDE_CONNECT_TIMEOUT_MS", 1000),
        ResourceSource.fromEnv(env),
        "true".equals(env.get("PGTIDE_POD_PROCESSES")),
        patroniCredentials(env));
  }

  private static BasicCredentials patroniCredentials(Map<String, String> env) {
    String user = env.get("PGTIDE_PATRONI_USER");
    if (user == null || user.isBlank()) {
      return null;
    }
    String file = env.get("PGTIDE_PATRONI_PASSWORD_FILE");
    if (file == null || file.isBlank()) {
      throw new IllegalArgumentException("PGTIDE_PATRONI_USER needs PGTIDE_PATRONI_PASSWORD_FILE");
    }
    try {
      return new BasicCredentials(user, Files.readString(Path.of(file)).strip());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read PGTIDE_PATRONI_PASSWORD_FILE " + file, e);
    }
  }

  private static String password(Map<String, String> env) {
    String file = env.get("PGTIDE_PG_PASSWORD_FILE");
    if (file != null) {
      try {
        return Files.readString(Path.of(file)).strip();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read PGTIDE_PG_PASSWORD_FILE " + file, e);
      }
    }
    return env.getOrDefault("PGTIDE_PG_PASSWORD", env.get("PGPASSWORD_SUPERUSER"));
  }

  private static String required(Map<String, String> env, String name, String fallback) {
    String value = env.getOrDefault(name, env.get(fallback));
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("environment variable " + name + " (or " + fallback + ") is required");
    }
    return value;
  }

  private static int integer(Map<String, String> env, String name, int fallback) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("environment variable " + name + " must be an integer, got '" + value + "'");
    }
  }
}
