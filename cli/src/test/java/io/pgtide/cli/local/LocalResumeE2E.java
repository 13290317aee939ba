package io.pgtide.cli.local;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.process.Psql;
import io.pgtide.operator.LocalClusters;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** `local up` twice on the same directory: same data, same credentials, same endpoints; a taken one is named. */
class LocalResumeE2E {

  @Test
  void aSecondUpOnTheSameDirectoryResumesWithTheSameEndpointsAndData() throws Exception {
    PostgresCluster resource = LocalClusters.resource("resume", 1, false);
    LocalRunner first = LocalClusters.up(resource);
    Path dir = first.dir();
    int primary = first.primaryPort();
    int replicas = first.replicasPort();
    int http = first.httpPort();
    String password = LocalClusters.superuserPassword(first);
    try {
      LocalClusters.primarySql(first, "CREATE TABLE kept(x int); INSERT INTO kept VALUES (42)");
    } finally {
      first.close();
    }

    // a recorded port someone else took: refused, naming the port and the flag that moves it
    try (ServerSocket squatter = new ServerSocket(primary, 1, InetAddress.getLoopbackAddress())) {
      LocalRunner blocked = new LocalRunner(TestMachine.get(), resource, dir, msg -> System.out.println("[local] " + msg));
      try {
        assertThatThrownBy(() -> blocked.up(0, 0, 0)).hasMessageContaining("port " + primary)
            .hasMessageContaining("--primary-port");
      } finally {
        blocked.close();
      }
    }

    LocalRunner second = new LocalRunner(TestMachine.get(), resource, dir, msg -> System.out.println("[local] " + msg));
    try {
      second.up(0, 0, 0);
      assertThat(second.primaryPort()).isEqualTo(primary);
      assertThat(second.replicasPort()).isEqualTo(replicas);
      assertThat(second.httpPort()).isEqualTo(http);
      // "up" returned: a login through the primary endpoint works now, with the credentials of the first run
      assertThat(Psql.query(primary, "postgres", password, "postgres", "SELECT x FROM kept")).isEqualTo("42");
      await().atMost(Duration.ofSeconds(60)).until(() -> second.core().failover().endpoint(second.clusterKey())
          .isPresent());
    } finally {
      second.close();
    }
  }
}
