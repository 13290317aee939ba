package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.LocalClusters;
import io.pgtide.cli.PgtideCliAccess;
import io.pgtide.testkit.SteadyWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** `pgtide local apply` on a running cluster under a writer: users and a parameter change live; nothing is lost. */
class LocalApplyE2E {

  static PostgresClusterSpec.UserSpec user(String name) {
    PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
    u.name = name;
    return u;
  }

  @Test
  void editsApplyLiveAndAnInvalidOneChangesNothing() throws Exception {
    PostgresCluster resource = LocalClusters.resource("apply", 2, true);
    resource.getSpec().users.add(user("carol"));
    LocalRunner runner = LocalClusters.up(resource);
    try (SteadyWriter w = new SteadyWriter(runner.primaryPort(), "postgres", LocalClusters.superuserPassword(runner))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> "1".equals(LocalClusters.primarySql(runner,
          "SELECT count(*) FROM pg_roles WHERE rolname = 'carol'")));

      // the edit: bob added, alice may create databases, carol removed, work_mem raised
      PostgresCluster edited = Serialization.clone(runner.resource());
      PostgresClusterSpec spec = edited.getSpec();
      spec.users = new ArrayList<>(spec.users);
      spec.users.removeIf(u -> u.name.equals("carol"));
      PostgresClusterSpec.UserSpec carol = user("carol");
      carol.ensure = "absent";
      spec.users.add(carol);
      spec.users.add(user("bob"));
      spec.users.stream().filter(u -> u.name.equals("alice")).forEach(u -> u.createdb = true);
      Map<String, String> parameters = new LinkedHashMap<>(spec.parameters);
      parameters.put("work_mem", "8MB");
      spec.parameters = parameters;
      Path file = runner.dir().resolve("edited.yaml");
      Files.writeString(file, Serialization.asYaml(edited));

      PgtideCliAccess.Run run = PgtideCliAccess.run("local", "apply", "-f", file.toString(), "--dir",
          runner.dir().toString());
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(LocalClusters.primarySql(runner, "SELECT string_agg(rolname || ':' || rolcreatedb, ',' ORDER BY "
          + "rolname) FROM pg_roles WHERE rolname IN ('alice', 'bob', 'carol')")).isEqualTo("alice:true,bob:false");
      await().atMost(Duration.ofSeconds(60)).until(() -> "8MB".equals(LocalClusters.primarySql(runner,
          "SHOW work_mem")));

      // an edit that cannot be applied in place: refused with the reason, and the running spec stays as it was
      PostgresCluster wrong = Serialization.clone(edited);
      wrong.getSpec().postgresVersion = 13;
      wrong.getSpec().users = new ArrayList<>(List.of(user("mallory")));
      Path bad = runner.dir().resolve("bad.yaml");
      Files.writeString(bad, Serialization.asYaml(wrong));
      PgtideCliAccess.Run refused = PgtideCliAccess.run("local", "apply", "-f", bad.toString(), "--dir",
          runner.dir().toString());
      assertThat(refused.exit()).isEqualTo(2);
      // a major this machine does not have: refused as a whole where the file is read, the users' change with it
      assertThat(refused.err()).contains("postgresVersion 13: PostgreSQL 13 is not installed here");
      assertThat(runner.resource().getSpec().users).extracting(u -> u.name).contains("bob").doesNotContain("mallory");

      int acked = w.acknowledgedCount();
      await().atMost(Duration.ofSeconds(20)).until(() -> w.acknowledgedCount() > acked + 50);
      w.stop();
      assertThat(w.lost()).as("acknowledged writes lost").isZero();
    } finally {
      runner.close();
    }
  }
}
