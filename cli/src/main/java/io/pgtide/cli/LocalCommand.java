package io.pgtide.cli;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.cli.local.Leftovers;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.OsUser;
import io.pgtide.operator.ClusterFile;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgtide local up|apply|down|restore|status}: a PostgresCluster as local processes. */
@Command(name = "local", mixinStandardHelpOptions = true, description = "Run a PostgresCluster as local processes.",
    subcommands = {LocalUpCommand.class, LocalCommand.Apply.class, LocalCommand.Down.class,
        LocalCommand.Restore.class, StatusCommand.class})
final class LocalCommand {
  @Command(name = "restore", mixinStandardHelpOptions = true, description = "Create a new local cluster from another "
      + "one's backups, restored to a point in time (or the latest), and run it like `local up`. The source is only "
      + "read.")
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
        resource = file != null ? ClusterFile.load(file, true)
            : ClusterFile.parse("apiVersion: pgtide.io/v1\nkind: PostgresCluster\n"
            + "metadata: {name: " + name + "}\nspec: {postgresVersion: 15, replicas: 1}\n", "the default spec");
        source = new JsonObject(Files.readString(from.resolve("cluster.json"))).getString("scope");
      } catch (IOException e) {
        System.err.println("pgtide: no local cluster state in " + from + " (cluster.json)");
        return PgtideCli.USAGE;
      } catch (RuntimeException e) {
        System.err.println("pgtide: " + e.getMessage());
        return PgtideCli.USAGE;
      }
      resource.getMetadata().setName(name);
      resource.getSpec().bootstrap = new PostgresClusterSpec.BootstrapSpec();
      resource.getSpec().bootstrap.recovery = recovery(source);
      Path where = dir != null ? dir : Path.of(".pgtide", name);
      Files.createDirectories(where);
      // the new cluster's own file, as `local up` would take it: later runs and edits use it
      Path written = where.resolve(name + ".yaml");
      Files.writeString(written, Serialization.asYaml(resource));
      LocalUpCommand up = new LocalUpCommand();
      up.file = written;
      up.dir = where;
      up.seconds = seconds;
      return up.call();
    }

    private PostgresClusterSpec.RecoverySpec recovery(String source) {
      var recovery = new PostgresClusterSpec.RecoverySpec();
      recovery.source = source;
      recovery.repository = from.toAbsolutePath().toString();
      recovery.targetTime = "latest".equals(to) ? null : to;
      return recovery;
    }
  }

  @Command(name = "apply", mixinStandardHelpOptions = true, description = "Apply an edited PostgresCluster file to "
      + "the running local cluster, as Kubernetes applies a changed resource: users, databases, parameters, Patroni "
      + "timing, replicas, autoscaling. An invalid edit is refused (exit 2) and the cluster stays as it was.")
  static final class Apply implements Callable<Integer> {
    @Option(names = {"-f", "--file"}, required = true)
    Path file;
    @Option(names = "--dir", required = true, description = "the directory `local up` used")
    Path dir;

    @Override
    public Integer call() throws Exception {
      String text;
      try {
        ClusterFile.load(file, true);
        text = Files.readString(file);
      } catch (RuntimeException e) {
        return ValidateCommand.refused(e);
      }
      JsonObject state = LocalState.running(dir);
      if (state == null) {
        return PgtideCli.NOT_RUNNING;
      }
      HttpResponse<String> r = LocalState.post(state, "/api/clusters/" + state.getString("namespace") + "/"
          + state.getString("cluster") + "/apply", text);
      if (r.statusCode() == 200) {
        System.out.println(new JsonObject(r.body()).encodePrettily());
        return 0;
      }
      System.err.println("pgtide: " + r.body());
      return r.statusCode() == 400 ? PgtideCli.USAGE : PgtideCli.FAILED;
    }
  }

  @Command(name = "down", mixinStandardHelpOptions = true, description = "Stop a local cluster (by the PID it "
      + "recorded).")
  static final class Down implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "the directory `local up` used")
    Path dir;
    @Option(names = "--delete-data", description = "also delete the directory")
    boolean delete;

    @Override
    public Integer call() throws Exception {
      JsonObject state = LocalState.read(dir);
      if (state == null) {
        return stopLeftovers();
      }
      long pid = state.getLong("pid");
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
      ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
      if (delete) {
        OsUser.deleteTree(dir);
      }
      System.out.println("stopped local cluster " + state.getString("cluster"));
      return 0;
    }

    /** No live operator: after a crash its processes may still run; they are stopped by what they run. */
    private int stopLeftovers() throws IOException {
      var left = Leftovers.stop(dir);
      boolean crashed = Files.deleteIfExists(dir.resolve("operator.json"));
      if (left.isEmpty() && crashed) {
        // its children got their parent-death signal and stopped with it
        System.out.println("the operator of " + dir + " had stopped without `local down`; nothing it ran is left");
        return 0;
      }
      if (left.isEmpty()) {
        System.err.println("pgtide: no local cluster runs from " + dir);
        return PgtideCli.NOT_RUNNING;
      }
      System.out.println("the operator of " + dir + " was gone; stopped what it left: "
          + left.stream().map(l -> l.kind() + " " + l.pid()).toList());
      if (delete) {
        OsUser.deleteTree(dir);
      }
      return 0;
    }
  }
}
