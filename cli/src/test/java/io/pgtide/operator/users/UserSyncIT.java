package io.pgtide.operator.users;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.operator.HubFixture;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Declared users against a real Patroni primary, through the real sidecar command path. */
class UserSyncIT {
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(1);
  static HubFixture hub;
  static PatroniMember primary;
  static final Map<String, String> secrets = new ConcurrentHashMap<>();
  static PostgresClusterSpec spec = new PostgresClusterSpec();
  static UserSyncController controller;
  static String clusterKey;

  @BeforeAll
  static void start() {
    hub = new HubFixture(TestDirs.create("user-sync-it"));
    primary = pg.cluster().members().get(0);
    MemberId id = new MemberId("it", pg.cluster().scope(), primary.name());
    hub.deploy(hub.config(id, primary.pgPort(), pg.cluster().secrets().superuserPassword(),
        "http://127.0.0.1:" + primary.restPort()).withPatroniCredentials(pg.cluster().restCredentials()));
    await().atMost(Duration.ofSeconds(30)).until(() -> hub.state.view(id.clusterKey()).primary().isPresent());
    clusterKey = id.clusterKey();
    controller = new UserSyncController(hub.vertx, hub.state, hub.commands, new ClusterEvents(hub.vertx),
        clusterKey, () -> spec, u -> {
          String key = u.passwordSecret == null ? u.name : u.passwordSecret.name + "/" + u.passwordSecret.key;
          String pw = secrets.get(key);
          if (pw == null) {
            throw new IllegalStateException("Secret for " + u.name + " is missing (" + key + ")");
          }
          return pw;
        }, new ScramVerifier(),
        new io.pgtide.operator.metrics.OperatorMetrics(hub.registry));
  }

  @AfterAll
  static void stop() {
    if (hub != null) {
      hub.close();
    }
  }

  @BeforeEach
  void baseline() {
    spec.users = new ArrayList<>(List.of(user("alice", "readers"), group("readers")));
    spec.databases = new ArrayList<>();
    secrets.put("alice", "alice-password-1");
  }

  static PostgresClusterSpec.UserSpec user(String name, String... groups) {
    PostgresClusterSpec.UserSpec u = new PostgresClusterSpec.UserSpec();
    u.name = name;
    u.memberOf = List.of(groups);
    return u;
  }

  static PostgresClusterSpec.UserSpec group(String name) {
    PostgresClusterSpec.UserSpec u = user(name);
    u.login = false;
    return u;
  }

  static String su(String sql) {
    return Psql.query(primary.pgPort(), "postgres", pg.cluster().secrets().superuserPassword(), "postgres", sql);
  }

  static String as(String user, String password) {
    return Psql.query(primary.pgPort(), user, password, "postgres", "SELECT current_user");
  }

  static JsonObject sync() {
    return controller.sync(false).await();
  }

  static List<String> failedNames(JsonObject r) {
    List<String> names = new ArrayList<>();
    r.getJsonArray("failed", new JsonArray()).forEach(o -> names.add(((JsonObject) o).getString("name")));
    return names;
  }

  @Test
  void declaredUsersLogInAndANoOpSyncWritesNothing() {
    JsonObject first = sync();
    assertThat(first.getJsonArray("failed")).isEmpty();
    assertThat(as("alice", "alice-password-1")).isEqualTo("alice");
    assertThat(su("SELECT string_agg(g.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        + "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'alice'")).isEqualTo("readers");
    assertThat(su("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = 'alice'"))
        .isEqualTo("managed by pgtide");
    JsonObject again = sync();
    assertThat(again.getInteger("writeStatements")).isZero();
    assertThat(again.getJsonArray("changed")).isEmpty();
    assertThat(again.encode()).doesNotContain("alice-password-1").doesNotContain("SCRAM");
  }

  @Test
  void anUnchangedPasswordKeepsPostgresqlsOwnVerifierEvenAfterAnOperatorRestart() {
    // a verifier PostgreSQL made itself (its own random salt): the password is checked against it, never rewritten
    su("CREATE ROLE carol LOGIN PASSWORD 'carol-password-1'");
    su("COMMENT ON ROLE carol IS 'managed by pgtide'");
    spec.users.add(user("carol"));
    secrets.put("carol", "carol-password-1");
    String before = su("SELECT rolpassword FROM pg_authid WHERE rolname = 'carol'");
    JsonObject r = sync();
    assertThat(r.getJsonArray("failed")).isEmpty();
    assertThat(r.getJsonArray("changed").encode()).doesNotContain("password");
    assertThat(as("carol", "carol-password-1")).isEqualTo("carol");
    assertThat(su("SELECT rolpassword FROM pg_authid WHERE rolname = 'carol'")).isEqualTo(before);
    UserSyncController restarted = new UserSyncController(hub.vertx, hub.state, hub.commands,
        new ClusterEvents(hub.vertx), clusterKey, () -> spec, u -> secrets.get(u.name), new ScramVerifier(),
        new io.pgtide.operator.metrics.OperatorMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));
    assertThat(restarted.sync(false).await().getInteger("writeStatements")).isZero();
  }

  @Test
  void twoRolesWithTheSamePasswordGetDifferentSalts() {
    spec.users.add(user("bob", "readers"));
    secrets.put("bob", "alice-password-1");
    sync();
    assertThat(as("bob", "alice-password-1")).isEqualTo("bob");
    assertThat(su("SELECT count(DISTINCT split_part(rolpassword, '$', 2)) FROM pg_authid"
        + " WHERE rolname IN ('alice', 'bob')")).isEqualTo("2");
  }

  @Test
  void aNoOpSyncOfAThousandRolesWritesNothing() {
    for (int i = 0; i < 1000; i++) {
      spec.users.add(user("many_" + i, "readers"));
      secrets.put("many_" + i, "password-" + i);
    }
    JsonObject first = sync();
    assertThat(first.getJsonArray("failed")).isEmpty();
    assertThat(as("many_999", "password-999")).isEqualTo("many_999");
    JsonObject again = sync();
    assertThat(again.getInteger("writeStatements")).isZero();
    assertThat(again.getJsonArray("changed")).isEmpty();
    assertThat(again.getInteger("synced")).isEqualTo(1002);
  }

  @Test
  void aChangedSecretRotatesThePassword() {
    sync();
    secrets.put("alice", "alice-password-2");
    JsonObject r = sync();
    assertThat(r.getJsonArray("changed").encode()).contains("password");
    assertThat(as("alice", "alice-password-2")).isEqualTo("alice");
    assertThatThrownBy(() -> as("alice", "alice-password-1")).hasMessageContaining("password authentication failed");
  }

  @Test
  void manualDriftIsRepairedAndUnmanagedRolesLeftAlone() {
    sync();
    su("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'admins') THEN CREATE ROLE admins; END IF; END $$");
    su("ALTER ROLE alice SUPERUSER CREATEDB CONNECTION LIMIT 3");
    su("GRANT admins TO alice");
    su("REVOKE readers FROM alice");
    JsonObject r = sync();
    assertThat(r.getJsonArray("failed")).isEmpty();
    assertThat(su("SELECT rolsuper || ',' || rolcreatedb || ',' || rolconnlimit FROM pg_roles WHERE rolname = 'alice'"))
        .isEqualTo("false,false,-1");
    assertThat(su("SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m "
        + "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'alice'"))
        .isEqualTo("readers");
    assertThat(su("SELECT count(*) FROM pg_roles WHERE rolname = 'admins'")).as("unmanaged role untouched").isEqualTo("1");

    su("DROP ROLE readers");
    sync();
    assertThat(su("SELECT string_agg(g.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        + "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'alice'")).as("a dropped role is recreated")
        .isEqualTo("readers");
  }

  @Test
  void absentRolesAreDroppedOrReportedWhenTheyOwnObjects() {
    spec.users.add(user("temp_user"));
    spec.users.add(user("owner_user"));
    secrets.put("temp_user", "t-password-123");
    secrets.put("owner_user", "o-password-123");
    sync();
    su("CREATE TABLE IF NOT EXISTS owned_by_owner(x int); ALTER TABLE owned_by_owner OWNER TO owner_user");
    spec.users.get(2).ensure = "absent";
    spec.users.get(3).ensure = "absent";
    JsonObject r = sync();
    assertThat(su("SELECT count(*) FROM pg_roles WHERE rolname = 'temp_user'")).isEqualTo("0");
    assertThat(su("SELECT count(*) FROM pg_roles WHERE rolname = 'owner_user'")).isEqualTo("1");
    assertThat(r.getJsonArray("failed").encode()).contains("owner_user").contains("cannotDrop").contains("owns objects");
    spec.users.get(3).reassignTo = "alice";
    sync();
    assertThat(su("SELECT count(*) FROM pg_roles WHERE rolname = 'owner_user'")).isEqualTo("0");
    assertThat(su("SELECT tableowner FROM pg_tables WHERE tablename = 'owned_by_owner'")).isEqualTo("alice");
  }

  @Test
  void badInputIsAPerRoleErrorWhileOtherRolesStillSync() {
    for (String name : List.of("we\"ird", "semi;colon drop", "ünïcødé", "fine_one")) {
      spec.users.add(user(name));
      secrets.put(name, "pw-" + name.hashCode());
    }
    spec.users.add(user("x".repeat(64)));
    spec.users.add(user("postgres"));
    spec.users.add(user("pg_sneaky"));
    PostgresClusterSpec.UserSpec noSecret = user("no_secret");
    noSecret.passwordSecret = new PostgresClusterSpec.SecretKeyRef();
    noSecret.passwordSecret.name = "absent-secret";
    spec.users.add(noSecret);
    spec.users.add(user("cyc_a", "cyc_b"));
    spec.users.add(user("cyc_b", "cyc_a"));
    secrets.put("cyc_a", "pw-a-123456");
    secrets.put("cyc_b", "pw-b-123456");
    secrets.put("x".repeat(64), "pw");
    secrets.put("postgres", "pw");
    secrets.put("pg_sneaky", "pw");
    String before = su("SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'");
    JsonObject r = sync();
    assertThat(failedNames(r)).containsExactlyInAnyOrder("x".repeat(64), "postgres", "pg_sneaky", "no_secret",
        "cyc_a", "cyc_b");
    assertThat(r.getJsonArray("failed").encode()).contains("63").contains("reserved").contains("absent-secret")
        .contains("cycle");
    assertThat(as("we\"ird", "pw-" + "we\"ird".hashCode())).isEqualTo("we\"ird");
    assertThat(as("semi;colon drop", "pw-" + "semi;colon drop".hashCode())).isEqualTo("semi;colon drop");
    assertThat(as("ünïcødé", "pw-" + "ünïcødé".hashCode())).isEqualTo("ünïcødé");
    assertThat(as("fine_one", "pw-" + "fine_one".hashCode())).isEqualTo("fine_one");
    assertThat(su("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'xxxxxxxx%' OR rolname IN ('pg_sneaky', 'no_secret', 'cyc_a')"))
        .isEqualTo("0");
    assertThat(su("SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'")).as("postgres untouched")
        .isEqualTo(before);
  }

  static String in(String db, String user, String password, String sql) {
    return Psql.query(primary.pgPort(), user, password, db, sql);
  }

  @Test
  void databasesGetOwnerPrivilegesAndReadyMadeReaderAndWriterRoles() {
    for (String[] u : new String[][] {{"shop_owner"}, {"report", "shop_reader"}, {"clerk", "shop_writer"}}) {
      spec.users.add(user(u[0], java.util.Arrays.copyOfRange(u, 1, u.length)));
      secrets.put(u[0], u[0] + "-pw-123");
    }
    PostgresClusterSpec.DatabaseSpec db = new PostgresClusterSpec.DatabaseSpec();
    db.name = "shop";
    db.owner = "shop_owner";
    db.defaultRoles = true;
    db.privileges = Map.of("alice", List.of("CONNECT", "TEMP"));
    spec.databases.add(db);
    JsonObject first = sync();
    assertThat(first.getJsonArray("failed")).isEmpty();
    assertThat(su("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'shop'")).isEqualTo("shop_owner");
    // tables the owner creates after the sync are covered by the default privileges
    in("shop", "shop_owner", "shop_owner-pw-123", "CREATE TABLE IF NOT EXISTS items(id int); INSERT INTO items VALUES (1)");
    assertThat(in("shop", "report", "report-pw-123", "SELECT count(*) > 0 FROM items")).isEqualTo("t");
    assertThatThrownBy(() -> in("shop", "report", "report-pw-123", "INSERT INTO items VALUES (2)"))
        .hasMessageContaining("permission denied");
    in("shop", "clerk", "clerk-pw-123", "INSERT INTO items VALUES (3)");
    String alicePrivileges = "SELECT string_agg(a.privilege_type, ',' ORDER BY a.privilege_type) FROM pg_database d, "
        + "aclexplode(d.datacl) a WHERE d.datname = 'shop' AND a.grantee = 'alice'::regrole";
    assertThat(su(alicePrivileges)).isEqualTo("CONNECT,TEMPORARY");
    assertThat(sync().getInteger("writeStatements")).as("an unchanged database costs no write").isZero();

    su("GRANT CREATE ON DATABASE shop TO alice");
    in("shop", "postgres", pg.cluster().secrets().superuserPassword(), "CREATE TABLE IF NOT EXISTS by_superuser(x int)");
    JsonObject repaired = sync();
    assertThat(repaired.getJsonArray("failed")).isEmpty();
    assertThat(su(alicePrivileges)).as("undeclared CREATE revoked").isEqualTo("CONNECT,TEMPORARY");
    assertThat(in("shop", "report", "report-pw-123", "SELECT count(*) FROM by_superuser"))
        .as("a table outside the default privileges is granted at the next sync").isEqualTo("0");
  }
}
