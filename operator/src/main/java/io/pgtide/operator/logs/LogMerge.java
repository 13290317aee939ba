package io.pgtide.operator.logs;

import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.ContractException;
import io.pgtide.common.contract.LogLine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Many members' answers to the {@code logs} command as one stream: every line with its member, ordered by time
 * (then member, source and sequence, so equal times come out the same way every time), the newest {@code limit}.
 * A member that did not answer is named with its reason, never silently left out. Pure.
 */
public final class LogMerge {
  private LogMerge() {
  }

  /** A line and the member it came from. */
  public record MemberLine(String member, LogLine line) {
  }

  public static final Comparator<MemberLine> ORDER = Comparator.<MemberLine>comparingLong(l -> l.line().time())
      .thenComparing(MemberLine::member).thenComparing(l -> l.line().source())
      .thenComparingLong(l -> l.line().seq());

  /**
   * {@code lines}: the merged lines; {@code members}: per member its {@code sources} (source → ok or why not),
   * {@code dropped}, or {@code error} when it did not answer.
   */
  public static JsonObject merge(Map<String, CommandResult> answers, int limit) {
    List<MemberLine> all = new ArrayList<>();
    JsonObject members = new JsonObject();
    answers.forEach((member, r) -> {
      if (!r.ok()) {
        members.put(member, new JsonObject().put("error", r.errorCode() + ": " + r.errorMessage()));
        return;
      }
      JsonObject m = new JsonObject().put("sources", r.detail().getJsonObject("sources", new JsonObject()))
          .put("dropped", r.detail().getLong("dropped", 0L));
      int bad = 0;
      for (Object o : r.detail().getJsonArray("lines", new JsonArray())) {
        try {
          all.add(new MemberLine(member, ContractCodec.decodeLogLine((JsonObject) o)));
        } catch (ContractException | ClassCastException e) {
          bad++;
        }
      }
      if (bad > 0) {
        m.put("malformed", bad);
      }
      members.put(member, m);
    });
    all.sort(ORDER);
    List<MemberLine> newest = all.size() > limit ? all.subList(all.size() - limit, all.size()) : all;
    JsonArray lines = new JsonArray();
    newest.forEach(l -> lines.add(ContractCodec.encode(l.line()).put("member", l.member())));
    return new JsonObject().put("lines", lines).put("members", members);
  }

  /**
   * Whether a member's answer lacks Patroni's lines that the request asks for: its sidecar answered, and says it
   * cannot read Patroni's output (Spilo's goes to the container's output only).
   */
  public static boolean lacksPatroni(CommandResult answer, io.pgtide.common.contract.CommandPayload.Logs request) {
    return answer.ok() && (request.source() == null || LogLine.PATRONI.equals(request.source()))
        && !"ok".equals(answer.detail().getJsonObject("sources", new JsonObject()).getString(LogLine.PATRONI));
  }

  /** The answer with Patroni's lines read elsewhere ({@link PatroniOutput}) added, or why they could not be. */
  public static CommandResult withPatroni(CommandResult answer, List<LogLine> patroni, String problem) {
    JsonObject detail = answer.detail().copy();
    JsonObject sources = detail.getJsonObject("sources", new JsonObject()).copy();
    sources.put(LogLine.PATRONI, problem == null ? "ok" : problem);
    JsonArray lines = detail.getJsonArray("lines", new JsonArray()).copy();
    patroni.forEach(l -> lines.add(ContractCodec.encode(l)));
    return CommandResult.ok(answer.correlationId(), detail.put("sources", sources).put("lines", lines));
  }

  /**
   * The dashboard's view: per member its most recent errors (ERROR and above), newest first, with time, severity,
   * SQLSTATE, user and database — not the message, which may quote data or a statement and the dashboard is open to
   * whoever may read the cluster's state (in local mode, every local user).
   */
  public static JsonObject recentErrors(JsonObject merged, int perMember) {
    JsonObject out = new JsonObject();
    JsonArray lines = merged.getJsonArray("lines", new JsonArray());
    for (int i = lines.size() - 1; i >= 0; i--) {
      JsonObject l = lines.getJsonObject(i);
      JsonArray mine = out.getJsonArray(l.getString("member"));
      if (mine == null) {
        mine = new JsonArray();
        out.put(l.getString("member"), mine);
      }
      if (mine.size() < perMember) {
        JsonObject e = new JsonObject().put("time", l.getLong("time")).put("severity", l.getString("severity"))
            .put("source", l.getString("source"));
        for (String f : List.of("sqlstate", "user", "database")) {
          if (l.getString(f) != null) {
            e.put(f, l.getString(f));
          }
        }
        mine.add(e);
      }
    }
    merged.getJsonObject("members", new JsonObject()).fieldNames().forEach(m -> {
      if (!out.containsKey(m)) {
        out.put(m, new JsonArray());
      }
    });
    return out;
  }
}
