package io.pgtide.common.contract;

import static io.pgtide.common.contract.JsonFields.*;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one JSON codec of the sidecar↔operator contract. Decoding validates everything first and either returns a
 * whole value or throws a {@link ContractException}: a message is never half-applied.
 */
public final class ContractCodec {
  /** major.minor: a different major is refused, a newer minor is read (unknown fields are ignored). */
  public static final String SCHEMA_VERSION = "1.2";
  public static final int SCHEMA_MAJOR = 1;
  /**
   * Largest encoded message accepted, in bytes. A report of a primary with 100 standbys is about 30 KB; the largest
   * messages are user syncs, about 420 bytes per role with its verifier: 4 MiB holds a sync of 10,000 roles.
   */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  private ContractCodec() {
  }

  // ---- size and schema gate ------------------------------------------------------------------------------------

  public static JsonObject parse(Buffer raw) {
    if (raw.length() > MAX_MESSAGE_BYTES) {
      throw tooLarge(raw.length());
    }
    try {
      return raw.toJsonObject();
    } catch (DecodeException | ClassCastException e) {
      throw new ContractException("malformed", "message is not a JSON object");
    }
  }

  /** Rejects a message whose encoded size is over the limit; cheap when the message came from the wire. */
  public static void checkSize(JsonObject json) {
    int size = json.toBuffer().length();
    if (size > MAX_MESSAGE_BYTES) {
      throw tooLarge(size);
    }
  }

  public static void checkSchema(JsonObject json) {
    String version = string(json, "schemaVersion");
    int dot = version.indexOf('.');
    String major = dot < 0 ? version : version.substring(0, dot);
    if (!major.equals(Integer.toString(SCHEMA_MAJOR))) {
      throw new ContractException("unsupported-schema",
          "schemaVersion " + version + " is not supported (this side speaks " + SCHEMA_VERSION + ")");
    }
  }

  private static ContractException tooLarge(int size) {
    return new ContractException("too-large", "message of " + size + " bytes exceeds the limit of "
        + MAX_MESSAGE_BYTES + " bytes");
  }

  // ---- identity ------------------------------------------------------------------------------------------------

  static JsonObject encode(MemberId id) {
    return new JsonObject().put("namespace", id.namespace()).put("cluster", id.cluster()).put("member", id.member());
  }

  static MemberId decodeMemberId(JsonObject json) {
    try {
      return new MemberId(string(json, "namespace"), string(json, "cluster"), string(json, "member"));
    } catch (IllegalArgumentException e) {
      throw new ContractException("invalid-field", e.getMessage());
    }
  }

  // ---- reports -------------------------------------------------------------------------------------------------

  public static JsonObject encode(InstanceReport r) {
    JsonArray standbys = new JsonArray();
    for (StandbyRow s : r.standbys()) {
      standbys.add(new JsonObject().put("name", s.name()).put("state", s.state()).put("syncState", s.syncState())
          .put("writeLagMs", s.writeLagMs()).put("flushLagMs", s.flushLagMs()).put("replayLagMs", s.replayLagMs())
          .put("lsnDistanceBytes", s.lsnDistanceBytes()));
    }
    JsonArray failures = new JsonArray();
    r.customQueryFailures().stream().limit(QueryFailure.MAX_PER_REPORT)
        .forEach(f -> failures.add(new JsonObject().put("query", f.query()).put("error", f.error())));
    LoadStats l = r.load();
    Connections c = r.connections();
    Resources res = r.resources();
    return new JsonObject()
        .put("schemaVersion", r.schemaVersion())
        .put("id", encode(r.id()))
        .put("sessionId", r.sessionId())
        .put("seq", r.seq())
        .put("collectedAt", r.collectedAt())
        .put("role", r.role().name())
        .put("patroniRole", r.patroniRole())
        .put("patroniState", r.patroniState())
        .put("roleConflict", r.roleConflict())
        .put("noFailover", r.noFailover())
        .put("pendingRestart", r.pendingRestart())
        .put("timeline", r.timeline())
        .put("currentLsn", r.currentLsn())
        .put("receivedLsn", r.receivedLsn())
        .put("replayedLsn", r.replayedLsn())
        .put("lagBytes", r.lagBytes())
        .put("replayDelaySeconds", r.replayDelaySeconds())
        .put("walReceiverStatus", r.walReceiverStatus())
        .put("standbys", standbys)
        .put("load", new JsonObject().put("qps", l.qps()).put("tps", l.tps()).put("meanLatencyMs", l.meanLatencyMs())
            .put("latencySource", l.latencySource()).put("deadlocks", l.deadlocks()).put("tempBytes", l.tempBytes())
            .put("cacheHitRatio", l.cacheHitRatio()))
        .put("connections", new JsonObject().put("active", c.active()).put("idle", c.idle())
            .put("idleInTransaction", c.idleInTransaction()).put("total", c.total()).put("max", c.max()))
        .put("resources", new JsonObject().put("cpuCores", res.cpuCores()).put("cpuLimitCores", res.cpuLimitCores())
            .put("memoryBytes", res.memoryBytes()).put("memoryLimitBytes", res.memoryLimitBytes()))
        .put("healthy", r.healthy())
        .put("reason", r.reason())
        .put("acceptance", r.acceptance().name())
        .put("customQueryFailures", failures);
  }

  public static InstanceReport decodeReport(JsonObject json) {
    checkSize(json);
    checkSchema(json);
    List<StandbyRow> standbys = objects(json, "standbys").stream()
        .map(s -> new StandbyRow(string(s, "name"), optString(s, "state"), optString(s, "syncState"),
            optDouble(s, "writeLagMs"), optDouble(s, "flushLagMs"), optDouble(s, "replayLagMs"),
            longValue(s, "lsnDistanceBytes")))
        .toList();
    JsonObject l = optObject(json, "load");
    LoadStats load = l == null ? LoadStats.EMPTY : new LoadStats(doubleOr(l, "qps", 0), doubleOr(l, "tps", 0),
        optDouble(l, "meanLatencyMs"), l.getString("latencySource", "none"), orZero(optLong(l, "deadlocks")),
        orZero(optLong(l, "tempBytes")), optDouble(l, "cacheHitRatio"));
    JsonObject c = optObject(json, "connections");
    Connections conns = c == null ? Connections.EMPTY : new Connections((int) orZero(optLong(c, "active")),
        (int) orZero(optLong(c, "idle")), (int) orZero(optLong(c, "idleInTransaction")),
        (int) orZero(optLong(c, "total")), (int) orZero(optLong(c, "max")));
    JsonObject res = optObject(json, "resources");
    Resources resources = res == null ? Resources.EMPTY : new Resources(optDouble(res, "cpuCores"),
        optDouble(res, "cpuLimitCores"), optLong(res, "memoryBytes"), optLong(res, "memoryLimitBytes"));
    return new InstanceReport(
        decodeMemberId(object(json, "id")),
        string(json, "schemaVersion"),
        string(json, "sessionId"),
        longValue(json, "seq"),
        longValue(json, "collectedAt"),
        enumValue(json, "role", Role.class),
        optString(json, "patroniRole"),
        optString(json, "patroniState"),
        optString(json, "roleConflict"),
        bool(json, "noFailover", false),
        bool(json, "pendingRestart", false),
        optLong(json, "timeline"),
        optLong(json, "currentLsn"),
        optLong(json, "receivedLsn"),
        optLong(json, "replayedLsn"),
        optLong(json, "lagBytes"),
        optDouble(json, "replayDelaySeconds"),
        optString(json, "walReceiverStatus"),
        standbys, load, conns, resources,
        requiredBool(json, "healthy"),
        optString(json, "reason"),
        acceptance(optString(json, "acceptance")),
        customQueryFailures(json));
  }

  /** Schema 1.1 and older sidecars send none. */
  private static List<QueryFailure> customQueryFailures(JsonObject json) {
    if (json.getValue("customQueryFailures") == null) {
      return List.of();
    }
    List<JsonObject> items = objects(json, "customQueryFailures");
    if (items.size() > QueryFailure.MAX_PER_REPORT) {
      throw new ContractException("invalid-field", "customQueryFailures has " + items.size() + " items (at most "
          + QueryFailure.MAX_PER_REPORT + ")");
    }
    try {
      return items.stream().map(f -> new QueryFailure(string(f, "query"), optString(f, "error"))).toList();
    } catch (IllegalArgumentException e) {
      throw new ContractException("invalid-field", "customQueryFailures: " + e.getMessage());
    }
  }

  /** Schema 1.0 sidecars send none; a value a newer minor adds is read as unknown, never refused. */
  private static Acceptance acceptance(String value) {
    if (value == null) {
      return Acceptance.UNKNOWN;
    }
    try {
      return Acceptance.valueOf(value);
    } catch (IllegalArgumentException e) {
      return Acceptance.UNKNOWN;
    }
  }

  private static long orZero(Long value) {
    return value == null ? 0 : value;
  }

  // ---- commands ------------------------------------------------------------------------------------------------

  public static JsonObject encode(Command cmd) {
    return new JsonObject()
        .put("schemaVersion", SCHEMA_VERSION)
        .put("correlationId", cmd.correlationId())
        .put("target", encode(cmd.target()))
        .put("timeoutMs", cmd.timeoutMs())
        .put("type", cmd.payload().type())
        .put("args", encodePayload(cmd.payload()));
  }

  public static Command decodeCommand(JsonObject json) {
    checkSize(json);
    checkSchema(json);
    String type = string(json, "type");
    JsonObject args = optObject(json, "args");
    args = args == null ? new JsonObject() : args;
    CommandPayload payload = switch (type) {
      case "sync-users" -> new CommandPayload.SyncUsers(
          objects(args, "roles").stream().map(ContractCodec::decodeRole).toList(),
          objects(args, "databases").stream().map(ContractCodec::decodeDatabase).toList(),
          bool(args, "dryRun", false));
      case "role-verifiers" -> new CommandPayload.RoleVerifiers(strings(args, "roles"));
      case "switchover" -> new CommandPayload.Switchover(optString(args, "leader"), optString(args, "candidate"));
      case "failover" -> new CommandPayload.Failover(string(args, "candidate"));
      case "checkpoint" -> new CommandPayload.Checkpoint();
      case "switch-wal" -> new CommandPayload.SwitchWal();
      case "reload" -> new CommandPayload.Reload();
      case "fence" -> new CommandPayload.Fence();
      case "probe-processes" -> new CommandPayload.ProbeProcesses();
      case "restart" -> new CommandPayload.Restart();
      case "patroni-config" -> new CommandPayload.PatroniConfig(object(args, "changes"));
      case "logs" -> logs(args);
      default -> throw new ContractException("unknown-command", "command type '" + type + "' is not known");
    };
    return new Command(string(json, "correlationId"), decodeMemberId(object(json, "target")),
        longValue(json, "timeoutMs"), payload);
  }

  private static JsonObject encodePayload(CommandPayload payload) {
    if (payload instanceof CommandPayload.SyncUsers s) {
      return new JsonObject()
          .put("roles", new JsonArray(s.roles().stream().map(ContractCodec::encode).toList()))
          .put("databases", new JsonArray(s.databases().stream().map(ContractCodec::encode).toList()))
          .put("dryRun", s.dryRun());
    }
    if (payload instanceof CommandPayload.RoleVerifiers r) {
      return new JsonObject().put("roles", new JsonArray(r.roles()));
    }
    if (payload instanceof CommandPayload.Switchover s) {
      return new JsonObject().put("leader", s.leader()).put("candidate", s.candidate());
    }
    if (payload instanceof CommandPayload.Failover f) {
      return new JsonObject().put("candidate", f.candidate());
    }
    if (payload instanceof CommandPayload.PatroniConfig c) {
      return new JsonObject().put("changes", c.changes().copy());
    }
    if (payload instanceof CommandPayload.Logs l) {
      return new JsonObject().put("source", l.source()).put("sinceMs", l.sinceMs()).put("minSeverity", l.minSeverity())
          .put("limit", l.limit());
    }
    return new JsonObject();
  }

  private static CommandPayload.Logs logs(JsonObject args) {
    Long since = optLong(args, "sinceMs");
    Long limit = optLong(args, "limit");
    try {
      return new CommandPayload.Logs(optString(args, "source"), since == null ? 0 : since,
          optString(args, "minSeverity"), limit == null ? 0 : (int) Math.min(limit, Integer.MAX_VALUE));
    } catch (IllegalArgumentException e) {
      throw new ContractException("invalid-field", e.getMessage());
    }
  }

  // ---- log lines -----------------------------------------------------------------------------------------------

  public static JsonObject encode(LogLine l) {
    JsonObject j = new JsonObject().put("time", l.time()).put("source", l.source()).put("seq", l.seq());
    putIf(j, "severity", l.severity());
    putIf(j, "sqlstate", l.sqlstate());
    putIf(j, "user", l.user());
    putIf(j, "database", l.database());
    if (l.pid() != null) {
      j.put("pid", l.pid());
    }
    putIf(j, "message", l.message());
    putIf(j, "detail", l.detail());
    return j;
  }

  public static LogLine decodeLogLine(JsonObject j) {
    return new LogLine(longValue(j, "time"), string(j, "source"), orZero(optLong(j, "seq")), optString(j, "severity"),
        optString(j, "sqlstate"), optString(j, "user"), optString(j, "database"), optLong(j, "pid"),
        optString(j, "message"), optString(j, "detail"));
  }

  private static void putIf(JsonObject j, String field, String value) {
    if (value != null) {
      j.put(field, value);
    }
  }

  public static JsonObject encode(DesiredRole r) {
    return new JsonObject().put("name", r.name()).put("present", r.present()).put("login", r.login())
        .put("superuser", r.superuser()).put("createdb", r.createdb()).put("createrole", r.createrole())
        .put("replication", r.replication()).put("bypassrls", r.bypassrls()).put("inherit", r.inherit())
        .put("connectionLimit", r.connectionLimit()).put("validUntil", r.validUntil())
        .put("memberOf", new JsonArray(r.memberOf())).put("passwordVerifier", r.passwordVerifier())
        .put("disablePassword", r.disablePassword()).put("reassignTo", r.reassignTo());
  }

  public static DesiredRole decodeRole(JsonObject j) {
    Long limit = optLong(j, "connectionLimit");
    return new DesiredRole(string(j, "name"), bool(j, "present", true), bool(j, "login", false),
        bool(j, "superuser", false), bool(j, "createdb", false), bool(j, "createrole", false),
        bool(j, "replication", false), bool(j, "bypassrls", false), bool(j, "inherit", true),
        limit == null ? -1 : limit.intValue(), optString(j, "validUntil"), strings(j, "memberOf"),
        optString(j, "passwordVerifier"), bool(j, "disablePassword", false), optString(j, "reassignTo"));
  }

  public static JsonObject encode(DesiredDatabase d) {
    JsonObject privileges = new JsonObject();
    d.privileges().forEach((role, privs) -> privileges.put(role, new JsonArray(privs)));
    return new JsonObject().put("name", d.name()).put("owner", d.owner()).put("privileges", privileges)
        .put("defaultRoles", d.defaultRoles());
  }

  public static DesiredDatabase decodeDatabase(JsonObject j) {
    JsonObject privs = optObject(j, "privileges");
    Map<String, List<String>> privileges = new HashMap<>();
    if (privs != null) {
      for (String role : privs.fieldNames()) {
        privileges.put(role, strings(privs, role));
      }
    }
    return new DesiredDatabase(string(j, "name"), optString(j, "owner"), privileges, bool(j, "defaultRoles", false));
  }

  // ---- results -------------------------------------------------------------------------------------------------

  public static JsonObject encode(CommandResult r) {
    return new JsonObject().put("schemaVersion", SCHEMA_VERSION).put("correlationId", r.correlationId())
        .put("ok", r.ok()).put("errorCode", r.errorCode()).put("errorMessage", r.errorMessage())
        .put("detail", r.detail());
  }

  public static CommandResult decodeResult(JsonObject json) {
    checkSize(json);
    checkSchema(json);
    JsonObject detail = optObject(json, "detail");
    return new CommandResult(string(json, "correlationId"), requiredBool(json, "ok"), optString(json, "errorCode"),
        optString(json, "errorMessage"), detail == null ? new JsonObject() : detail);
  }
}
