package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterStatus.Upgrade;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MajorUpgradeTest {
  final Map<String, MemberView> members = new LinkedHashMap<>();

  static PostgresCluster cluster(int version) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("u-1").build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().postgresVersion = version;
    return cr;
  }

  static Upgrade upgrade(String phase, Long generation) {
    Upgrade u = new Upgrade();
    u.from = 15;
    u.to = 17;
    u.phase = phase;
    u.generation = generation;
    u.id = "abc";
    return u;
  }

  void member(String name, Role role, long lsn, String receiver) {
    MemberId id = new MemberId("shop", "orders", name);
    members.put(name, new MemberView(id, TestReports.report(id, role, 1, lsn, true, receiver, false),
        System.currentTimeMillis(), true));
  }

  ClusterView view() {
    return new ClusterView("shop/orders", members, System.currentTimeMillis(), 3_000);
  }

  @Test
  void theRunningMajorIsTheStatefulSetsPgversion() {
    assertThat(ClusterModel.postgresVersion(ClusterModel.statefulSet(cluster(15), OperatorConfig.DEFAULTS)))
        .isEqualTo(15);
    assertThat(ClusterModel.postgresVersion(ClusterModel.statefulSet(cluster(17), OperatorConfig.DEFAULTS)))
        .isEqualTo(17);
    assertThat(ClusterModel.postgresVersion(null)).as("no StatefulSet yet").isNull();
    assertThat(ClusterModel.postgresVersion(new StatefulSetBuilder().withNewSpec().withNewTemplate().withNewSpec()
        .addNewContainer().withName("postgres").endContainer().endSpec().endTemplate().endSpec().build()))
        .as("a Spilo container without PGVERSION").isNull();
  }

  @Test
  void aRaiseIsAnUpgradeADowngradeOrAStandbysRaiseIsRefusedWithWhatToDo() {
    assertThat(MajorUpgrade.refusal(15, 17, false)).isNull();
    assertThat(MajorUpgrade.refusal(17, 17, false)).isNull();
    assertThat(MajorUpgrade.refusal(null, 15, false)).as("a new cluster picks its major").isNull();
    assertThat(MajorUpgrade.refusal(17, 15, false)).contains("cannot go down a major version")
        .contains("runs 17").contains("back to 17").contains("dump and restore");
    assertThat(MajorUpgrade.refusal(15, 17, true)).contains("standby cluster runs its source's major");
  }

  @Test
  void theStatefulSetKeepsTheRunningMajorUntilTheUpgradeToTheWantedOneSucceeded() {
    assertThat(MajorUpgrade.statefulSetMajor(null, 17, null)).as("new").isEqualTo(17);
    assertThat(MajorUpgrade.statefulSetMajor(15, 17, null)).isEqualTo(15);
    assertThat(MajorUpgrade.statefulSetMajor(15, 17, upgrade(MajorUpgrade.UPGRADING, 2L))).isEqualTo(15);
    assertThat(MajorUpgrade.statefulSetMajor(15, 17, upgrade(MajorUpgrade.FAILED, 2L))).isEqualTo(15);
    assertThat(MajorUpgrade.statefulSetMajor(15, 17, upgrade(MajorUpgrade.SUCCEEDED, 2L))).isEqualTo(17);
    assertThat(MajorUpgrade.statefulSetMajor(15, 16, upgrade(MajorUpgrade.SUCCEEDED, 2L)))
        .as("a success to another major is not this one").isEqualTo(15);
    assertThat(MajorUpgrade.statefulSetMajor(17, 17, upgrade(MajorUpgrade.SUCCEEDED, 2L))).isEqualTo(17);
  }

  @Test
  void aFailedUpgradeIsTriedAgainOnlyFromALaterGenerationAndOneRunningOrDoneNever() {
    assertThat(MajorUpgrade.toLaunch(null, 15, 17, 1)).isTrue();
    assertThat(MajorUpgrade.toLaunch(upgrade(MajorUpgrade.BLOCKED, 2L), 15, 17, 2)).isTrue();
    assertThat(MajorUpgrade.toLaunch(upgrade(MajorUpgrade.UPGRADING, 2L), 15, 17, 3)).isFalse();
    assertThat(MajorUpgrade.toLaunch(upgrade(MajorUpgrade.SUCCEEDED, 2L), 15, 17, 3)).isFalse();
    assertThat(MajorUpgrade.toLaunch(upgrade(MajorUpgrade.FAILED, 2L), 15, 17, 2)).isFalse();
    assertThat(MajorUpgrade.toLaunch(upgrade(MajorUpgrade.FAILED, 2L), 15, 17, 4)).isTrue();
    assertThat(MajorUpgrade.toLaunch(upgrade(MajorUpgrade.FAILED, 2L), 15, 16, 2)).as("another target").isTrue();
  }

  @Test
  void anUpgradeWaitsForEveryMemberStreamingCloseBehindAndNoStandbyFollowing() {
    member("orders-0", Role.PRIMARY, 100_000_000, null);
    member("orders-1", Role.REPLICA, 100_000_000 - 1_000, "streaming");
    assertThat(MajorUpgrade.blocked(view(), 2, true, List.of(), false)).isNull();
    assertThat(MajorUpgrade.blocked(view(), 2, false, List.of(), false)).contains("rolling update");
    assertThat(MajorUpgrade.blocked(view(), 2, true, List.of(), true)).as("backups cannot follow an upgrade yet")
        .contains("spec.backup is declared").contains("remove spec.backup").contains("-backup) deleted first");
    assertThat(MajorUpgrade.blocked(view(), 3, true, List.of(), false)).contains("2 of 3 members are live");
    assertThat(MajorUpgrade.blocked(view(), 2, true, List.of("shop/orders-dr"), false))
        .contains("standby clusters [shop/orders-dr]").contains("new system identifier");
    member("orders-1", Role.REPLICA, 100_000_000 - MajorUpgrade.MAX_LAG_BYTES - 1, "streaming");
    assertThat(MajorUpgrade.blocked(view(), 2, true, List.of(), false)).contains("orders-1 lags 16777217 bytes");
    member("orders-1", Role.REPLICA, 100_000_000, "stopped");
    assertThat(MajorUpgrade.blocked(view(), 2, true, List.of(), false)).contains("orders-1 is not streaming");
    members.remove("orders-0");
    assertThat(MajorUpgrade.blocked(view(), 2, true, List.of(), false)).isEqualTo("no live primary");
  }

  static final String LOG = """
      2026-12-04 20:10:00,001 inplace_upgrade INFO: Cluster orders is ready to be upgraded
      2026-12-04 20:10:01,001 inplace_upgrade INFO: initdb config: [{'locale': 'en_US.UTF-8'}]
      2026-12-04 20:10:02,001 inplace_upgrade INFO: Executing pg_upgrade --check
      2026-12-04 20:10:05,001 inplace_upgrade INFO: Maintenance mode enabled
      2026-12-04 20:10:06,001 inplace_upgrade INFO: Doing a clean shutdown of the cluster before pg_upgrade
      2026-12-04 20:10:07,001 inplace_upgrade INFO: Latest checkpoint location: 0/5000028
      2026-12-04 20:10:07,101 inplace_upgrade INFO: Starting rsyncd
      2026-12-04 20:10:07,201 inplace_upgrade INFO: Waiting for replica nodes to catch up with primary
      2026-12-04 20:10:08,001 inplace_upgrade INFO: Executing pg_upgrade
      """;

  @Test
  void theStepIsTheFurthestLineSpilosLogShows() {
    assertThat(MajorUpgrade.step("")).isEqualTo("launched");
    assertThat(MajorUpgrade.step(LOG.lines().limit(3).reduce("", (a, b) -> a + b + "\n"))).isEqualTo("check");
    assertThat(MajorUpgrade.step(LOG)).as("not the check's line").isEqualTo("pgUpgrade");
    assertThat(MajorUpgrade.pastPointOfNoReturn("pgUpgrade")).isFalse();
    String after = LOG + """
        2026-12-04 20:10:12,001 inplace_upgrade INFO: Updating configuration files
        2026-12-04 20:10:13,001 inplace_upgrade INFO: Notifying replicas orders-1 to start rsync
        2026-12-04 20:10:15,001 inplace_upgrade INFO: Starting the primary postgres up
        2026-12-04 20:10:17,001 inplace_upgrade INFO: Upgrade downtime: 11.0421
        2026-12-04 20:10:18,001 inplace_upgrade INFO: Rebuilding statistics (vacuumdb --analyze-in-stages)
        2026-12-04 20:10:30,001 inplace_upgrade INFO: Total upgrade time (with analyze): 24.1
        """;
    assertThat(MajorUpgrade.step(after)).isEqualTo("done");
    assertThat(MajorUpgrade.pastPointOfNoReturn("switched")).isTrue();
    assertThat(MajorUpgrade.downtimeSeconds(after)).isEqualTo(11.0);
    assertThat(MajorUpgrade.downtimeSeconds(LOG)).isNull();
  }

  @Test
  void theLastErrorIsWhySpiloGaveUp() {
    String failed = LOG.lines().limit(3).reduce("", (a, b) -> a + b + "\n") + """
        2026-12-04 20:10:04,001 inplace_upgrade ERROR: pg_upgrade --check failed, more details in the \
        /home/postgres/pgdata/pgroot/data_upgrade
        2026-12-04 20:10:04,101 inplace_upgrade INFO: Disabling maintenance mode
        """;
    assertThat(MajorUpgrade.lastError(failed)).isEqualTo("pg_upgrade --check failed, more details in the "
        + "/home/postgres/pgdata/pgroot/data_upgrade");
    assertThat(MajorUpgrade.lastError(LOG)).isNull();
  }

  @Test
  void thePollsOutputIsReadBackAndNotTakenForARunningScriptWhenItIsGone() {
    var p = UpgradeScripts.progress("rc=1\nversion=15\nrunning=no\n---\n" + LOG);
    assertThat(p.exitCode()).isEqualTo(1);
    assertThat(p.dataVersion()).isEqualTo("15");
    assertThat(p.running()).isFalse();
    assertThat(p.log()).isEqualTo(LOG);
    var running = UpgradeScripts.progress("rc=\nversion=15\nrunning=yes\n---\n");
    assertThat(running.exitCode()).isNull();
    assertThat(running.running()).isTrue();
    assertThat(running.log()).isEmpty();
  }

  /** The scripts are valid sh, and the launch runs Spilo's script once per id, as postgres, detached. */
  @Test
  void theScriptsAreShellAndTheLaunchStartsSpilosScriptOnce(@TempDir Path dir) throws Exception {
    Upgrade u = upgrade(MajorUpgrade.UPGRADING, 2L);
    for (String script : List.of(UpgradeScripts.launch(u, 2), UpgradeScripts.poll(u), UpgradeScripts.recover(u),
        UpgradeScripts.afterPointOfNoReturn(u, "orders"), UpgradeScripts.preconditions(17))) {
      Path f = dir.resolve("s.sh");
      Files.writeString(f, script, StandardCharsets.UTF_8);
      Process p = new ProcessBuilder("sh", "-n", f.toString()).redirectErrorStream(true).start();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(script + new String(p.getInputStream().readAllBytes())).isZero();
    }
    String launch = UpgradeScripts.launch(u, 2);
    assertThat(launch).contains("PGVERSION=17 /usr/bin/python3 /scripts/inplace_upgrade.py 2")
        .contains("setsid su postgres").contains("already launched").contains("pgtide-upgrade-abc.rc");
    assertThat(UpgradeScripts.preconditions(17)).contains("/usr/lib/postgresql/17/bin/pg_upgrade")
        .contains("-ge 262144").contains("/usr/share/postgresql/17/extension/$ext.control");
    assertThat(UpgradeScripts.recover(u)).contains("= 15 ]").contains("pg_control.old")
        .contains("pgtide-upgrade-abc.extensions").contains("CREATE EXTENSION IF NOT EXISTS $ext");
    assertThat(launch).as("the launch notes where Spilo's dropped extensions were")
        .contains("> \"$PGROOT/pgtide-upgrade-abc.extensions\"");
  }
}
