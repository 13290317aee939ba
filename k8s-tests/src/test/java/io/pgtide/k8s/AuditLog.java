package io.pgtide.k8s;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The API server's audit log (JSON lines, one event per request stage, written by scripts/k8s/up.sh's policy at
 * Metadata level for ServiceAccounts): parsed into {@link Event}s, and the questions the least-privilege test asks
 * of them. Pure apart from {@link #read}.
 */
final class AuditLog {
  private AuditLog() {
  }

  /** One request as the audit log records it; {@code subresource}, {@code namespace} and {@code name} may be "". */
  record Event(String user, String verb, String group, String resource, String subresource, String namespace,
               String name, int code, String decision, Instant received) {
    /** "verb group/resource[/sub] namespace/name -> code". */
    String describe() {
      return verb + " " + (group.isEmpty() ? "" : group + "/") + resource + (subresource.isEmpty() ? "" : "/"
          + subresource) + " " + namespace + "/" + name + " by " + user + " -> " + code + " (" + decision + ")";
    }
  }

  /**
   * Events of the lines, one per request (its auditID): ResponseComplete, or ResponseStarted for a watch still
   * open. Lines that are not audit events (cut off by a crash) are skipped.
   */
  static List<Event> parse(Stream<String> lines) {
    Map<String, Event> byRequest = new LinkedHashMap<>();
    lines.forEach(line -> {
      if (line.isBlank()) {
        return;
      }
      JsonObject e;
      try {
        e = new JsonObject(line);
      } catch (DecodeException ex) {
        return; // a line cut off by rotation or a crash: not an event
      }
      String stage = e.getString("stage", "");
      if (!stage.equals("ResponseComplete") && !stage.equals("ResponseStarted")) {
        return;
      }
      JsonObject ref = e.getJsonObject("objectRef", new JsonObject());
      JsonObject annotations = e.getJsonObject("annotations", new JsonObject());
      String received = e.getString("requestReceivedTimestamp");
      Event event = new Event(e.getJsonObject("user", new JsonObject()).getString("username", ""),
          e.getString("verb", ""), ref.getString("apiGroup", ""), ref.getString("resource", ""),
          ref.getString("subresource", ""), ref.getString("namespace", ""), ref.getString("name", ""),
          e.getJsonObject("responseStatus", new JsonObject()).getInteger("code", 0),
          annotations.getString("authorization.k8s.io/decision", ""),
          received == null ? Instant.EPOCH : Instant.parse(received));
      String id = e.getString("auditID", line);
      if (stage.equals("ResponseComplete") || !byRequest.containsKey(id)) {
        byRequest.put(id, event);
      }
    });
    return new ArrayList<>(byRequest.values());
  }

  /** Every event in {@code logs}: the live {@code audit.log} and the backups rotation left ({@code audit-*.log}). */
  static List<Event> read(Path logs) {
    return read(logs, line -> true);
  }

  /**
   * The events of the lines {@code keep} accepts (a cheap text test before the JSON is parsed: the log holds every
   * ServiceAccount's requests, hundreds of MB on a long run).
   */
  static List<Event> read(Path logs, Predicate<String> keep) {
    try (Stream<Path> files = Files.list(logs)) {
      List<Path> audit = files.filter(f -> f.getFileName().toString().matches("audit(-.*)?\\.log"))
          .sorted(Comparator.comparing(Path::toString)).toList();
      List<Event> events = new ArrayList<>();
      for (Path f : audit) {
        try (Stream<String> lines = Files.lines(f, StandardCharsets.UTF_8)) {
          events.addAll(parse(lines.filter(keep)));
        }
      }
      return events;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A line of a request by a ServiceAccount whose name ends with one of {@code suffixes} (text only). */
  static Predicate<String> linesOf(String... suffixes) {
    return line -> {
      int at = line.indexOf("\"username\":\"system:serviceaccount:");
      if (at < 0) {
        return false;
      }
      int end = line.indexOf('"', at + "\"username\":\"".length());
      String user = end < 0 ? "" : line.substring(at + "\"username\":\"".length(), end);
      for (String suffix : suffixes) {
        if (user.endsWith(suffix)) {
          return true;
        }
      }
      return false;
    };
  }

  /** {@code system:serviceaccount:<namespace>:<name>} of any namespace whose name {@code names} accepts. */
  static Predicate<String> serviceAccounts(Predicate<String> names) {
    return user -> {
      String[] p = user.split(":");
      return p.length == 4 && p[0].equals("system") && p[1].equals("serviceaccount") && names.test(p[3]);
    };
  }

  /** The requests of {@code who} from {@code since} on that were answered 403 Forbidden. */
  static List<Event> forbidden(List<Event> events, Predicate<String> who, Instant since) {
    return events.stream().filter(e -> who.test(e.user()) && e.code() == 403 && !e.received().isBefore(since))
        .toList();
  }

  /**
   * The verbs {@code who} was allowed to use on {@code group}'s {@code resource} (no subresource): authorized, even
   * if the request then failed (a create of an existing object still exercised the grant).
   */
  static Set<String> verbsUsed(List<Event> events, Predicate<String> who, String group, String resource) {
    Set<String> verbs = new TreeSet<>();
    events.stream().filter(e -> who.test(e.user()) && e.group().equals(group) && e.resource().equals(resource)
        && e.subresource().isEmpty() && "allow".equals(e.decision())).forEach(e -> verbs.add(e.verb()));
    return verbs;
  }
}
