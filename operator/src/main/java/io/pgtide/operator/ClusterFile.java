package io.pgtide.operator;

import com.fasterxml.jackson.databind.JsonMappingException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.operator.k8s.model.ClusterValidation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import io.pgtide.common.contract.CustomQueries;
import io.pgtide.common.crd.PostgresClusterSpec;
import java.util.stream.Collectors;

/**
 * A PostgresCluster file, read and checked the same way on every path (`render`, `validate`, `local up`): the kind,
 * the types (a wrong one is named by its field path), then {@link ClusterValidation} — the rules the operator
 * applies on Kubernetes too — and, for local mode, its own bounds: members, and its default PostgreSQL major (a file
 * without postgresVersion means 15 in local mode, the CRD's default, 17, on Kubernetes), whose programs must be
 * installed on this machine ({@code PgBin.localDir}, or where local mode is told they are).
 */
public final class ClusterFile {
  /** Local mode runs every member on this machine. */
  public static final int LOCAL_MAX_MEMBERS = 9;
  /**
   * The PostgreSQL major local mode runs when the file names none: Debian 12's packages (the local module's {@code
   * PatroniMember.BIN_DIR}). Kubernetes' default image is Spilo 17, hence the CRD's default of 17 there.
   */
  public static final int LOCAL_POSTGRES_VERSION = 15;

  /** The file is not a valid PostgresCluster; the message names the field, the value and the rule. */
  public static final class Invalid extends RuntimeException {
    public Invalid(String message) {
      super(message);
    }
  }

  private ClusterFile() {
  }

  /** Reads and checks; {@code local} adds local mode's bounds. */
  public static PostgresCluster load(Path file, boolean local) {
    PostgresCluster cr = read(file, local);
    String problem = problem(cr, local);
    if (problem != null) {
      throw new Invalid(file + ": " + problem);
    }
    customQueries(cr, file);
    return cr;
  }

  /**
   * The custom queries files a cluster file names, resolved against its directory (so the spec holds absolute
   * paths from here on) and parsed as the sidecar will parse them: a file it would refuse is refused here, on
   * every path, before anything starts.
   */
  static void customQueries(PostgresCluster cr, Path file) {
    var queries = cr.getSpec().monitoring == null ? List.<PostgresClusterSpec.CustomQueriesSpec>of()
        : cr.getSpec().monitoring.customQueries;
    List<CustomQueries.Query> all = new java.util.ArrayList<>();
    for (int i = 0; queries != null && i < queries.size(); i++) {
      var q = queries.get(i);
      if (q.path == null || q.path.isBlank()) {
        continue;
      }
      Path resolved = file.toAbsolutePath().getParent().resolve(q.path).normalize();
      q.path = resolved.toString();
      String text;
      try {
        text = Files.readString(resolved);
      } catch (IOException e) {
        throw new Invalid(file + ": monitoring.customQueries[" + i + "].path: cannot read " + resolved);
      }
      try {
        all.addAll(CustomQueries.parse(text, resolved.toString()));
        CustomQueries.check(all);
      } catch (CustomQueries.Invalid e) {
        throw new Invalid(file + ": monitoring.customQueries[" + i + "]: " + e.getMessage());
      }
    }
  }

  public static String problem(PostgresCluster cr, boolean local) {
    return problem(cr, local, io.pgtide.common.process.PgBin::localDir);
  }

  /** The same; in local mode, the file's major must be installed where {@code binDirs} says its programs are. */
  public static String problem(PostgresCluster cr, boolean local, java.util.function.IntFunction<String> binDirs) {
    String problem = ClusterValidation.problem(cr);
    if (problem == null) {
      // the allowlist the operator would apply: its PGTIDE_ALLOWED_IMAGES when set here too, else its default
      problem = ClusterValidation.imageProblem(cr.getSpec(),
          io.pgtide.operator.k8s.model.OperatorConfig.fromEnv(System.getenv()).allowedImages());
    }
    if (problem == null && !local) {
      problem = ClusterValidation.kubernetesProblem(cr.getSpec());
    }
    if (problem == null && local && cr.getSpec().replicas > LOCAL_MAX_MEMBERS) {
      problem = "replicas must be 1.." + LOCAL_MAX_MEMBERS + " in local mode, got " + cr.getSpec().replicas;
    }
    if (problem == null && local && cr.getSpec().autoscaling.enabled
        && cr.getSpec().autoscaling.maxReplicas > LOCAL_MAX_MEMBERS) {
      problem = "autoscaling.maxReplicas must be at most " + LOCAL_MAX_MEMBERS + " in local mode, got "
          + cr.getSpec().autoscaling.maxReplicas;
    }
    if (problem == null && local) {
      var queries = cr.getSpec().monitoring == null ? List.<PostgresClusterSpec.CustomQueriesSpec>of()
          : cr.getSpec().monitoring.customQueries;
      for (int i = 0; queries != null && i < queries.size(); i++) {
        if (queries.get(i).path == null || queries.get(i).path.isBlank()) {
          problem = "monitoring.customQueries[" + i + "] names only a configMap, which is for Kubernetes; local "
              + "mode reads a file: add its path";
          break;
        }
      }
    }
    if (problem == null && local && cr.getSpec().tls != null) {
      problem = "tls.secretName names a Kubernetes Secret; local mode issues its own server certificate from the "
          + "cluster's CA (<dir>/server-tls/ca.crt)";
    }
    if (problem == null && local && cr.getSpec().standby != null) {
      problem = "standby clusters run on Kubernetes only (the operator follows the source's primary Service and keeps "
          + "its slot); local mode has none";
    }
    if (problem == null && local && cr.getSpec().backup != null && cr.getSpec().backup.s3 != null) {
      problem = "backup.s3 is for Kubernetes (the backup agent copies there); local mode keeps its repository "
          + "under its directory";
    }
    if (problem == null && local && cr.getSpec().backup != null
        && cr.getSpec().postgresVersion != LOCAL_POSTGRES_VERSION) {
      problem = "spec.backup in local mode needs postgresVersion " + LOCAL_POSTGRES_VERSION + " (its Barman streams "
          + "with PostgreSQL " + LOCAL_POSTGRES_VERSION + "'s programs, which cannot read a newer server's WAL); got "
          + cr.getSpec().postgresVersion;
    }
    if (problem == null && local) {
      String missing = io.pgtide.common.process.PgBin.missing(binDirs.apply(cr.getSpec().postgresVersion),
          cr.getSpec().postgresVersion);
      problem = missing == null ? null : "postgresVersion " + cr.getSpec().postgresVersion + ": " + missing;
    }
    return problem;
  }

  /** Reads a file as Kubernetes takes it (a missing postgresVersion is the CRD's default). */
  public static PostgresCluster read(Path file) {
    return read(file, false);
  }

  /** Reads a file; {@code local}: a missing postgresVersion is {@link #LOCAL_POSTGRES_VERSION}. */
  public static PostgresCluster read(Path file, boolean local) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new Invalid("cannot read " + file + ": " + e);
    }
    return parse(text, file.toString(), local);
  }

  /** The same checks on YAML text, as Kubernetes takes it; {@code source} names it in messages. */
  public static PostgresCluster parse(String text, Object file) {
    return parse(text, file, false);
  }

  /** The same checks on YAML text; {@code local}: a missing postgresVersion is {@link #LOCAL_POSTGRES_VERSION}. */
  @SuppressWarnings("unchecked")
  public static PostgresCluster parse(String text, Object file, boolean local) {
    Map<String, Object> raw;
    try {
      raw = Serialization.unmarshal(text, Map.class);
    } catch (RuntimeException e) {
      throw new Invalid(file + " is not YAML: " + firstLine(e));
    }
    if (raw == null) {
      throw new Invalid(file + " is empty");
    }
    if (!"PostgresCluster".equals(raw.get("kind")) || !"pgtide.io/v1".equals(raw.get("apiVersion"))) {
      throw new Invalid(file + ": kind must be PostgresCluster and apiVersion pgtide.io/v1, got kind "
          + raw.get("kind") + " and apiVersion " + raw.get("apiVersion"));
    }
    PostgresCluster cr;
    try {
      cr = Serialization.jsonMapper().convertValue(raw, PostgresCluster.class);
    } catch (IllegalArgumentException e) {
      throw new Invalid(file + ": " + typeError(e));
    }
    if (cr.getMetadata() == null || cr.getMetadata().getName() == null || cr.getMetadata().getName().isBlank()) {
      throw new Invalid(file + ": metadata.name is required");
    }
    // as the CRD requires it (and spec.replicas): a file of defaults only is more likely a mistake than a wish
    if (!(raw.get("spec") instanceof Map<?, ?> given) || given.isEmpty() || cr.getSpec() == null) {
      throw new Invalid(file + ": spec is missing or empty: a PostgresCluster declares at least spec.replicas");
    }
    if (local && !(raw.get("spec") instanceof Map<?, ?> spec && spec.get("postgresVersion") != null)) {
      cr.getSpec().postgresVersion = LOCAL_POSTGRES_VERSION;
    }
    return cr;
  }

  /** "spec.replicas: expected an integer, got 'three'" instead of Jackson's chain. */
  private static String typeError(IllegalArgumentException e) {
    if (e.getCause() instanceof JsonMappingException m && !m.getPath().isEmpty()) {
      String path = m.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining(".")).replace(".[", "[");
      String value = m instanceof com.fasterxml.jackson.databind.exc.InvalidFormatException f
          ? " got '" + f.getValue() + "'" : "";
      String expected = m instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mi
          && mi.getTargetType() != null ? "expected " + describe(mi.getTargetType()) : "has the wrong type";
      return path + ": " + expected + (value.isEmpty() ? "" : "," + value);
    }
    return firstLine(e);
  }

  private static String describe(Class<?> type) {
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      return "an integer";
    }
    if (type == boolean.class || type == Boolean.class) {
      return "true or false";
    }
    if (type == double.class || type == Double.class) {
      return "a number";
    }
    if (type == String.class) {
      return "a string";
    }
    if (java.util.List.class.isAssignableFrom(type)) {
      return "a list";
    }
    if (java.util.Map.class.isAssignableFrom(type)) {
      return "a map";
    }
    return "an object (" + type.getSimpleName() + ")";
  }

  private static String firstLine(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.lines().findFirst().orElse(m);
  }
}
