package io.pgtide.cli.local;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.operator.IdleInfrastructure;
import io.pgtide.operator.OperatorCore;
import io.pgtide.testkit.TestDirs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Local mode's control API: reads open on loopback, actions only with the token of the state directory (0600 from
 * its first byte, the same across restarts).
 */
class LocalControlApiIT {
  static final CertificateAuthority CA = CertificateAuthority.create("local-api-it", Duration.ofDays(1));

  static int call(int port, String method, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void actionsNeedTheTokenOfTheStateDirectoryReadsDoNot() throws Exception {
    Path secrets = TestDirs.create("local-api").resolve("secrets");
    LocalControlAuthorizer guard = new LocalControlAuthorizer(secrets);
    Path file = secrets.resolve(LocalControlAuthorizer.TOKEN_FILE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    String token = Files.readString(file).strip();
    assertThat(token).hasSizeGreaterThanOrEqualTo(43);
    // a restarted operator on the same directory keeps the token the CLI already reads
    assertThat(new LocalControlAuthorizer(secrets).authenticate(token).succeeded()).isTrue();
    assertThat(Files.readString(file).strip()).isEqualTo(token);
    assertThat(guard.authenticate(token.substring(1)).failed()).isTrue();
    int control = TestMachine.freePort();
    OperatorCore core = new OperatorCore(CA.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1)),
        "127.0.0.1", TestMachine.freePort(), v -> new IdleInfrastructure(), 3_000);
    core.http().authorizer(guard, true);
    core.serve("127.0.0.1", TestMachine.freePort(), control);
    try {
      assertThat(call(control, "GET", "/api/clusters", null)).isEqualTo(200);
      assertThat(call(control, "GET", "/api/events", null)).isEqualTo(200);
      assertThat(call(control, "POST", "/api/clusters/local/orders/switchover", null)).isEqualTo(401);
      assertThat(call(control, "POST", "/api/clusters/local/orders/switchover", token + "x")).isEqualTo(401);
      // past the guard: the action itself answers (no such cluster here)
      assertThat(call(control, "POST", "/api/clusters/local/orders/users/sync", token)).isEqualTo(404);
    } finally {
      core.close();
    }
  }
}
