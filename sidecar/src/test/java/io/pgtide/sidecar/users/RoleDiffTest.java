package io.pgtide.sidecar.users;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.DesiredRole;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoleDiffTest {
  static final String V1 = "SCRAM-SHA-256$4096:c2FsdA==$a:b";
  static final String V2 = "SCRAM-SHA-256$4096:c2FsdA==$c:d";

  static ActualRole actual(DesiredRole r, String password) {
    return new ActualRole(r.name(), r.login(), r.superuser(), r.createdb(), r.createrole(), r.replication(),
        r.bypassrls(), r.inherit(), r.connectionLimit(), null, Set.copyOf(r.memberOf()), password, true, null);
  }

  static Map<String, ActualRole> existing(ActualRole... roles) {
    Map<String, ActualRole> m = new HashMap<>();
    for (ActualRole r : roles) {
      m.put(r.name(), r);
    }
    return m;
  }

  static List<String> sql(RoleDiff.Plan plan) {
    return java.util.stream.Stream.concat(plan.changes().stream(), plan.passwords().stream())
        .flatMap(c -> c.statements().stream()).toList();
  }

  @Test
  void createsMissingRolesGroupsFirstWithMarkerAndQuotedNames() {
    DesiredRole group = DesiredRole.group("readers");
    DesiredRole alice = DesiredRole.login("alice", V1, List.of("readers"));
    RoleDiff.Plan plan = RoleDiff.plan(List.of(alice, group), Map.of());
    List<String> sql = sql(plan);
    assertThat(sql.get(0)).startsWith("CREATE ROLE \"alice\" LOGIN").doesNotContain("PASSWORD");
    // the password comes after every role exists: a new role cannot log in before it has its verifier
    assertThat(sql.get(sql.size() - 1)).startsWith("ALTER ROLE \"alice\" PASSWORD 'SCRAM-SHA-256$");
    assertThat(plan.passwords()).extracting(RoleDiff.RoleChange::role).containsExactly("alice");
    assertThat(sql).contains("COMMENT ON ROLE \"readers\" IS 'managed by pgtide'", "GRANT \"readers\" TO \"alice\"");
    assertThat(sql.indexOf("GRANT \"readers\" TO \"alice\"")).isGreaterThan(sql.indexOf(
        sql.stream().filter(s -> s.startsWith("CREATE ROLE \"readers\"")).findFirst().orElseThrow()));
    assertThat(plan.errors()).isEmpty();
  }

  @Test
  void noOpWhenEverythingMatches() {
    DesiredRole group = DesiredRole.group("readers");
    DesiredRole alice = DesiredRole.login("alice", V1, List.of("readers"));
    RoleDiff.Plan plan = RoleDiff.plan(List.of(alice, group), existing(actual(alice, V1), actual(group, null)));
    assertThat(plan.changes()).isEmpty();
    assertThat(plan.statementCount()).isZero();
  }

  @Test
  void everyDriftedFlagIsRepaired() {
    DesiredRole alice = DesiredRole.login("alice", V1, List.of());
    ActualRole base = actual(alice, V1);
    List<ActualRole> drifted = List.of(
        new ActualRole("alice", false, false, false, false, false, false, true, -1, null, Set.of(), V1, true, null),
        new ActualRole("alice", true, true, false, false, false, false, true, -1, null, Set.of(), V1, true, null),
        new ActualRole("alice", true, false, true, false, false, false, true, -1, null, Set.of(), V1, true, null),
        new ActualRole("alice", true, false, false, true, false, false, true, -1, null, Set.of(), V1, true, null),
        new ActualRole("alice", true, false, false, false, true, false, true, -1, null, Set.of(), V1, true, null),
        new ActualRole("alice", true, false, false, false, false, true, true, -1, null, Set.of(), V1, true, null),
        new ActualRole("alice", true, false, false, false, false, false, false, -1, null, Set.of(), V1, true, null),
        new ActualRole("alice", true, false, false, false, false, false, true, 5, null, Set.of(), V1, true, null),
        new ActualRole("alice", true, false, false, false, false, false, true, -1, "1893456000", Set.of(), V1, true,
            null));
    assertThat(RoleDiff.plan(List.of(alice), existing(base)).changes()).isEmpty();
    for (ActualRole a : drifted) {
      List<String> sql = sql(RoleDiff.plan(List.of(alice), existing(a)));
      assertThat(sql).as(a.toString()).containsExactly("ALTER ROLE \"alice\" LOGIN NOSUPERUSER NOCREATEDB "
          + "NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT -1 VALID UNTIL 'infinity'");
    }
  }

  @Test
  void validUntilIsComparedAsAnInstant() {
    DesiredRole r = new DesiredRole("temp", true, true, false, false, false, false, false, true, -1, "2030-01-01",
        List.of(), null, false, null);
    ActualRole same = new ActualRole("temp", true, false, false, false, false, false, true, -1, "1893456000",
        Set.of(), null, true, null);
    assertThat(RoleDiff.plan(List.of(r), existing(same)).changes()).isEmpty();
  }

  @Test
  void membershipsAreGrantedAndUndeclaredOnesRevoked() {
    DesiredRole alice = DesiredRole.login("alice", V1, List.of("readers"));
    ActualRole a = new ActualRole("alice", true, false, false, false, false, false, true, -1, null,
        Set.of("admins"), V1, true, null);
    Map<String, ActualRole> roles = existing(a, actual(DesiredRole.group("readers"), null),
        actual(DesiredRole.group("admins"), null));
    assertThat(sql(RoleDiff.plan(List.of(alice), roles)))
        .containsExactly("GRANT \"readers\" TO \"alice\"", "REVOKE \"admins\" FROM \"alice\"");
  }

  @Test
  void changedPasswordIsResetAndDisabledPasswordCleared() {
    DesiredRole alice = DesiredRole.login("alice", V2, List.of());
    assertThat(sql(RoleDiff.plan(List.of(alice), existing(actual(alice, V1)))))
        .containsExactly("ALTER ROLE \"alice\" PASSWORD '" + V2 + "'");
    DesiredRole noPw = new DesiredRole("alice", true, true, false, false, false, false, false, true, -1, null,
        List.of(), null, true, null);
    assertThat(sql(RoleDiff.plan(List.of(noPw), existing(actual(alice, V1)))))
        .containsExactly("ALTER ROLE \"alice\" PASSWORD NULL");
    DesiredRole keep = DesiredRole.login("alice", null, List.of());
    assertThat(RoleDiff.plan(List.of(keep), existing(actual(alice, V1))).changes()).isEmpty();
    assertThat(RoleDiff.plan(List.of(keep), existing(actual(alice, V1))).passwords()).isEmpty();
  }

  @Test
  void absentRolesAreDroppedUnlessTheyOwnObjects() {
    DesiredRole gone = DesiredRole.absent("old", null);
    ActualRole old = new ActualRole("old", true, false, false, false, false, false, true, -1, null, Set.of(), null,
        true, null);
    assertThat(sql(RoleDiff.plan(List.of(gone), existing(old)))).containsExactly("DROP ROLE \"old\"");
    ActualRole owner = new ActualRole("old", true, false, false, false, false, false, true, -1, null, Set.of(), null,
        true, "owns objects in app");
    RoleDiff.Plan refused = RoleDiff.plan(List.of(gone), existing(owner));
    assertThat(refused.changes()).isEmpty();
    assertThat(refused.cannotDrop()).containsEntry("old", "owns objects in app");
    DesiredRole reassign = DesiredRole.absent("old", "alice");
    assertThat(sql(RoleDiff.plan(List.of(reassign), existing(owner, actual(DesiredRole.group("alice"), null)))))
        .containsExactly("REASSIGN OWNED BY \"old\" TO \"alice\"", "DROP OWNED BY \"old\"", "DROP ROLE \"old\"");
    assertThat(RoleDiff.plan(List.of(gone), Map.of()).changes()).as("already absent").isEmpty();
  }

  @Test
  void unmanagedRolesAreLeftAlone() {
    ActualRole dba = new ActualRole("dba", true, true, false, false, false, false, true, -1, null, Set.of(), V1,
        false, null);
    assertThat(RoleDiff.plan(List.of(), existing(dba)).changes()).isEmpty();
    RoleDiff.Plan declared = RoleDiff.plan(List.of(DesiredRole.login("dba", V2, List.of())), existing(dba));
    assertThat(declared.changes()).isEmpty();
    assertThat(declared.errors().get("dba")).contains("not managed by pgtide");
    assertThat(RoleDiff.plan(List.of(DesiredRole.absent("dba", null)), existing(dba)).changes()).isEmpty();
  }

  @Test
  void hostileNamesAreQuotedOrRefusedPerRoleWhileOthersStillSync() {
    List<DesiredRole> roles = List.of(
        DesiredRole.login("we\"ird", V1, List.of()),
        DesiredRole.login("semi;colon drop", V1, List.of()),
        DesiredRole.login("ünïcødé", V1, List.of()),
        DesiredRole.login("x".repeat(64), V1, List.of()),
        DesiredRole.login("é".repeat(32), V1, List.of()),
        DesiredRole.login("postgres", V1, List.of()),
        DesiredRole.login("pg_monitor", V1, List.of()),
        DesiredRole.login("a", V1, List.of("b")),
        DesiredRole.login("b", V1, List.of("a")),
        DesiredRole.login("orphan", V1, List.of("nosuchgroup")),
        DesiredRole.login("fine", V1, List.of()));
    RoleDiff.Plan plan = RoleDiff.plan(roles, Map.of());
    assertThat(plan.errors()).containsOnlyKeys("x".repeat(64), "é".repeat(32), "postgres", "pg_monitor", "a", "b",
        "orphan");
    assertThat(plan.errors().get("x".repeat(64))).contains("63");
    assertThat(plan.errors().get("a")).contains("cycle");
    assertThat(plan.errors().get("orphan")).contains("nosuchgroup");
    assertThat(sql(plan)).anyMatch(s -> s.startsWith("CREATE ROLE \"we\"\"ird\""))
        .anyMatch(s -> s.startsWith("CREATE ROLE \"semi;colon drop\""))
        .anyMatch(s -> s.startsWith("CREATE ROLE \"ünïcødé\""))
        .anyMatch(s -> s.startsWith("CREATE ROLE \"fine\""));
  }

  @Test
  void literalsAndIdentifiersAreQuotedLikePostgres() {
    assertThat(Sql.ident("a\"b")).isEqualTo("\"a\"\"b\"");
    assertThat(Sql.literal("it's")).isEqualTo("'it''s'");
    assertThat(Sql.literal("back\\slash")).isEqualTo("E'back\\\\slash'");
  }
}
