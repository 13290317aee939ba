package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit log reader on lines in the API server's own format (taken from the real tier's log). */
class AuditLogTest {
  static final String OPERATOR = "system:serviceaccount:pgtide-system:pgtide-operator";

  static String event(String id, String stage, String user, String verb, String objectRef, int code,
                      String decision, String at) {
    return ("{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"%s\","
        + "\"stage\":\"%s\",\"requestURI\":\"/x\",\"verb\":\"%s\",\"user\":{\"username\":\"%s\",\"groups\":"
        + "[\"system:serviceaccounts\"]},\"sourceIPs\":[\"10.213.1.11\"],\"objectRef\":%s,\"responseStatus\":"
        + "{\"metadata\":{},\"code\":%d},\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\","
        + "\"annotations\":{\"authorization.k8s.io/decision\":\"%s\",\"authorization.k8s.io/reason\":\"\"}}")
        .formatted(id, stage, verb, user, objectRef, code, at, at, decision);
  }

  static final String SECRET = "{\"resource\":\"secrets\",\"namespace\":\"shop\",\"name\":\"s\",\"apiVersion\":\"v1\"}";
  static final String SCALE = "{\"resource\":\"statefulsets\",\"namespace\":\"shop\",\"name\":\"orders\","
      + "\"apiGroup\":\"apps\",\"apiVersion\":\"v1\",\"subresource\":\"scale\"}";
  static final String KUBERNETES_ENDPOINTS = "{\"resource\":\"endpoints\",\"namespace\":\"default\","
      + "\"name\":\"kubernetes\",\"apiVersion\":\"v1\"}";

  @Test
  void parsesOneEventPerRequestWithItsObjectAndDecision() {
    List<AuditLog.Event> events = AuditLog.parse(Stream.of(
        event("1", "ResponseComplete", OPERATOR, "get", SECRET, 200, "allow", "2026-12-03T15:04:46.019909Z"),
        event("2", "ResponseStarted", OPERATOR, "watch", SECRET, 200, "allow", "2026-12-03T15:04:47Z"),
        event("2", "ResponseComplete", OPERATOR, "watch", SECRET, 200, "allow", "2026-12-03T15:04:47Z"),
        event("3", "ResponseStarted", OPERATOR, "watch", SCALE, 200, "allow", "2026-12-03T15:04:48Z"),
        "{\"kind\":\"Event\",\"auditID\":\"4\",\"sta", // cut off
        ""));
    assertThat(events).hasSize(3);
    AuditLog.Event get = events.get(0);
    assertThat(get.user()).isEqualTo(OPERATOR);
    assertThat(get.verb()).isEqualTo("get");
    assertThat(get.group()).isEmpty();
    assertThat(get.resource()).isEqualTo("secrets");
    assertThat(get.namespace()).isEqualTo("shop");
    assertThat(get.name()).isEqualTo("s");
    assertThat(get.code()).isEqualTo(200);
    assertThat(get.decision()).isEqualTo("allow");
    assertThat(get.received()).isEqualTo(Instant.parse("2026-12-03T15:04:46.019909Z"));
    // a watch still open counts once, from its ResponseStarted
    assertThat(events.get(2).group()).isEqualTo("apps");
    assertThat(events.get(2).subresource()).isEqualTo("scale");
  }

  @Test
  void forbiddenRequestsOfTheServiceAccountsSinceAnInstant() {
    String patroni = "system:serviceaccount:shop:orders-patroni";
    List<AuditLog.Event> events = AuditLog.parse(Stream.of(
        event("1", "ResponseComplete", patroni, "get", KUBERNETES_ENDPOINTS, 403, "forbid", "2026-12-03T10:00:00Z"),
        event("2", "ResponseComplete", patroni, "get", KUBERNETES_ENDPOINTS, 403, "forbid", "2026-12-03T12:00:00Z"),
        event("3", "ResponseComplete", "system:serviceaccount:shop:other", "get", SECRET, 403, "forbid",
            "2026-12-03T12:00:00Z"),
        // refused by admission (a namespace being deleted), not by RBAC: still a 403 the operator met
        event("4", "ResponseComplete", OPERATOR, "create", SECRET, 403, "allow", "2026-12-03T12:00:00Z"),
        event("5", "ResponseComplete", OPERATOR, "get", SECRET, 200, "allow", "2026-12-03T12:00:00Z")));
    var who = AuditLog.serviceAccounts(n -> n.equals("pgtide-operator") || n.endsWith("-patroni"));
    assertThat(AuditLog.forbidden(events, who, Instant.parse("2026-12-03T11:00:00Z")))
        .extracting(e -> e.describe()).containsExactly(
            "get endpoints default/kubernetes by " + patroni + " -> 403 (forbid)",
            "create secrets shop/s by " + OPERATOR + " -> 403 (allow)");
  }

  @Test
  void verbsUsedAreTheAuthorizedOnesOnTheResourceItself() {
    List<AuditLog.Event> events = AuditLog.parse(Stream.of(
        event("1", "ResponseComplete", OPERATOR, "get", SECRET, 200, "allow", "2026-12-03T12:00:00Z"),
        // authorized, then 409 AlreadyExists: the grant was used
        event("2", "ResponseComplete", OPERATOR, "create", SECRET, 409, "allow", "2026-12-03T12:00:00Z"),
        event("3", "ResponseComplete", OPERATOR, "delete", SECRET, 403, "forbid", "2026-12-03T12:00:00Z"),
        event("4", "ResponseComplete", "system:serviceaccount:shop:x", "list", SECRET, 200, "allow",
            "2026-12-03T12:00:00Z"),
        event("5", "ResponseComplete", OPERATOR, "update", SCALE, 200, "allow", "2026-12-03T12:00:00Z")));
    var operator = AuditLog.serviceAccounts("pgtide-operator"::equals);
    assertThat(AuditLog.verbsUsed(events, operator, "", "secrets")).containsExactly("create", "get");
    assertThat(AuditLog.verbsUsed(events, operator, "apps", "statefulsets")).isEmpty();
  }

  @Test
  void readsTheLiveLogAndTheBackupsRotationLeft(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("audit-2026-12-03T10-00-00.000.log"),
        event("1", "ResponseComplete", OPERATOR, "list", SECRET, 200, "allow", "2026-12-03T10:00:00Z") + "\n");
    Files.writeString(dir.resolve("audit.log"),
        event("2", "ResponseComplete", OPERATOR, "get", SECRET, 200, "allow", "2026-12-03T12:00:00Z") + "\n");
    Files.writeString(dir.resolve("kube-apiserver.log"), "not audit\n");
    assertThat(AuditLog.read(dir)).extracting(AuditLog.Event::verb).containsExactlyInAnyOrder("list", "get");
  }

  @Test
  void serviceAccountUsersOnly() {
    var patroni = AuditLog.serviceAccounts(n -> n.endsWith("-patroni"));
    assertThat(patroni.test("system:serviceaccount:shop:orders-patroni")).isTrue();
    assertThat(patroni.test("system:serviceaccount:shop:orders")).isFalse();
    assertThat(patroni.test("orders-patroni")).isFalse();
    assertThat(patroni.test("system:node:orders-patroni")).isFalse();
  }

  @Test
  void linesOfTheServiceAccountsAreKeptBeforeParsing() {
    var keep = AuditLog.linesOf(":pgtide-operator", ":orders-patroni");
    assertThat(keep.test(event("1", "ResponseComplete", OPERATOR, "get", SECRET, 200, "allow", "2026-12-03T10:00:00Z")))
        .isTrue();
    assertThat(keep.test(event("2", "ResponseComplete", "system:serviceaccount:shop:orders-patroni", "get", SECRET,
        200, "allow", "2026-12-03T10:00:00Z"))).isTrue();
    assertThat(keep.test(event("3", "ResponseComplete", "system:serviceaccount:shop:ledger-patroni", "get", SECRET,
        200, "allow", "2026-12-03T10:00:00Z"))).isFalse();
    assertThat(keep.test(event("4", "ResponseComplete", "system:serviceaccount:kube-system:pgtide-operator-x", "get",
        SECRET, 200, "allow", "2026-12-03T10:00:00Z"))).isFalse();
    assertThat(keep.test("not json")).isFalse();
  }
}
