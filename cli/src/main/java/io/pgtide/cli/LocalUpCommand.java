package io.pgtide.cli;

import io.pgtide.cli.local.LocalRunner;
import io.pgtide.cli.local.RotatingLog;
import io.pgtide.cli.local.SpecFileWatch;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.local.process.LocalMachine;
import io.pgtide.operator.ClusterFile;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgtide local up}: runs a cluster as local processes until Ctrl-C or {@code --for} seconds. */
@Command(name = "up", mixinStandardHelpOptions = true, description = "Start etcd, Patroni + PostgreSQL, sidecars and "
    + "the operator; runs until Ctrl-C (or --for seconds).")
final class LocalUpCommand implements Callable<Integer> {
  /** The jar {@code mvn package} builds (module {@code cli}), which the README tells users to run. */
  static final String BUILT_JAR = "cli/target/pgtide.jar";

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
      resource = ClusterFile.load(file, true);
    } catch (RuntimeException e) {
      return ValidateCommand.refused(e);
    }
    Path where = dir != null ? dir : Path.of(".pgtide", resource.getMetadata().getName());
    if (LocalState.read(where) != null) {
      System.err.println("pgtide: a local cluster already runs from " + where + " (see `pgtide local down`)");
      return PgtideCli.FAILED;
    }
    // the operator's own log next to its children's, rotated at 10 MiB (3 kept)
    new RotatingLog(where.resolve("logs/operator.log"), 10L << 20, 3).captureConsole();
    // this process owns what it starts: the machine lives until the JVM exits (its hook stops the children)
    LocalRunner runner = new LocalRunner(LocalMachine.open(), resource, where, msg -> System.out.println("  … " + msg));
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
      return e instanceof ClusterFile.Invalid ? PgtideCli.USAGE : PgtideCli.FAILED;
    }
    if (!noWatch) {
      watchFile(runner);
    }
    System.out.print(banner(resource.getMetadata().getName(), runner, cliCommand(codeSource())));
    awaitStop(stop, runner);
    return 0;
  }

  /** Saving an edit of the file applies it, as {@code local apply} does. */
  private void watchFile(LocalRunner runner) {
    new SpecFileWatch(runner.core().vertx(), file, edited -> runner.apply(edited)
        .onSuccess(r -> System.out.println("  … applied: " + r.encode()))
        .onFailure(e -> System.err.println("pgtide: the edit was not applied: " + e.getMessage())),
        msg -> System.out.println("  … " + msg)).start(2_000);
  }

  private void awaitStop(CountDownLatch stop, LocalRunner runner) throws InterruptedException {
    if (seconds > 0) {
      stop.await(seconds, TimeUnit.SECONDS);
      runner.close();
    } else {
      stop.await();
    }
  }

  /** What the user needs once the cluster is up: endpoints, where things are, and how to ask for status. */
  private String banner(String cluster, LocalRunner runner, String cli) {
    return "\npgtide local cluster " + cluster + " is up\n"
        + "  primary endpoint : psql -h 127.0.0.1 -p " + runner.primaryPort() + " -U postgres\n"
        + "  replicas endpoint: psql -h 127.0.0.1 -p " + runner.replicasPort() + " -U postgres\n"
        + (runner.pooler() == null ? "" : "  pooler (PgBouncer): psql -h 127.0.0.1 -p " + runner.pooler().port()
            + " -U <declared user> <database>\n")
        + "  dashboard        : http://127.0.0.1:" + runner.httpPort() + "/\n"
        + "  operator API     : http://127.0.0.1:" + runner.httpPort() + "/api/clusters\n"
        + "  metrics          : http://127.0.0.1:" + runner.metricsPort() + "/metrics\n"
        + "  superuser password: " + runner.dir().resolve("secrets/superuser.password") + "\n"
        + "  status           : " + cli + " status --dir " + runner.dir() + "\n"
        + "  logs             : " + runner.dir().resolve("logs") + "\n"
        + "  edits of " + file + (noWatch ? " : `pgtide local apply`" : " : applied when saved") + "\n";
  }

  private static URL codeSource() {
    var source = LocalUpCommand.class.getProtectionDomain().getCodeSource();
    return source == null ? null : source.getLocation();
  }

  /**
   * How to run this CLI again: the jar this process runs from when it is one, else (classes on a class path, as in
   * the tests) the jar the build makes.
   */
  static String cliCommand(URL codeSource) {
    if (codeSource != null && "file".equals(codeSource.getProtocol())) {
      try {
        Path location = Path.of(codeSource.toURI());
        if (location.toString().endsWith(".jar") && Files.isRegularFile(location)) {
          return "java -jar " + location;
        }
      } catch (URISyntaxException | IllegalArgumentException e) {
        // not a plain file: fall back to the built jar's name
      }
    }
    return "java -jar " + BUILT_JAR;
  }
}
