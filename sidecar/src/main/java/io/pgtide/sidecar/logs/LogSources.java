package io.pgtide.sidecar.logs;

import io.pgtide.common.logs.CsvLogParser;
import io.pgtide.common.logs.PatroniLogParser;
import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.LogLine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The member's log sources, each a {@link LogTailer} feeding a {@link LogBuffer}: PostgreSQL's csvlog directory
 * ({@code PGTIDE_PG_LOG_DIR}; on Spilo {@code $PGROOT/pg_log}, files {@code postgresql-<weekday>.csv}) and Patroni's
 * output file ({@code PGTIDE_PATRONI_LOG}; local mode's {@code D/logs/patroni-<member>.log}: on Spilo it goes to
 * the container's stdout, out of the sidecar's reach). A source not configured is answered with the reason.
 * {@link #poll} blocks (worker thread, one at a time); {@link #accept} and {@link #answer} run on the event loop.
 */
public final class LogSources {
  /** Caps per source: a flood of errors costs at most this much heap (about 3 MiB of the sidecar's 64). */
  static final int POSTGRES_LINES = 5_000;
  static final long POSTGRES_BYTES = 2L << 20;
  static final int PATRONI_LINES = 2_000;
  static final long PATRONI_BYTES = 1L << 20;
  /** An answer stays far below the bridge's 4 MiB message limit. */
  static final long ANSWER_BYTES = 1L << 20;

  private final Map<String, LogTailer> tailers = new LinkedHashMap<>();
  private final Map<String, LogBuffer> buffers = new LinkedHashMap<>();
  private final Map<String, String> unconfigured = new LinkedHashMap<>();

  public LogSources(Path pgLogDir, Path patroniLog, ZoneId patroniZone) {
    if (pgLogDir != null) {
      tailers.put(LogLine.POSTGRES, LogTailer.directory(pgLogDir, n -> n.endsWith(".csv"), new CsvLogParser()));
      buffers.put(LogLine.POSTGRES, new LogBuffer(POSTGRES_LINES, POSTGRES_BYTES));
    } else {
      unconfigured.put(LogLine.POSTGRES, "not configured (PGTIDE_PG_LOG_DIR)");
    }
    if (patroniLog != null) {
      tailers.put(LogLine.PATRONI, LogTailer.file(patroniLog, new PatroniLogParser(patroniZone)));
      buffers.put(LogLine.PATRONI, new LogBuffer(PATRONI_LINES, PATRONI_BYTES));
    } else {
      unconfigured.put(LogLine.PATRONI, "not reachable from the sidecar (PGTIDE_PATRONI_LOG not set; on Spilo "
          + "Patroni writes to the container's output: kubectl logs)");
    }
  }

  public static LogSources none() {
    return new LogSources(null, null, ZoneId.systemDefault());
  }

  /** PGTIDE_PG_LOG_DIR, PGTIDE_PATRONI_LOG (Patroni's times in the sidecar's zone, as Python writes them). */
  public static LogSources fromEnv(Map<String, String> env) {
    return new LogSources(path(env.get("PGTIDE_PG_LOG_DIR")), path(env.get("PGTIDE_PATRONI_LOG")),
        ZoneId.systemDefault());
  }

  private static Path path(String value) {
    return value == null || value.isBlank() ? null : Path.of(value.strip());
  }

  public boolean any() {
    return !tailers.isEmpty();
  }

  /** Blocking: what each source appended since the last poll. */
  public Map<String, List<LogLine>> poll() {
    Map<String, List<LogLine>> out = new LinkedHashMap<>();
    tailers.forEach((source, tailer) -> out.put(source, tailer.poll()));
    return out;
  }

  public void accept(Map<String, List<LogLine>> polled) {
    polled.forEach((source, lines) -> buffers.get(source).addAll(lines));
  }

  public LogBuffer buffer(String source) {
    return buffers.get(source);
  }

  /** The answer to a {@code logs} command: the newest matching lines of the sources asked for, oldest first. */
  public JsonObject answer(CommandPayload.Logs request) {
    List<LogLine> lines = new ArrayList<>();
    JsonObject sources = new JsonObject();
    long dropped = 0;
    for (String source : List.of(LogLine.POSTGRES, LogLine.PATRONI)) {
      if (request.source() != null && !request.source().equals(source)) {
        continue;
      }
      LogBuffer buffer = buffers.get(source);
      if (buffer == null) {
        sources.put(source, unconfigured.get(source));
        continue;
      }
      String problem = tailers.get(source).problem();
      sources.put(source, problem == null ? "ok" : problem);
      lines.addAll(buffer.query(request.sinceMs(), request.minSeverity(), request.limit(), ANSWER_BYTES / 2));
      dropped += buffer.dropped();
    }
    lines.sort(Comparator.comparingLong(LogLine::time));
    if (lines.size() > request.limit()) {
      lines = lines.subList(lines.size() - request.limit(), lines.size());
    }
    JsonArray out = new JsonArray();
    lines.forEach(l -> out.add(ContractCodec.encode(l)));
    return new JsonObject().put("lines", out).put("sources", sources).put("dropped", dropped);
  }
}
