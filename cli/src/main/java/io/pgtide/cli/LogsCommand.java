package io.pgtide.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgtide logs}: the members' PostgreSQL (csvlog) and Patroni lines, as their sidecars hold them, merged by
 * the operator into one time-ordered stream with member names. Local mode by {@code --dir}, Kubernetes by
 * {@code [-n NS] CLUSTER} (a port-forward to the leading operator's control API with the kubeconfig's token) or
 * {@code --url} with a token.
 */
@Command(name = "logs", mixinStandardHelpOptions = true, description = "PostgreSQL and Patroni log lines of every member (or one), merged in time "
    + "order with member names; -f follows.")
final class LogsCommand implements Callable<Integer> {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  @Option(names = "--dir", description = "the directory `local up` used (local mode)")
  Path dir;
  @Option(names = "--url", description = "Kubernetes: the operator's control API, e.g. http://127.0.0.1:8081")
  String url;
  @Option(names = "--token-file", description = "with --url: a file holding the bearer token (default: PGTIDE_TOKEN)")
  Path tokenFile;
  @Option(names = "--cluster", description = "with --url: namespace/name of the PostgresCluster")
  String cluster;
  @Option(names = {"-n", "--namespace"}, description = "with CLUSTER: its namespace (default: the kubeconfig's)")
  String namespace;
  @Parameters(arity = "0..2", paramLabel = "CLUSTER|MEMBER", description = "local mode and --url: [MEMBER]; "
      + "Kubernetes through the kubeconfig: CLUSTER [MEMBER]")
  List<String> names = new ArrayList<>();
  @Option(names = "--postgres", description = "PostgreSQL's lines only")
  boolean postgres;
  @Option(names = "--patroni", description = "Patroni's lines only")
  boolean patroni;
  @Option(names = "--since", description = "only lines newer than this: 30s, 10m, 2h, 1d, or an RFC 3339 time")
  String since;
  @Option(names = "--severity", description = "this severity and above: LOG/INFO, NOTICE, WARNING, ERROR, FATAL, PANIC")
  String severity;
  @Option(names = "--limit", defaultValue = "1000", description = "at most this many lines, the newest (default 1000)")
  int limit;
  @Option(names = {"-f", "--follow"}, description = "keep printing new lines until interrupted")
  boolean follow;
  @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text (default) or json (one object a line)")
  String output;

  @Override
  public Integer call() throws Exception {
    if (postgres && patroni) {
      System.err.println("pgtide: --postgres and --patroni exclude each other (neither: both)");
      return PgtideCli.USAGE;
    }
    if (!List.of("text", "json").contains(output)) {
      System.err.println("pgtide: -o must be text or json, got " + output);
      return PgtideCli.USAGE;
    }
    long sinceMs;
    try {
      sinceMs = since == null ? 0 : sinceMillis(since, System.currentTimeMillis());
    } catch (IllegalArgumentException e) {
      System.err.println("pgtide: " + e.getMessage());
      return PgtideCli.USAGE;
    }
    String member;
    KubeCli.Forward forward = null;
    JsonObject state;
    try {
      if (dir == null && url == null) {
        if (names.isEmpty()) {
          System.err.println("pgtide: give --dir (local mode), CLUSTER (Kubernetes) or --url (control API)");
          return PgtideCli.USAGE;
        }
        forward = new KubeCli(namespace, names.get(0)).operatorApi();
        if (forward == null) {
          return PgtideCli.FAILED;
        }
        state = forward.state();
        member = names.size() > 1 ? names.get(1) : null;
      } else {
        if (names.size() > 1 || namespace != null || (dir != null && url != null)) {
          System.err.println("pgtide: with --dir or --url give at most a MEMBER (and no -n)");
          return PgtideCli.USAGE;
        }
        CommandTarget target = new CommandTarget();
        target.dir = dir;
        target.url = url;
        target.tokenFile = tokenFile;
        target.cluster = cluster;
        state = target.state();
        if (state == null) {
          return PgtideCli.NOT_RUNNING;
        }
        member = names.isEmpty() ? null : names.get(0);
      }
      return run(state, member, sinceMs);
    } finally {
      if (forward != null) {
        forward.close();
      }
    }
  }

  private int run(JsonObject state, String member, long sinceMs) throws Exception {
    String base = CommandTarget.clusterPath(state) + "/logs?limit=" + limit
        + (member == null ? "" : "&member=" + enc(member))
        + (postgres ? "&source=postgres" : patroni ? "&source=patroni" : "")
        + (severity == null ? "" : "&severity=" + enc(severity));
    Set<String> seen = new HashSet<>();
    Set<String> warned = new HashSet<>();
    long from = sinceMs;
    while (true) {
      JsonObject answer;
      try {
        answer = LocalState.get(state, base + "&since=" + from);
      } catch (IllegalStateException e) {
        System.err.println("pgtide: " + e.getMessage());
        if (!follow) {
          return PgtideCli.FAILED;
        }
        Thread.sleep(1000);
        continue;
      }
      warn(answer.getJsonObject("members", new JsonObject()), warned, System.err);
      Set<String> now = new HashSet<>();
      long newest = from;
      for (Object o : answer.getJsonArray("lines", new JsonArray())) {
        JsonObject l = (JsonObject) o;
        String key = l.getString("member") + "|" + l.getString("source") + "|" + l.getLong("seq") + "|"
            + l.getLong("time");
        now.add(key);
        newest = Math.max(newest, l.getLong("time"));
        if (seen.add(key)) {
          System.out.println(output.equals("json") ? l.encode() : text(l));
        }
      }
      if (!follow) {
        return 0;
      }
      System.out.flush();
      // the next round asks from the newest time seen (inclusive: lines of the same millisecond may still come);
      // what was printed is remembered only as long as it can come again
      from = newest;
      seen.retainAll(now);
      Thread.sleep(1000);
    }
  }

  /** Says once per member and reason what could not be read (a member down, a source not configured). */
  static void warn(JsonObject members, Set<String> warned, PrintStream err) {
    members.forEach(e -> {
      JsonObject m = (JsonObject) e.getValue();
      List<String> problems = new ArrayList<>();
      if (m.getString("error") != null) {
        problems.add(m.getString("error"));
      }
      m.getJsonObject("sources", new JsonObject()).forEach(s -> {
        if (!"ok".equals(s.getValue())) {
          problems.add(s.getKey() + ": " + s.getValue());
        }
      });
      problems.forEach(p -> {
        if (warned.add(e.getKey() + p)) {
          err.println("pgtide: " + e.getKey() + ": " + p);
        }
      });
    });
  }

  /** {@code 2024-05-01T12:00:00.123Z c-0 postgres ERROR 42P01 app@shop: message}, then the detail indented. */
  static String text(JsonObject l) {
    StringBuilder sb = new StringBuilder();
    sb.append(Instant.ofEpochMilli(l.getLong("time"))).append(' ').append(l.getString("member")).append(' ')
        .append(l.getString("source")).append(' ').append(l.getString("severity", "-"));
    if (l.getString("sqlstate") != null) {
      sb.append(' ').append(l.getString("sqlstate"));
    }
    if (l.getString("user") != null || l.getString("database") != null) {
      sb.append(' ').append(l.getString("user", "")).append('@').append(l.getString("database", ""));
    }
    sb.append(": ").append(l.getString("message", ""));
    if (l.getString("detail") != null) {
      sb.append("\n    DETAIL: ").append(l.getString("detail").replace("\n", "\n    "));
    }
    return sb.toString();
  }

  /** {@code 10m} before {@code now}, or an RFC 3339 time, as epoch milliseconds. */
  static long sinceMillis(String text, long now) {
    Matcher m = DURATION.matcher(text.strip());
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      long unit = switch (m.group(2)) {
        case "ms" -> 1;
        case "s" -> 1_000;
        case "m" -> 60_000;
        case "h" -> 3_600_000;
        default -> 86_400_000;
      };
      return now - n * unit;
    }
    try {
      return java.time.OffsetDateTime.parse(text.strip()).toInstant().toEpochMilli();
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException("--since must be like 30s, 10m, 2h, 1d or an RFC 3339 time, got " + text);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
