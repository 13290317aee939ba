package io.pgtide.cli;

import io.pgtide.common.cluster.ClusterKey;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Which operator a command talks to (a mixin): a local cluster by its directory, or on Kubernetes the control API
 * (reached with {@code kubectl -n pgtide-system port-forward svc/pgtide-operator 8081}) with a bearer token the API
 * server accepts, read from a file or {@code PGTIDE_TOKEN} (never from the command line, where {@code ps} shows it),
 * or a cluster by name through the Kubernetes API.
 */
final class CommandTarget {
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
  @Parameters(arity = "0..1", paramLabel = "CLUSTER", description = "Kubernetes: the "
      + "PostgresCluster, through the Kubernetes API with the current kubeconfig and your own credentials (as kubectl)")
  String clusterName;

  /** The Kubernetes API client of {@code [-n NS] CLUSTER}, or null when another target was given. */
  KubeCli kube() {
    if (clusterName == null) {
      if (namespace != null) {
        throw usage("-n names the namespace of a CLUSTER: give the cluster's name too");
      }
      return null;
    }
    if (dir != null || url != null) {
      throw usage("give CLUSTER (Kubernetes API), --dir (local mode) or --url (control API), one of them");
    }
    return new KubeCli(namespace, clusterName);
  }

  /** {@code /api/clusters/<namespace>/<name>} of the one cluster a command acts on. */
  static String clusterPath(JsonObject state) {
    if (state.getString("cluster") == null) {
      throw new CommandTarget().usage("this command acts on one cluster: give --cluster namespace/name");
    }
    return "/api/clusters/" + state.getString("namespace") + "/" + state.getString("cluster");
  }

  /** The coordinates, or null after saying on stderr why there are none. */
  JsonObject state() throws IOException {
    if (clusterName != null || namespace != null) {
      throw usage("this command takes --dir (local mode) or --url (control API), not a CLUSTER name");
    }
    if ((dir == null) == (url == null)) {
      throw usage("give --dir (local mode) or --url (Kubernetes), one of them");
    }
    if (dir != null) {
      return LocalState.running(dir);
    }
    String token = tokenFile != null ? Files.readString(tokenFile).strip() : System.getenv("PGTIDE_TOKEN");
    JsonObject state = new JsonObject().put("base", url.replaceAll("/+$", "")).put("token", token);
    if (cluster != null) {
      ClusterKey key;
      try {
        key = ClusterKey.parse(cluster);
      } catch (IllegalArgumentException e) {
        throw usage("--cluster must be namespace/name, got " + cluster);
      }
      state.put("namespace", key.namespace()).put("cluster", key.name());
    }
    return state;
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(new CommandLine(this), message);
  }
}
