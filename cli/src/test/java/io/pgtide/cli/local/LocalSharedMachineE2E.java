package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.process.OsUser;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.operator.LocalClusters;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Local mode on a shared machine: another OS user (made here, removed after) can read no secret of a running local
 * cluster, cannot log in as superuser on any member's socket or port, cannot call Patroni's mutating endpoints and
 * cannot write to etcd. Each refusal is paired with the owner doing the same with the right credentials, so a check
 * that refuses everyone cannot pass. Runs as root (CI does): creating a user needs it.
 */
class LocalSharedMachineE2E {
  static LocalRunner runner;
  static String intruder;

  @BeforeAll
  static void up() {
    Assumptions.assumeTrue(OsUser.isRoot(), "creates another OS user: needs root (CI runs the tests as root)");
    intruder = "pgtide-x" + HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
    run(List.of("useradd", "-m", "-s", "/bin/sh", intruder), Duration.ofSeconds(30));
    PostgresCluster resource = LocalClusters.resource("shared", 2, false);
    runner = LocalClusters.up(resource);
  }

  @AfterAll
  static void down() {
    try {
      if (runner != null) {
        runner.close();
      }
    } finally {
      if (intruder != null) {
        // every command it ran was waited for (and bounded by timeout(1)): nothing of it runs any more
        Result r = run(List.of("userdel", "-r", intruder), Duration.ofSeconds(30));
        assertThat(r.exit()).as("userdel -r " + intruder + ": " + r.out()).isZero();
      }
    }
  }

  @Test
  void anotherOsUserCanReadNoSecretAndIsRefusedEverywhere() throws Exception {
    SoftAssertions soft = new SoftAssertions();
    Path dir = runner.dir();
    List<PatroniMember> members = runner.infra().cluster().members();
    assertThat(members).hasSize(2);

    // the directories: the owner's only
    soft.assertThat(mode(dir)).as("mode of the cluster directory " + dir).isEqualTo("rwx------");
    for (PatroniMember m : members) {
      soft.assertThat(mode(m.dir())).as("mode of member directory " + m.dir()).isEqualTo("rwx------");
    }

    // every file that holds a secret: 0600, readable by the owner, not by the intruder
    List<Path> secrets = secretFiles(dir);
    for (PatroniMember m : members) {
      soft.assertThat(secrets).as("secret files found").contains(m.dir().resolve("patroni.yml"));
    }
    soft.assertThat(secrets).as("secret files found").contains(dir.resolve("secrets.json"),
        dir.resolve("secrets").resolve("api.token"));
    soft.assertThat(secrets.stream().anyMatch(p -> p.toString().contains("etcd") && p.endsWith("tls.key")))
        .as("etcd's client key among " + secrets).isTrue();
    for (Path file : secrets) {
      soft.assertThat(Files.readAllBytes(file)).as("the owner reads " + file).isNotEmpty();
      soft.assertThat(mode(file)).as("mode of " + file).isEqualTo("rw-------");
      soft.assertThat(asIntruder("cat", file.toString()).exit()).as(intruder + " reads " + file).isNotZero();
    }

    // PostgreSQL as superuser without a password: on each member's socket and TCP port and both endpoints
    String password = LocalClusters.superuserPassword(runner);
    for (PatroniMember m : members) {
      List<String> socket = psql(m.dir().toString(), m.pgPort());
      soft.assertThat(runAs(OsUser.asPostgres(socket)).out()).as("the owner on " + m.name() + "'s socket")
          .isEqualTo("1");
      soft.assertThat(asIntruder(socket).exit()).as(intruder + " on " + m.name() + "'s socket").isNotZero();
      soft.assertThat(asIntruder(psql("127.0.0.1", m.pgPort())).exit()).as(intruder + " on " + m.name()
          + "'s port").isNotZero();
      soft.assertThat(Psql.query(m.pgPort(), "postgres", password, "postgres", "SELECT 1"))
          .as("with the password on " + m.name() + "'s port").isEqualTo("1");
    }
    for (int endpoint : List.of(runner.primaryPort(), runner.replicasPort())) {
      soft.assertThat(asIntruder(psql("127.0.0.1", endpoint)).exit()).as(intruder + " on endpoint " + endpoint)
          .isNotZero();
    }

    // Patroni's mutating endpoints: 401 without credentials (bodies Patroni would refuse or that change nothing,
    // so a hole shows as 200/400 here instead of a restart); the owner's client, with them, is obeyed
    for (PatroniMember m : members) {
      String base = "http://127.0.0.1:" + m.restPort();
      for (String[] call : List.of(new String[] {"POST", "/restart", "{\"schedule\": \"never\"}"},
          new String[] {"POST", "/reload", "{}"}, new String[] {"POST", "/switchover", "{}"},
          new String[] {"POST", "/failover", "{}"}, new String[] {"PATCH", "/config", "{}"})) {
        Result r = asIntruder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", "-X", call[0],
            "-H", "Content-Type: application/json", "-d", call[2], base + call[1]);
        soft.assertThat(r.out()).as(intruder + ": " + call[0] + " " + base + call[1]).isEqualTo("401");
      }
      int loopWait = m.rest().get("/config").json().getInteger("loop_wait");
      soft.assertThat(m.rest().patch("/config", new JsonObject().put("loop_wait", loopWait)).status())
          .as("the owner's PATCH /config on " + m.name()).isEqualTo(200);
      soft.assertThat(m.rest().post("/reload", new JsonObject(), Duration.ofSeconds(10)).status())
          .as("the owner's POST /reload on " + m.name()).isIn(200, 202);
    }

    // etcd: no write without the cluster's client certificate, on the client port (plain or TLS) or the peer port
    var etcd = runner.infra().cluster().etcd();
    String key = b64("/pgtide-intruder/" + intruder);
    String put = new JsonObject().put("key", key).put("value", b64("owned")).encode();
    for (String scheme : List.of("http", "https")) {
      Result r = asIntruder("curl", "-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", "-X", "POST",
          "-d", put, scheme + "://127.0.0.1:" + etcd.clientPort() + "/v3/kv/put");
      soft.assertThat(r.out()).as(intruder + " writes to etcd over " + scheme).isNotEqualTo("200");
      Result peer = asIntruder("curl", "-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10",
          scheme + "://127.0.0.1:" + etcd.peerPort() + "/members");
      soft.assertThat(peer.out()).as(intruder + " on etcd's peer port over " + scheme).isNotEqualTo("200");
    }
    Path client = etcdClientMaterial(dir);
    Result range = runAs(List.of("curl", "-s", "-m", "10", "--cacert", client.resolve("ca.crt").toString(),
        "--cert", client.resolve("tls.crt").toString(), "--key", client.resolve("tls.key").toString(), "-X", "POST",
        "-d", new JsonObject().put("key", key).encode(),
        "https://127.0.0.1:" + etcd.clientPort() + "/v3/kv/range"));
    soft.assertThat(range.exit()).as("the owner reads etcd with the client certificate: " + range.out()).isZero();
    soft.assertThat(range.exit() == 0 ? new JsonObject(range.out()).getString("count", "0") : "unread")
        .as("keys the intruder wrote").isEqualTo("0");
    soft.assertAll();
  }

  /** Every file under the cluster directory that holds a password, a token or a private key. */
  private static List<Path> secretFiles(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      return all.filter(Files::isRegularFile).filter(p -> {
        String name = p.getFileName().toString();
        return name.equals("patroni.yml") || name.equals("pgpass") || name.equals("secrets.json")
            || name.endsWith(".key") || name.endsWith(".password") || name.endsWith(".token")
            || p.getParent().endsWith("secrets");
      }).filter(p -> !p.startsWith(dir.resolve("logs"))).toList();
    }
  }

  /** The directory with etcd's client certificate, key and CA (the one Patroni uses). */
  private static Path etcdClientMaterial(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      return all.filter(p -> p.endsWith("tls.key") && p.toString().contains("etcd") && p.toString().contains("client"))
          .map(Path::getParent).findFirst().orElse(dir.resolve("no-etcd-client-material"));
    }
  }

  private static List<String> psql(String host, int port) {
    return List.of("psql", "-X", "-w", "-A", "-t", "-h", host, "-p", Integer.toString(port), "-U", "postgres",
        "-d", "postgres", "-c", "SELECT 1");
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static Result asIntruder(String... command) {
    return asIntruder(List.of(command));
  }

  private static Result asIntruder(List<String> command) {
    List<String> cmd = new ArrayList<>(List.of("runuser", "-u", intruder, "--"));
    cmd.addAll(command);
    return runAs(cmd);
  }

  private static Result runAs(List<String> command) {
    return run(command, Duration.ofSeconds(30));
  }

  record Result(int exit, String out) {
  }

  /** Runs a command to its end (timeout(1) bounds it) with a bare environment (no PGPASSWORD, no proxy settings) from /tmp. */
  private static Result run(List<String> command, Duration bound) {
    try {
      List<String> bounded = new ArrayList<>(List.of("timeout", "-k", "5", Long.toString(bound.toSeconds())));
      bounded.addAll(command);
      ProcessBuilder pb = new ProcessBuilder(bounded).directory(Path.of("/tmp").toFile()).redirectErrorStream(true);
      pb.environment().clear();
      pb.environment().putAll(Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", "PGCONNECT_TIMEOUT", "5",
          "LANG", "C.UTF-8"));
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(bound.toSeconds() + 10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(command + " did not finish within " + bound);
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
