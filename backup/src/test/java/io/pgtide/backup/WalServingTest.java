package io.pgtide.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.Router;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET /wal/:name against a stand-in barman whose archive holds one segment: the WAL token and nothing else opens it,
 * only segment and history names reach Barman, a file the archive lacks is a 404, and the staging directory is
 * emptied after each answer.
 */
class WalServingTest {
  static final String HELD = "000000020000000000000003";
  private final Vertx vertx = Vertx.vertx();
  @TempDir
  Path repository;
  private HttpClient http;
  private int port;

  @BeforeEach
  void serve() throws Exception {
    // $3 get-wal, $5 the output directory, $7 the WAL name; Barman's own words for a missing file
    Path fake = repository.resolve("fake-barman");
    Files.writeString(fake, """
        #!/bin/sh
        echo "$7" >> "$(dirname "$2")/asked.log"
        if [ "$3" = get-wal ] && [ "$7" = %s ]; then printf 'segment-bytes' > "$5/$7"; exit 0; fi
        echo "ERROR: WAL file '$7' not found in server 'orders'"
        exit 1
        """.formatted(HELD));
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    Barman barman = new Barman(repository, "orders", List.of(fake.toString()));
    Router withToken = Router.router(vertx);
    WalServing.route(vertx, withToken, barman, "wal-secret", repository.resolve("served-wal"));
    Router without = Router.router(vertx);
    WalServing.route(vertx, without, barman, null, repository.resolve("served-wal"));
    Router both = Router.router(vertx);
    both.route("/with/*").subRouter(withToken);
    both.route("/without/*").subRouter(without);
    HttpServer server = vertx.createHttpServer().requestHandler(both).listen(0, "127.0.0.1").await();
    port = server.actualPort();
    // a connection per request, and an answer within 10 s or a failure: a CI run hung 18 min on one request
    // reusing a pooled connection, with no time-out to end it (2026-12-05)
    http = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setKeepAlive(false));
  }

  @AfterEach
  void close() {
    vertx.close().await();
  }

  private Answer get(String path, String token) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
        .setURI(path).setIdleTimeout(10_000);
    if (token != null) {
      o.putHeader("Authorization", "Bearer " + token);
    }
    // the body read as the response arrives: asked for later, it may already have gone by
    return http.request(o).compose(req -> req.send())
        .compose(r -> r.body().map(b -> new Answer(r.statusCode(), b.toString()))).await();
  }

  record Answer(int status, String body) {
  }

  @Test
  void theWalTokenFetchesAnArchivedSegment() throws Exception {
    Answer a = get("/with/wal/" + HELD, "wal-secret");
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.body()).isEqualTo("segment-bytes");
    // the staged copy is deleted after the answer was sent, on a worker: allow it a moment
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
      try (var staged = Files.list(repository.resolve("served-wal"))) {
        return staged.findAny().isEmpty();
      }
    });
  }

  @Test
  void aFileTheArchiveLacksIsNotFoundSoPostgresStreamsInstead() throws Exception {
    Answer a = get("/with/wal/000000020000000000000004", "wal-secret");
    assertThat(a.status()).isEqualTo(404);
    assertThat(a.body()).contains("not in the archive");
    assertThat(get("/with/wal/00000002.history", "wal-secret").status()).as("a history name reaches Barman")
        .isEqualTo(404);
    assertThat(Files.readAllLines(repository.resolve("asked.log")))
        .containsExactly("000000020000000000000004", "00000002.history");
  }

  @Test
  void noOtherTokenAndNoOtherNameReachesBarman() throws Exception {
    assertThat(get("/with/wal/" + HELD, null).status()).isEqualTo(401);
    assertThat(get("/with/wal/" + HELD, "the-operators-token").status()).isEqualTo(401);
    assertThat(get("/with/wal/..%2Fbarman.conf", "wal-secret").status()).isEqualTo(400);
    assertThat(get("/with/wal/000000020000000000000003.partial", "wal-secret").status()).isEqualTo(400);
    assertThat(get("/with/wal/000000020000000000000003", null).status()).isEqualTo(401);
    Answer none = get("/without/wal/" + HELD, "wal-secret");
    assertThat(none.status()).as("an agent given no WAL token serves none").isEqualTo(404);
    assertThat(none.body()).contains("no WAL token");
    assertThat(repository.resolve("asked.log")).doesNotExist();
  }
}
