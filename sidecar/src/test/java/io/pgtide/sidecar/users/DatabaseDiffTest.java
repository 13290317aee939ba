package io.pgtide.sidecar.users;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.DesiredDatabase;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DatabaseDiffTest {
  static final Set<String> ROLES = Set.of("postgres", "app", "alice", "bob", "dba");
  static final Set<String> MANAGED = Set.of("app", "alice", "bob");

  static List<String> sql(DatabaseDiff.Plan plan) {
    return plan.changes().stream().flatMap(c -> c.statements().stream()).toList();
  }

  @Test
  void createsAMissingDatabaseWithOwnerAndGrantsDeclaredPrivileges() {
    DesiredDatabase db = new DesiredDatabase("shop db", "app", Map.of("alice", List.of("connect", "TEMP")), false);
    assertThat(sql(DatabaseDiff.plan(List.of(db), Map.of(), ROLES, MANAGED))).containsExactly(
        "CREATE DATABASE \"shop db\" OWNER \"app\"",
        "GRANT CONNECT, TEMPORARY ON DATABASE \"shop db\" TO \"alice\"");
  }

  @Test
  void noOpWhenOwnerAndPrivilegesMatch() {
    DesiredDatabase db = new DesiredDatabase("shop", "app", Map.of("alice", List.of("CONNECT")), false);
    var actual = Map.of("shop", new DatabaseDiff.ActualDatabase("app", Map.of("alice", Set.of("CONNECT"),
        "app", Set.of("CONNECT", "CREATE", "TEMPORARY"))));
    assertThat(DatabaseDiff.plan(List.of(db), actual, ROLES, MANAGED).statementCount()).isZero();
  }

  @Test
  void driftIsRepairedForManagedRolesOnlyAndTheOwnerIsKept() {
    DesiredDatabase db = new DesiredDatabase("shop", "app", Map.of("alice", List.of("CONNECT")), false);
    var actual = Map.of("shop", new DatabaseDiff.ActualDatabase("dba", Map.of(
        "alice", Set.of("CONNECT", "CREATE"), "bob", Set.of("TEMPORARY"), "dba", Set.of("CREATE"),
        "app", Set.of("CONNECT"))));
    assertThat(sql(DatabaseDiff.plan(List.of(db), actual, ROLES, MANAGED))).containsExactly(
        "ALTER DATABASE \"shop\" OWNER TO \"app\"",
        "REVOKE CREATE ON DATABASE \"shop\" FROM \"alice\"",
        "REVOKE TEMPORARY ON DATABASE \"shop\" FROM \"bob\"");
  }

  @Test
  void badInputIsAPerDatabaseErrorAndOtherDatabasesStillSync() {
    List<DesiredDatabase> dbs = List.of(
        new DesiredDatabase("x".repeat(64), null, Map.of(), false),
        new DesiredDatabase("template1", null, Map.of(), false),
        new DesiredDatabase("no_owner", "ghost", Map.of(), false),
        new DesiredDatabase("bad_priv", null, Map.of("alice", List.of("SELECT")), false),
        new DesiredDatabase("ghost_grantee", null, Map.of("ghost", List.of("CONNECT")), false),
        new DesiredDatabase("fine", null, Map.of(), false),
        new DesiredDatabase("fine", null, Map.of(), false));
    DatabaseDiff.Plan plan = DatabaseDiff.plan(dbs, Map.of(), ROLES, MANAGED);
    assertThat(plan.errors()).containsOnlyKeys("x".repeat(64), "template1", "no_owner", "bad_priv", "ghost_grantee",
        "fine");
    assertThat(plan.errors().get("x".repeat(64))).contains("63");
    assertThat(plan.errors().get("template1")).contains("reserved");
    assertThat(plan.errors().get("no_owner")).contains("ghost");
    assertThat(plan.errors().get("bad_priv")).contains("unknown database privilege 'SELECT'");
    assertThat(plan.errors().get("fine")).isEqualTo("declared twice");
    assertThat(sql(plan)).containsExactly("CREATE DATABASE \"fine\"");
  }
}
