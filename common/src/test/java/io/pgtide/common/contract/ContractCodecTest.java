package io.pgtide.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContractCodecTest {
  static final MemberId ID = new MemberId("shop", "orders", "orders-0");

  static InstanceReport report() {
    return new InstanceReport(ID, ContractCodec.SCHEMA_VERSION, "s1", 7, 1700000000000L, Role.PRIMARY, "master",
        "running", null, false, true, 3L, 1000L, null, null, null, null, null,
        List.of(new StandbyRow("orders-1", "streaming", "async", 1.5, 2.0, null, 4096)),
        new LoadStats(812.5, 100, 1.25, "pg_stat_statements", 1, 2, 0.99), new Connections(1, 2, 3, 6, 100),
        new Resources(0.5, 2.0, 1000L, 4000L), true, null, Acceptance.HUNG);
  }

  @Test
  void reportRoundTripsExactly() {
    InstanceReport r = report();
    assertThat(ContractCodec.decodeReport(ContractCodec.encode(r))).isEqualTo(r);
    assertThat(ContractCodec.decodeReport(new JsonObject(ContractCodec.encode(r).encode()))).isEqualTo(r);
  }

  @Test
  void howNewConnectionsAreAnsweredIsUnknownFromAnOlderSidecarOrAValueThisSideDoesNotKnow() {
    assertThat(ContractCodec.decodeReport(ContractCodec.encode(report())).acceptance()).isEqualTo(Acceptance.HUNG);
    JsonObject old = ContractCodec.encode(report()).put("schemaVersion", "1.0");
    old.remove("acceptance");
    assertThat(ContractCodec.decodeReport(old).acceptance()).isEqualTo(Acceptance.UNKNOWN);
    JsonObject newer = ContractCodec.encode(report()).put("schemaVersion", "1.7").put("acceptance", "THROTTLED");
    assertThat(ContractCodec.decodeReport(newer).acceptance()).isEqualTo(Acceptance.UNKNOWN);
  }

  @Test
  void customQueryFailuresRoundTripAndAnOlderSidecarSendsNone() {
    InstanceReport failing = report().withCustomQueryFailures(List.of(
        new QueryFailure("pg_stat_statements", "ERROR: relation \"pg_stat_statements\" does not exist (42P01)"),
        new QueryFailure("e2e_broken", "line one\nline two")));
    InstanceReport back = ContractCodec.decodeReport(new JsonObject(ContractCodec.encode(failing).encode()));
    assertThat(back).isEqualTo(failing);
    assertThat(back.customQueryFailures()).extracting(QueryFailure::query)
        .containsExactly("pg_stat_statements", "e2e_broken");
    assertThat(back.customQueryFailures().get(1).error()).as("one line").isEqualTo("line one line two");
    assertThat(report().customQueryFailures()).isEmpty();
    JsonObject old = ContractCodec.encode(report()).put("schemaVersion", "1.1");
    old.remove("customQueryFailures");
    assertThat(ContractCodec.decodeReport(old).customQueryFailures()).isEmpty();
  }

  @Test
  void customQueryFailuresAreBoundedAndNamed() {
    assertThat(new QueryFailure("q", "x".repeat(5_000)).error()).hasSize(QueryFailure.MAX_ERROR_CHARS).endsWith("…");
    List<QueryFailure> many = java.util.stream.IntStream.range(0, 150)
        .mapToObj(i -> new QueryFailure("q" + i, "failed")).toList();
    JsonObject encoded = ContractCodec.encode(report().withCustomQueryFailures(many));
    assertThat(encoded.getJsonArray("customQueryFailures")).hasSize(QueryFailure.MAX_PER_REPORT);
    JsonObject forged = ContractCodec.encode(report());
    forged.put("customQueryFailures", new io.vertx.core.json.JsonArray().add(new JsonObject().put("error", "x")));
    assertThatThrownBy(() -> ContractCodec.decodeReport(forged)).isInstanceOf(ContractException.class)
        .hasMessageContaining("query");
    JsonObject tooMany = ContractCodec.encode(report());
    io.vertx.core.json.JsonArray items = new io.vertx.core.json.JsonArray();
    many.forEach(f -> items.add(new JsonObject().put("query", f.query()).put("error", f.error())));
    tooMany.put("customQueryFailures", items);
    assertThatThrownBy(() -> ContractCodec.decodeReport(tooMany)).isInstanceOf(ContractException.class)
        .hasMessageContaining("at most 100");
  }

  @Test
  void newerMinorIsReadAndUnknownFieldsIgnored() {
    JsonObject json = ContractCodec.encode(report()).put("schemaVersion", "1.9").put("somethingNew", 1);
    assertThat(ContractCodec.decodeReport(json).seq()).isEqualTo(7);
  }

  @Test
  void unknownMajorIsRefused() {
    JsonObject json = ContractCodec.encode(report()).put("schemaVersion", "2.0");
    assertThatThrownBy(() -> ContractCodec.decodeReport(json)).isInstanceOf(ContractException.class)
        .satisfies(e -> assertThat(((ContractException) e).code()).isEqualTo("unsupported-schema"));
  }

  @Test
  void missingRequiredFieldIsNamed() {
    for (String field : List.of("sessionId", "seq", "collectedAt", "role", "healthy", "id", "schemaVersion")) {
      JsonObject json = ContractCodec.encode(report());
      json.remove(field);
      assertThatThrownBy(() -> ContractCodec.decodeReport(json)).as(field).isInstanceOf(ContractException.class)
          .hasMessageContaining(field);
    }
  }

  @Test
  void wrongTypesAndBadIdentitiesAreRefused() {
    assertThatThrownBy(() -> ContractCodec.decodeReport(ContractCodec.encode(report()).put("seq", "seven")))
        .hasMessageContaining("invalid-field");
    assertThatThrownBy(() -> ContractCodec.decodeReport(ContractCodec.encode(report()).put("role", "LEADER")))
        .hasMessageContaining("unknown value");
    JsonObject badId = ContractCodec.encode(report());
    badId.getJsonObject("id").put("member", "Orders_0; DROP");
    assertThatThrownBy(() -> ContractCodec.decodeReport(badId)).hasMessageContaining("DNS label");
  }

  @Test
  void oversizedAndNonJsonAreRefused() {
    JsonObject big = ContractCodec.encode(report()).put("reason", "x".repeat(ContractCodec.MAX_MESSAGE_BYTES));
    assertThatThrownBy(() -> ContractCodec.decodeReport(big)).hasMessageContaining("too-large");
    assertThatThrownBy(() -> ContractCodec.parse(Buffer.buffer("[1,2"))).hasMessageContaining("malformed");
    assertThatThrownBy(() -> ContractCodec.parse(Buffer.buffer(new byte[ContractCodec.MAX_MESSAGE_BYTES + 1])))
        .hasMessageContaining("too-large");
  }

  @Test
  void commandsOfEveryTypeRoundTrip() {
    List<CommandPayload> payloads = List.of(
        new CommandPayload.SyncUsers(List.of(DesiredRole.login("alice", "SCRAM-SHA-256$4096:x$y:z", List.of("g"))),
            List.of(new DesiredDatabase("app", "alice", java.util.Map.of("alice", List.of("CONNECT")), true)), true),
        new CommandPayload.Switchover("orders-0", "orders-1"), new CommandPayload.Switchover("orders-0", null),
        new CommandPayload.Failover("orders-2"), new CommandPayload.Checkpoint(), new CommandPayload.SwitchWal(),
        new CommandPayload.Reload(), new CommandPayload.Restart(),
        new CommandPayload.Fence(), new CommandPayload.ProbeProcesses(),
        new CommandPayload.RoleVerifiers(List.of("alice", "bob")), new CommandPayload.RoleVerifiers(List.of()),
        new CommandPayload.PatroniConfig(new io.vertx.core.json.JsonObject().put("loop_wait", 3)
            .put("postgresql", new io.vertx.core.json.JsonObject().put("parameters",
                new io.vertx.core.json.JsonObject().put("work_mem", "8MB").putNull("old_param")))));
    for (CommandPayload p : payloads) {
      Command c = new Command("corr-1", ID, 5000, p);
      assertThat(ContractCodec.decodeCommand(ContractCodec.encode(c))).isEqualTo(c);
    }
  }

  @Test
  void unknownCommandAndResultShape() {
    JsonObject cmd = ContractCodec.encode(new Command("c", ID, 1, new CommandPayload.Reload())).put("type", "rm-rf");
    assertThatThrownBy(() -> ContractCodec.decodeCommand(cmd)).hasMessageContaining("unknown-command");
    CommandResult err = CommandResult.error("c", "patroni", "Patroni answered 412", new JsonObject().put("status", 412));
    assertThat(ContractCodec.decodeResult(ContractCodec.encode(err))).isEqualTo(err);
  }

  @Test
  void memberIdentityParsesAndRejects() {
    assertThat(MemberId.parse("shop/orders/orders-0")).isEqualTo(ID);
    assertThatThrownBy(() -> MemberId.parse("shop/orders")).isInstanceOf(IllegalArgumentException.class);
    assertThat(Addresses.command(ID)).matches(Addresses.COMMAND_REGEX);
  }

  @Test
  void patroniRolesOfBothMajorVersionsMapToPrimary() {
    assertThat(Role.fromPatroni("master")).isEqualTo(Role.PRIMARY);
    assertThat(Role.fromPatroni("primary")).isEqualTo(Role.PRIMARY);
    assertThat(Role.fromPatroni("replica")).isEqualTo(Role.REPLICA);
    assertThat(Role.fromPatroni("uninitialized")).isEqualTo(Role.UNKNOWN);
    assertThat(Role.fromPatroni(null)).isEqualTo(Role.UNKNOWN);
  }
}
