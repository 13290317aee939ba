package io.pgtide.backup;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Archived WAL for the standby clusters that follow this agent's cluster: {@code GET /wal/<file>}, what a standby
 * leader's restore_command fetches (curl in the Spilo image) when its stream from the source cannot give what it
 * needs, for instance after the stream was cut for longer than the source keeps WAL. Its own token, which reads WAL
 * and nothing else: a standby's pods hold a copy of it, and they must not take backups or read the status with it.
 * 200 with the file; 404 when the archive has no such file (PostgreSQL then streams again); 400 for anything but a
 * segment or history file name, so no path reaches Barman.
 */
final class WalServing {
  private static final Logger LOG = LoggerFactory.getLogger(WalServing.class);
  /** What PostgreSQL's recovery asks for: a segment (timeline, log, segment in hex) or a timeline's history. */
  static final Pattern NAME = Pattern.compile("[0-9A-F]{24}|[0-9A-F]{8}\\.history");

  private WalServing() {
  }

  /**
   * Serves {@code /wal/:name} on {@code router} from {@code barman}, for {@code token} (null: the agent was given
   * none, and every request is answered 404 saying so). Files are staged under {@code scratch}, one directory per
   * request, deleted once sent.
   */
  static void route(Vertx vertx, Router router, Barman barman, String token, Path scratch) {
    router.get("/wal/:name").handler(ctx -> {
      if (token == null) {
        error(ctx, 404, "this agent serves no WAL (no WAL token)");
        return;
      }
      if (!BackupAgent.tokenMatches(ctx, token)) {
        error(ctx, 401, "a valid WAL token is required");
        return;
      }
      String name = ctx.pathParam("name");
      if (!NAME.matcher(name).matches()) {
        error(ctx, 400, "not a WAL segment or timeline history file name");
        return;
      }
      vertx.executeBlocking(() -> {
        Files.createDirectories(scratch);
        Path dir = Files.createTempDirectory(scratch, "wal-");
        if (barman.getWal(name, dir)) {
          return dir;
        }
        delete(dir);
        return null;
      }, false).onComplete(ar -> {
        if (ar.failed()) {
          LOG.warn("cannot serve WAL {}: {}", name, ar.cause().getMessage());
          error(ctx, 503, String.valueOf(ar.cause().getMessage()));
        } else if (ar.result() == null) {
          error(ctx, 404, name + " is not in the archive");
        } else {
          Path dir = ar.result();
          LOG.info("serving archived WAL {} to {}", name, ctx.request().remoteAddress());
          ctx.response().putHeader("Content-Type", "application/octet-stream")
              .sendFile(dir.resolve(name).toString())
              .onComplete(sent -> vertx.executeBlocking(() -> {
                delete(dir);
                return null;
              }, false));
        }
      });
    });
  }

  private static void error(RoutingContext ctx, int status, String message) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
