package io.pgtide.cli;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.cli.local.LocalRunner;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgtide}: local mode, status, switchover, user sync, and the sidecar. Exit codes: 0 success, 1 the operation
 * failed, 2 bad usage or input, 3 no local cluster is running.
 */
@Command(name = "pgtide", mixinStandardHelpOptions = true, version = "pgtide 0.1.0",
    subcommands = {PgtideCli.Local.class, PgtideCli.Status.class, PgtideCli.Switchover.class, PgtideCli.Users.class,
        PgtideCli.Psql.class,
        PgtideCli.Backup.class, PgtideCli.Restore.class,
        PgtideCli.Render.class, PgtideCli.Validate.class, SealCheck.class, PgtideCli.Sidecar.class, io.pgtide.operator.k8s.OperatorMain.class,
        io.pgtide.cli.backup.BackupAgent.class, io.pgtide.cli.backup.BackupRestore.class},
    description = "PostgreSQL on Kubernetes with an event-driven sidecar; local mode runs it all on this machine.")
public final class PgtideCli implements Callable<Integer> {
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int NOT_RUNNING = 3;

  public static void main(String[] args) {
    System.exit(new CommandLine(new PgtideCli()).setExitCodeExceptionMapper(e -> USAGE).execute(args));
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return 0;
  }

  @Command(name = "local", description = "Run a PostgresCluster as local processes.",
      subcommands = {Local.Up.class, Local.Apply.class, Local.Down.class, Local.Restore.class, Status.class})
  static final class Local {
    @Command(name = "up", description = "Start etcd, Patroni + PostgreSQL, sidecars and the operator; runs until "
        + "Ctrl-C (or --for seconds).")
    static final class Up implements Callable<Integer> {
      @Option(names = {"-f", "--file"}, required = true, description = "PostgresCluster YAML (the one you'd kubectl apply)")
      Path file;
      @Option(names = "--dir", description = "state and logs directory (default ./.pgtide/<cluster>)")
      Path dir;
      @Option(names = "--http-port", defaultValue = "0", description = "operator API and dashboard port (default: free)")
      int httpPort;
      @Option(names = "--metrics-port", defaultValue = "0", description = "operator metrics and health port (default: free)")
      int metricsPort;
      @Option(names = "--primary-port", defaultValue = "0", description = "primary endpoint port (default: free)")
      int primaryPort;
      @Option(names = "--replicas-port", defaultValue = "0", description = "replicas endpoint port (default: free)")
      int replicasPort;
      @Option(names = "--for", defaultValue = "0", description = "stop after this many seconds (0: until Ctrl-C)")
      long seconds;
      @Option(names = "--no-watch", description = "do not apply edits of the file while running (see `local apply`)")
      boolean noWatch;

      @Override
      public Integer call() throws Exception {
        PostgresCluster resource;
        try {
          resource = io.pgtide.operator.ClusterFile.load(file, true);
        } catch (RuntimeException e) {
          System.err.println("pgtide: " + e.getMessage());
          return e instanceof io.pgtide.operator.ClusterFile.Invalid ? USAGE : FAILED;
        }
        Path where = dir != null ? dir : Path.of(".pgtide", resource.getMetadata().getName());
        if (State.read(where) != null) {
          System.err.println("pgtide: a local cluster already runs from " + where + " (see `pgtide local down`)");
          return FAILED;
        }
        // the operator's own log next to its children's, rotated at 10 MiB (3 kept)
        new io.pgtide.cli.local.RotatingLog(where.resolve("logs/operator.log"), 10L << 20, 3).captureConsole();
        // this process owns what it starts: the machine lives until the JVM exits (its hook stops the children)
        LocalRunner runner = new LocalRunner(io.pgtide.local.process.LocalMachine.open(), resource, where,
            msg -> System.out.println("  … " + msg));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          stop.countDown();
          runner.close();
        }));
        try {
          runner.up(httpPort, primaryPort, replicasPort, metricsPort);
        } catch (RuntimeException e) {
          System.err.println("pgtide: local up failed: " + e.getMessage());
          System.err.println("logs: " + runner.dir().resolve("logs"));
          runner.close();
          // e.g. a restore target outside the source's recoverable range: bad input, nothing was started
          return e instanceof io.pgtide.operator.ClusterFile.Invalid ? USAGE : FAILED;
        }
        if (!noWatch) {
          new io.pgtide.cli.local.SpecFileWatch(runner.core().vertx(), file, edited -> runner.apply(edited)
              .onSuccess(r -> System.out.println("  … applied: " + r.encode()))
              .onFailure(e -> System.err.println("pgtide: the edit was not applied: " + e.getMessage())),
              msg -> System.out.println("  … " + msg)).start(2_000);
        }
        System.out.println();
        System.out.println("pgtide local cluster " + resource.getMetadata().getName() + " is up");
        System.out.println("  primary endpoint : psql -h 127.0.0.1 -p " + runner.primaryPort() + " -U postgres");
        System.out.println("  replicas endpoint: psql -h 127.0.0.1 -p " + runner.replicasPort() + " -U postgres");
        System.out.println("  dashboard        : http://127.0.0.1:" + runner.httpPort() + "/");
        System.out.println("  operator API     : http://127.0.0.1:" + runner.httpPort() + "/api/clusters");
        System.out.println("  metrics          : http://127.0.0.1:" + runner.metricsPort() + "/metrics");
        System.out.println("  superuser password: " + runner.dir().resolve("secrets/superuser.password"));
        System.out.println("  status           : java -jar operator/target/pgtide.jar status --dir " + runner.dir());
        System.out.println("  logs             : " + runner.dir().resolve("logs"));
        System.out.println("  edits of " + file + (noWatch ? " : `pgtide local apply`" : " : applied when saved"));
        if (seconds > 0) {
          stop.await(seconds, TimeUnit.SECONDS);
          runner.close();
        } else {
          stop.await();
        }
        return 0;
      }
    }

    @Command(name = "restore", description = "Create a new local cluster from another one's backups, restored to a "
        + "point in time (or the latest), and run it like `local up`. The source is only read.")
    static final class Restore implements Callable<Integer> {
      @Option(names = "--from", required = true, description = "the directory the source cluster runs (or ran) from")
      Path from;
      @Option(names = "--to", required = true, description = "RFC 3339 time (e.g. 2026-11-29T10:15:00Z) or 'latest'")
      String to;
      @Option(names = "--new-cluster", required = true, description = "name of the new cluster")
      String name;
      @Option(names = {"-f", "--file"}, description = "the new cluster's PostgresCluster file (default: 1 member)")
      Path file;
      @Option(names = "--dir", description = "the new cluster's directory (default ./.pgtide/<new-cluster>)")
      Path dir;
      @Option(names = "--for", defaultValue = "0", description = "stop after this many seconds (0: until Ctrl-C)")
      long seconds;

      @Override
      public Integer call() throws Exception {
        PostgresCluster resource;
        String source;
        try {
          resource = file != null ? io.pgtide.operator.ClusterFile.load(file, true)
              : io.pgtide.operator.ClusterFile.parse("apiVersion: pgtide.io/v1\nkind: PostgresCluster\n"
              + "metadata: {name: " + name + "}\nspec: {postgresVersion: 15, replicas: 1}\n", "the default spec");
          source = new JsonObject(java.nio.file.Files.readString(from.resolve("cluster.json"))).getString("scope");
        } catch (java.io.IOException e) {
          System.err.println("pgtide: no local cluster state in " + from + " (cluster.json)");
          return USAGE;
        } catch (RuntimeException e) {
          System.err.println("pgtide: " + e.getMessage());
          return USAGE;
        }
        resource.getMetadata().setName(name);
        var recovery = new io.pgtide.common.crd.PostgresClusterSpec.RecoverySpec();
        recovery.source = source;
        recovery.repository = from.toAbsolutePath().toString();
        recovery.targetTime = "latest".equals(to) ? null : to;
        resource.getSpec().bootstrap = new io.pgtide.common.crd.PostgresClusterSpec.BootstrapSpec();
        resource.getSpec().bootstrap.recovery = recovery;
        Path where = dir != null ? dir : Path.of(".pgtide", name);
        java.nio.file.Files.createDirectories(where);
        // the new cluster's own file, as `local up` would take it: later runs and edits use it
        Path written = where.resolve(name + ".yaml");
        java.nio.file.Files.writeString(written, io.fabric8.kubernetes.client.utils.Serialization.asYaml(resource));
        Up up = new Up();
        up.file = written;
        up.dir = where;
        up.seconds = seconds;
        return up.call();
      }
    }

    @Command(name = "apply", description = "Apply an edited PostgresCluster file to the running local cluster, as "
        + "Kubernetes applies a changed resource: users, databases, parameters, Patroni timing, replicas, "
        + "autoscaling. An invalid edit is refused (exit 2) and the cluster stays as it was.")
    static final class Apply implements Callable<Integer> {
      @Option(names = {"-f", "--file"}, required = true)
      Path file;
      @Option(names = "--dir", required = true, description = "the directory `local up` used")
      Path dir;

      @Override
      public Integer call() throws Exception {
        String text;
        try {
          io.pgtide.operator.ClusterFile.load(file, true);
          text = Files.readString(file);
        } catch (RuntimeException e) {
          System.err.println("pgtide: " + e.getMessage());
          return e instanceof io.pgtide.operator.ClusterFile.Invalid ? USAGE : FAILED;
        }
        JsonObject state = State.running(dir);
        if (state == null) {
          return NOT_RUNNING;
        }
        HttpResponse<String> r = State.post(state, "/api/clusters/" + state.getString("namespace") + "/"
            + state.getString("cluster") + "/apply", text);
        if (r.statusCode() == 200) {
          System.out.println(new JsonObject(r.body()).encodePrettily());
          return 0;
        }
        System.err.println("pgtide: " + r.body());
        return r.statusCode() == 400 ? USAGE : FAILED;
      }
    }

    @Command(name = "down", description = "Stop a local cluster (by the PID it recorded).")
    static final class Down implements Callable<Integer> {
      @Option(names = "--dir", required = true, description = "the directory `local up` used")
      Path dir;
      @Option(names = "--delete-data", description = "also delete the directory")
      boolean delete;

      @Override
      public Integer call() throws Exception {
        JsonObject state = State.read(dir);
        if (state == null) {
          // no live operator: after a crash its processes may still run; they are stopped by what they run
          var left = io.pgtide.cli.local.Leftovers.stop(dir);
          boolean crashed = Files.deleteIfExists(dir.resolve("operator.json"));
          if (left.isEmpty() && crashed) {
            // its children got their parent-death signal and stopped with it
            System.out.println("the operator of " + dir + " had stopped without `local down`; nothing it ran is left");
            return 0;
          }
          if (left.isEmpty()) {
            System.err.println("pgtide: no local cluster runs from " + dir);
            return NOT_RUNNING;
          }
          System.out.println("the operator of " + dir + " was gone; stopped what it left: "
              + left.stream().map(l -> l.kind() + " " + l.pid()).toList());
          if (delete) {
            io.pgtide.local.process.OsUser.deleteTree(dir);
          }
          return 0;
        }
        long pid = state.getLong("pid");
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
        if (delete) {
          io.pgtide.local.process.OsUser.deleteTree(dir);
        }
        System.out.println("stopped local cluster " + state.getString("cluster"));
        return 0;
      }
    }
  }

  @Command(name = "status", description = "Members, roles, lag, QPS and the last failover (like patronictl list).")
  static final class Status implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    Target target;
    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table (default), json or yaml")
    String output;

    @Override
    public Integer call() throws Exception {
      if (!java.util.List.of("table", "json", "yaml").contains(output)) {
        System.err.println("pgtide: -o must be table, json or yaml, got " + output);
        return USAGE;
      }
      try (KubeCli kube = target.kube()) {
        if (kube != null) {
          return kube.status(output);
        }
      }
      JsonObject state = target.state();
      if (state == null) {
        return NOT_RUNNING;
      }
      JsonObject api = State.get(state, "/api/clusters");
      if (!output.equals("table")) {
        System.out.print(output.equals("json") ? api.encodePrettily() + "\n"
            : io.fabric8.kubernetes.client.utils.Serialization.asYaml(api.getMap()));
        return 0;
      }
      for (Object o : api.getJsonArray("clusters", new JsonArray())) {
        System.out.print(StatusTable.render((JsonObject) o));
      }
      return 0;
    }
  }

  @Command(name = "switchover", description = "Planned switchover to a named member or the best candidate.")
  static final class Switchover implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    Target target;
    @Option(names = "--to", description = "candidate member (default: the best)")
    String to;

    @Override
    public Integer call() throws Exception {
      try (KubeCli kube = target.kube()) {
        if (kube != null) {
          return kube.request("switchover", to, false, java.time.Duration.ofSeconds(120));
        }
      }
      JsonObject state = target.state();
      if (state == null) {
        return NOT_RUNNING;
      }
      HttpResponse<String> r = State.post(state, Target.clusterPath(state) + "/switchover"
          + (to == null ? "" : "?to=" + to));
      System.out.println(r.body());
      return r.statusCode() == 200 ? 0 : FAILED;
    }
  }

  @Command(name = "restore", description = "Kubernetes: create a new PostgresCluster from SOURCE's backups, restored to "
      + "a point in time (or the latest); the source is only read. (Local mode: `local restore`.)")
  static final class Restore implements Callable<Integer> {
    @Option(names = {"-n", "--namespace"}, description = "the source's namespace (default: the kubeconfig context's)")
    String namespace;
    @picocli.CommandLine.Parameters(paramLabel = "SOURCE", description = "the PostgresCluster whose backups to restore")
    String source;
    @Option(names = "--to", required = true, description = "RFC 3339 time (e.g. 2026-11-29T10:15:00Z) or 'latest'")
    String to;
    @Option(names = "--new-cluster", required = true, description = "name of the new PostgresCluster")
    String name;

    @Override
    public Integer call() {
      try (KubeCli kube = new KubeCli(namespace, source)) {
        return kube.restore(name, "latest".equals(to) ? null : to);
      }
    }
  }

  @Command(name = "backup", description = "Backups of a cluster that declares spec.backup (local mode, or Kubernetes).",
      subcommands = {Backup.List.class, Backup.Now.class, Backup.Verify.class})
  static final class Backup {
    @Command(name = "list", description = "Base backups, the recoverable range and the WAL archiving lag.")
    static final class List implements Callable<Integer> {
      @picocli.CommandLine.Mixin
      Target target;

      @Override
      public Integer call() throws Exception {
        try (KubeCli kube = target.kube()) {
          if (kube != null) {
            return kube.backupStatus();
          }
        }
        JsonObject state = target.state();
        if (state == null) {
          return NOT_RUNNING;
        }
        for (Object o : State.get(state, "/api/clusters").getJsonArray("clusters", new JsonArray())) {
          JsonObject backup = ((JsonObject) o).getJsonObject("backup");
          if (backup == null) {
            System.err.println("cluster " + state.getString("cluster") + " declares no spec.backup");
            return FAILED;
          }
          System.out.println(backup.encodePrettily());
        }
        return 0;
      }
    }

    @Command(name = "verify", description = "Restore the newest backup into a scratch instance, check it, delete it "
        + "(exit 1 when the check fails).")
    static final class Verify implements Callable<Integer> {
      @picocli.CommandLine.Mixin
      Target target;

      @Override
      public Integer call() throws Exception {
        try (KubeCli kube = target.kube()) {
          if (kube != null) {
            return kube.request("backup-verify", null, false, java.time.Duration.ofMinutes(60));
          }
        }
        return State.postToCluster(target, "/backups/verify");
      }
    }

    @Command(name = "now", description = "Take a base backup now (waits until it is in the repository).")
    static final class Now implements Callable<Integer> {
      @picocli.CommandLine.Mixin
      Target target;

      @Override
      public Integer call() throws Exception {
        try (KubeCli kube = target.kube()) {
          if (kube != null) {
            return kube.request("backup", null, false, java.time.Duration.ofMinutes(60));
          }
        }
        return State.postToCluster(target, "/backups");
      }
    }
  }

  @Command(name = "users", description = "Declared users.", subcommands = Users.Sync.class)
  static final class Users {
    @Command(name = "sync", description = "Sync declared users now (--dry-run: print the diff only).")
    static final class Sync implements Callable<Integer> {
      @picocli.CommandLine.Mixin
      Target target;
      @Option(names = "--dry-run")
      boolean dryRun;

      @Override
      public Integer call() throws Exception {
        try (KubeCli kube = target.kube()) {
          if (kube != null) {
            return kube.request("users-sync", null, dryRun, java.time.Duration.ofSeconds(120));
          }
        }
        JsonObject state = target.state();
        if (state == null) {
          return NOT_RUNNING;
        }
        HttpResponse<String> r = State.post(state, Target.clusterPath(state) + "/users/sync"
            + (dryRun ? "?dryRun=true" : ""));
        System.out.println(new JsonObject(r.body()).encodePrettily());
        return r.statusCode() == 200 ? 0 : FAILED;
      }
    }
  }

  @Command(name = "psql", description = "Kubernetes: psql to the primary as the superuser (the Secret read and a "
      + "port-forward to the primary pod with your kubeconfig credentials); arguments after -- go to psql.")
  static final class Psql implements Callable<Integer> {
    @Option(names = {"-n", "--namespace"}, description = "the cluster's namespace (default: the kubeconfig context's)")
    String namespace;
    @picocli.CommandLine.Parameters(index = "0", paramLabel = "CLUSTER")
    String cluster;
    @picocli.CommandLine.Parameters(index = "1..*", paramLabel = "PSQL_ARG")
    java.util.List<String> psqlArgs = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
      try (KubeCli kube = new KubeCli(namespace, cluster)) {
        return kube.psql(psqlArgs);
      }
    }
  }

  @Command(name = "validate", description = "Check a PostgresCluster file with the rules every path applies "
      + "(exit 0 when valid, 2 with the field, the value and the rule when not).")
  static final class Validate implements Callable<Integer> {
    @Option(names = {"-f", "--file"}, required = true)
    Path file;
    @Option(names = "--local", description = "also apply local mode's bounds")
    boolean local;

    @Override
    public Integer call() {
      try {
        PostgresCluster cr = io.pgtide.operator.ClusterFile.load(file, local);
        System.out.println(file + ": valid PostgresCluster " + cr.getMetadata().getName());
        return 0;
      } catch (RuntimeException e) {
        System.err.println("pgtide: " + e.getMessage());
        return e instanceof io.pgtide.operator.ClusterFile.Invalid ? USAGE : FAILED;
      }
    }
  }

  @Command(name = "render", description = "Print every Kubernetes object the operator would create for a "
      + "PostgresCluster file, as YAML (Secrets without their generated data).")
  static final class Render implements Callable<Integer> {
    @Option(names = {"-f", "--file"}, required = true)
    Path file;

    @Override
    public Integer call() {
      PostgresCluster resource;
      try {
        resource = io.pgtide.operator.ClusterFile.load(file, false);
      } catch (RuntimeException e) {
        System.err.println("pgtide: " + e.getMessage());
        return e instanceof io.pgtide.operator.ClusterFile.Invalid ? USAGE : FAILED;
      }
      if (resource.getMetadata().getNamespace() == null) {
        resource.getMetadata().setNamespace("default");
      }
      System.out.print(io.pgtide.operator.k8s.Render.yaml(resource,
          io.pgtide.operator.k8s.OperatorConfig.fromEnv(System.getenv())));
      return 0;
    }
  }

  @Command(name = "sidecar", description = "Run the sidecar (configured by PGTIDE_* environment variables).")
  static final class Sidecar implements Callable<Integer> {
    @Override
    public Integer call() {
      io.pgtide.sidecar.SidecarMain.main(new String[0]);
      return 0;
    }
  }

  /** The running local operator's coordinates ({@code operator.json}) and its API. */
  static final class State {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static JsonObject read(Path dir) throws java.io.IOException {
      Path file = dir.resolve("operator.json");
      if (!Files.exists(file)) {
        return null;
      }
      JsonObject state = new JsonObject(Files.readString(file));
      state.put("base", "http://127.0.0.1:" + state.getInteger("httpPort"));
      // actions need the control API's token; whoever cannot read it may still read status
      Path token = dir.resolve("secrets").resolve(io.pgtide.cli.local.LocalControlAuthorizer.TOKEN_FILE);
      if (Files.isReadable(token)) {
        state.put("token", Files.readString(token).strip());
      }
      return ProcessHandle.of(state.getLong("pid")).map(ProcessHandle::isAlive).orElse(false) ? state : null;
    }

    /** The running cluster's coordinates, or null after saying on stderr that none runs from {@code dir}. */
    static JsonObject running(Path dir) throws java.io.IOException {
      JsonObject state = read(dir);
      if (state == null) {
        System.err.println("pgtide: no local cluster runs from " + dir + " (start one with `pgtide local up`)");
      }
      return state;
    }

    /** POSTs to {@code /api/clusters/<ns>/<name><suffix>} of the target's cluster; prints the JSON. */
    static int postToCluster(Target target, String suffix) throws Exception {
      JsonObject state = target.state();
      if (state == null) {
        return NOT_RUNNING;
      }
      HttpResponse<String> r = post(state, Target.clusterPath(state) + suffix);
      System.out.println(new JsonObject(r.body()).encodePrettily());
      return r.statusCode() == 200 ? 0 : FAILED;
    }

    private static HttpRequest.Builder request(JsonObject state, String path) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(state.getString("base") + path));
      if (state.getString("token") != null) {
        b.header("Authorization", "Bearer " + state.getString("token"));
      }
      return b;
    }

    /** GET of a JSON object; fails with the operator's error (e.g. a refused token) when it answers otherwise. */
    static JsonObject get(JsonObject state, String path) throws Exception {
      HttpResponse<String> r = HTTP.send(request(state, path).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("the operator answered " + r.statusCode() + ": " + r.body());
      }
      return new JsonObject(r.body());
    }

    static HttpResponse<String> post(JsonObject state, String path) throws Exception {
      return HTTP.send(request(state, path).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(JsonObject state, String path, String body) throws Exception {
      return HTTP.send(request(state, path).header("Content-Type", "application/yaml")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  /**
   * Which operator a command talks to: a local cluster by its directory, or on Kubernetes the control API (reached
   * with {@code kubectl -n pgtide-system port-forward svc/pgtide-operator 8081}) with a bearer token the API server
   * accepts, read from a file or {@code PGTIDE_TOKEN} (never from the command line, where {@code ps} shows it).
   */
  static final class Target {
    @Option(names = "--dir", description = "the directory `local up` used (local mode)")
    Path dir;
    @Option(names = "--url", description = "Kubernetes: the operator's control API, e.g. http://127.0.0.1:8081")
    String url;
    @Option(names = "--token-file", description = "Kubernetes: a file holding the bearer token "
        + "(e.g. from `kubectl create token`); default: the PGTIDE_TOKEN variable")
    Path tokenFile;
    @Option(names = "--cluster", description = "Kubernetes: namespace/name of the PostgresCluster")
    String cluster;
    @Option(names = {"-n", "--namespace"}, description = "Kubernetes, with CLUSTER: its namespace (default: the "
        + "kubeconfig context's)")
    String namespace;
    @picocli.CommandLine.Parameters(arity = "0..1", paramLabel = "CLUSTER", description = "Kubernetes: the "
        + "PostgresCluster, through the Kubernetes API with the current kubeconfig and your own credentials (as kubectl)")
    String clusterName;

    /** The Kubernetes API client of {@code [-n NS] CLUSTER}, or null when another target was given. */
    KubeCli kube() {
      if (clusterName == null) {
        if (namespace != null) {
          throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
              "-n names the namespace of a CLUSTER: give the cluster's name too");
        }
        return null;
      }
      if (dir != null || url != null) {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
            "give CLUSTER (Kubernetes API), --dir (local mode) or --url (control API), one of them");
      }
      return new KubeCli(namespace, clusterName);
    }

    /** {@code /api/clusters/<namespace>/<name>} of the one cluster a command acts on. */
    static String clusterPath(JsonObject state) {
      if (state.getString("cluster") == null) {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(new Target()),
            "this command acts on one cluster: give --cluster namespace/name");
      }
      return "/api/clusters/" + state.getString("namespace") + "/" + state.getString("cluster");
    }

    /** The coordinates, or null after saying on stderr why there are none. */
    JsonObject state() throws java.io.IOException {
      if (clusterName != null || namespace != null) {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
            "this command takes --dir (local mode) or --url (control API), not a CLUSTER name");
      }
      if ((dir == null) == (url == null)) {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
            "give --dir (local mode) or --url (Kubernetes), one of them");
      }
      if (dir != null) {
        return State.running(dir);
      }
      String token = tokenFile != null ? Files.readString(tokenFile).strip() : System.getenv("PGTIDE_TOKEN");
      JsonObject state = new JsonObject().put("base", url.replaceAll("/+$", "")).put("token", token);
      if (cluster != null) {
        int slash = cluster.indexOf('/');
        if (slash <= 0 || slash == cluster.length() - 1) {
          throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
              "--cluster must be namespace/name, got " + cluster);
        }
        state.put("namespace", cluster.substring(0, slash)).put("cluster", cluster.substring(slash + 1));
      }
      return state;
    }
  }
}
