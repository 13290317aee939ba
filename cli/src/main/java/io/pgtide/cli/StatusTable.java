package io.pgtide.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;

/** Renders one cluster of {@code /api/clusters} as a table like {@code patronictl list}. Pure. */
public final class StatusTable {
  private StatusTable() {
  }

  public static String render(JsonObject cluster) {
    StringBuilder sb = new StringBuilder();
    sb.append("Cluster ").append(cluster.getString("cluster")).append("  primary: ")
        .append(cluster.getString("primary", "NONE")).append(cluster.getBoolean("splitView", false)
            ? "  !! SPLIT VIEW: more than one primary" : "").append('\n');
    String fmt = "%-14s %-8s %-9s %-3s %-12s %10s %8s %9s %7s%n";
    sb.append(String.format(Locale.ROOT, fmt, "Member", "Role", "State", "TL", "Lag(bytes)", "QPS", "Lat(ms)",
        "Conns", "CPU"));
    for (Object o : cluster.getJsonArray("members", new JsonArray())) {
      JsonObject m = (JsonObject) o;
      JsonObject r = m.getJsonObject("report", new JsonObject());
      JsonObject load = r.getJsonObject("load", new JsonObject());
      JsonObject conns = r.getJsonObject("connections", new JsonObject());
      JsonObject res = r.getJsonObject("resources", new JsonObject());
      String state = !m.getBoolean("connected", false) ? "gone" : m.getBoolean("stale", false) ? "stale"
          : r.getBoolean("healthy", false) ? "running" : "unhealthy";
      sb.append(String.format(Locale.ROOT, fmt, m.getString("member"), r.getString("role", "?").toLowerCase(Locale.ROOT),
          state, r.getValue("timeline", "-"), m.getValue("lagBytes", "-"),
          String.format(Locale.ROOT, "%.1f", load.getDouble("qps", 0.0)),
          load.getValue("meanLatencyMs") == null ? "-" : String.format(Locale.ROOT, "%.2f", load.getDouble("meanLatencyMs")),
          conns.getInteger("total", 0) + "/" + conns.getInteger("max", 0),
          res.getValue("cpuCores") == null ? "-" : String.format(Locale.ROOT, "%.2f", res.getDouble("cpuCores"))));
      if (!r.getBoolean("healthy", true) && r.getString("reason") != null) {
        sb.append("    reason: ").append(r.getString("reason")).append('\n');
      }
    }
    JsonObject f = cluster.getJsonObject("lastFailover");
    if (f != null) {
      sb.append("Last failover: ").append(f.getString("kind")).append(' ').append(f.getString("from")).append(" -> ")
          .append(f.getString("to")).append(" in ").append(f.getLong("durationMs")).append(" ms at ")
          .append(f.getString("completedAt")).append('\n');
    }
    JsonObject a = cluster.getJsonObject("autoscaling");
    if (a != null) {
      JsonObject scale = a.getJsonObject("lastScale");
      if (scale != null) {
        sb.append("Last scale: ").append(scale.getInteger("from")).append(" -> ").append(scale.getInteger("to"))
            .append(" at ").append(scale.getString("time")).append(" (").append(scale.getString("reason"))
            .append(")\n");
      }
      JsonObject d = a.getJsonObject("lastDecision");
      if (d != null) {
        sb.append("Autoscaler: ").append(d.getString("reason"))
            .append(d.getString("blockedBy") == null ? "" : "; held: " + d.getString("blockedBy")).append('\n');
      }
    }
    JsonObject b = cluster.getJsonObject("backup");
    if (b != null) {
      JsonObject last = b.getJsonObject("lastBackup");
      JsonObject archiving = b.getJsonObject("archiving");
      sb.append("Backups: ").append(b.getJsonArray("backups", new io.vertx.core.json.JsonArray()).size())
          .append(", recoverable from ").append(b.getString("firstRecoverablePoint", "-"))
          .append(last == null ? "" : ", last " + last.getString("time") + " (" + last.getLong("sizeBytes") / 1_048_576
              + " MiB)")
          .append(archiving == null ? "" : ", WAL " + (archiving.getBoolean("streaming") ? "streaming" : "NOT streaming")
              + " lag " + archiving.getValue("lagBytes") + " bytes")
          .append(b.getJsonObject("lastFailure") == null ? "" : "; last failure: "
              + b.getJsonObject("lastFailure").getString("reason"))
          .append('\n');
    }
    JsonObject u = cluster.getJsonObject("upgrade");
    if (u != null) {
      sb.append("Upgrade: ").append(u.getValue("from")).append(" -> ").append(u.getValue("to")).append(' ')
          .append(u.getString("phase")).append(" (step ").append(u.getString("step", "-")).append(')')
          .append(u.getValue("downtimeSeconds") == null ? "" : ", downtime " + u.getValue("downtimeSeconds") + " s")
          .append(u.getString("error") == null ? "" : ": " + u.getString("error")).append('\n');
    }
    return sb.toString();
  }
}
