package io.pgtide.backup;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a copy of one cluster's Barman repository (its base backups and WAL) in S3-compatible object storage, with
 * Debian's rclone: {@code rclone sync} of the server's directory to {@code bucket/prefix}, so the copy is what the
 * repository is, retention included. The credentials reach rclone through its environment (never a command line,
 * never logged). Blocking.
 */
public final class RepositoryCopy {
  /** What the agent's environment names: endpoint, bucket, prefix, region, and the two keys. */
  public record Target(String endpoint, String bucket, String prefix, String region, String accessKeyId,
                       String secretAccessKey) {
    @Override
    public String toString() {
      return endpoint + "/" + bucket + "/" + prefix;
    }

    /** From the variables the operator sets (the agent's and a restore Job's); null when no bucket is named. */
    public static Target fromEnvironment(Map<String, String> env) {
      if (env.get("PGTIDE_S3_BUCKET") == null || env.get("PGTIDE_S3_BUCKET").isBlank()) {
        return null;
      }
      return new Target(required(env, "PGTIDE_S3_ENDPOINT"), required(env, "PGTIDE_S3_BUCKET"),
          required(env, "PGTIDE_S3_PREFIX"), env.getOrDefault("PGTIDE_S3_REGION", "us-east-1"),
          required(env, "PGTIDE_S3_ACCESS_KEY_ID"), required(env, "PGTIDE_S3_SECRET_ACCESS_KEY"));
    }

    private static String required(Map<String, String> env, String name) {
      String v = env.get(name);
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException(name + " is not set");
      }
      return v;
    }
  }

  private final Path source;
  private final Target target;
  private volatile JsonObject status = new JsonObject();

  public RepositoryCopy(Path source, Target target) {
    this.source = source;
    this.target = target;
  }

  /** rclone's configuration of the remote, as environment variables (a remote named "pgtides3"). Pure. */
  static Map<String, String> environment(Target t) {
    return Map.of("RCLONE_CONFIG_PGTIDES3_TYPE", "s3", "RCLONE_CONFIG_PGTIDES3_PROVIDER", "Other",
        "RCLONE_CONFIG_PGTIDES3_ENDPOINT", t.endpoint(), "RCLONE_CONFIG_PGTIDES3_REGION", t.region(),
        "RCLONE_CONFIG_PGTIDES3_ACCESS_KEY_ID", t.accessKeyId(),
        "RCLONE_CONFIG_PGTIDES3_SECRET_ACCESS_KEY", t.secretAccessKey(),
        "RCLONE_CONFIG_PGTIDES3_FORCE_PATH_STYLE", "true");
  }

  /**
   * Where Barman keeps a base backup's metadata (its status DONE among it): {@code meta/<id>-backup.info} from 3.12,
   * {@code base/<id>/backup.info} before.
   */
  static final List<String> METADATA = List.of("/meta/**", "/base/*/backup.info");

  /**
   * One sync; the result is {@link #status()}. Fails with rclone's last lines. In two passes: first the new files
   * but the backups' metadata (nothing deleted), then the whole as it is (the metadata, and what retention removed).
   * So a restore or a standby that fetches the copy while a new base backup is being copied never finds it marked
   * done with its data only half there.
   */
  public void sync() {
    long started = System.currentTimeMillis();
    try {
      List<String> withoutMetadata = new ArrayList<>();
      METADATA.forEach(m -> withoutMetadata.addAll(List.of("--exclude", m)));
      rclone("copy", source.toString(), remote(), withoutMetadata);
      rclone("sync", source.toString(), remote(), List.of());
      status = new JsonObject().put("target", target.toString()).put("lastCopyAt", Instant.now().toString())
          .put("lastCopySeconds", Duration.ofMillis(System.currentTimeMillis() - started).toMillis() / 1000.0);
    } catch (java.io.UncheckedIOException | IllegalStateException e) {
      fail(started, e.getMessage());
      throw e;
    }
  }

  /**
   * The other way, for a restore: the copy into the (empty) local directory. {@link IllegalArgumentException} when
   * the copy holds no base backup there (a wrong bucket or prefix), rclone's failure otherwise.
   */
  public void fetch() {
    rclone("copy", remote(), source.toString(), List.of());
    try (var files = java.nio.file.Files.list(source.resolve("base"))) {
      if (files.findAny().isPresent()) {
        return;
      }
    } catch (java.io.IOException e) {
      // no base/ at all: below
    }
    throw new IllegalArgumentException("no base backup in " + target + " (the bucket and prefix the source's "
        + "spec.backup.s3 wrote to: prefix defaults to <namespace>/<cluster> of the source)");
  }

  private String remote() {
    return "pgtides3:" + target.bucket() + "/" + target.prefix();
  }

  private void rclone(String verb, String from, String to, List<String> filters) {
    List<String> cmd = new ArrayList<>(List.of("rclone", verb, from, to, "--s3-no-check-bucket", "--stats-one-line",
        "--stats-log-level", "NOTICE", "--stats", "0", "--retries", "3", "--low-level-retries", "3"));
    cmd.addAll(filters);
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      // rclone 1.60 fails on any AWS_CA_BUNDLE ("unsupported transport"); the system's CAs are what it uses then
      pb.environment().remove("AWS_CA_BUNDLE");
      pb.environment().putAll(environment(target));
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(30, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException("rclone " + verb + " of " + target + " did not finish within 30 min");
      }
      if (p.exitValue() != 0) {
        String[] lines = out.split("\n");
        throw new IllegalStateException("rclone " + verb + " of " + target + " failed (exit " + p.exitValue() + "): "
            + String.join(" | ", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 3), lines.length)));
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot run rclone: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private void fail(long started, String why) {
    status = status.copy().put("target", target.toString()).put("lastFailure", why)
        .put("lastFailureAt", Instant.ofEpochMilli(started).toString());
  }

  /** The last copy (time, duration) and the last failure with its reason, if any. */
  public JsonObject status() {
    return status.copy();
  }
}
