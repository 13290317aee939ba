package io.pgtide.operator.k8s;

import io.pgtide.operator.k8s.reconcile.ClusterControllers;
import io.pgtide.operator.k8s.api.KubernetesControlAuthorizer;
import io.pgtide.operator.k8s.api.KubernetesEvents;
import io.pgtide.operator.k8s.api.KubernetesIncidentStore;
import io.pgtide.operator.k8s.api.KubernetesInfrastructure;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.pgtide.operator.OperatorCore;
import io.pgtide.operator.users.ScramVerifier;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The operator in a Kubernetes cluster: the operator image's entry point, and {@code pgtide kubernetes} (the same,
 * from the CLI jar, e.g. outside the cluster with a kubeconfig).
 */
@Command(name = "kubernetes", mixinStandardHelpOptions = true, description = "Run the operator in a Kubernetes "
    + "cluster (in-cluster config; two replicas elect a leader with a Lease).")
public final class OperatorMain implements Callable<Integer> {
  @Option(names = "--http-port", defaultValue = "8080", description = "metrics and health (Prometheus, kubelet)")
  int httpPort;
  @Option(names = "--api-port", defaultValue = "8081",
      description = "the control API and the dashboard (reach it with kubectl port-forward)")
  int apiPort;

  @Override
  public Integer call() throws Exception {
    var config = OperatorConfig.fromEnv(System.getenv());
    var client = new KubernetesClientBuilder().build();
    String identity = System.getenv().getOrDefault("POD_NAME", InetAddress.getLocalHost().getHostName());
    var bootstrap = Vertx.vertx();
    var ca = new KubernetesOperator(bootstrap, client, config, identity).loadOrCreateCa();
    bootstrap.close();
    var leading = new java.util.concurrent.atomic.AtomicReference<KubernetesOperator>();
    java.util.function.BooleanSupplier leads = () -> leading.get() != null && leading.get().isLeader();
    // every status write of this process goes through one writer, one at a time, only while this replica leads
    var status = new io.pgtide.operator.k8s.api.StatusWriter(client, leads);
    var core = new OperatorCore(KubernetesOperator.hubCertificate(ca, config), "0.0.0.0", config.bridgePort(),
        v -> new KubernetesInfrastructure(v, client).leadingWhile(leads).writingStatusWith(status), 3_000);
    // an incident open when the leader goes is in the cluster's status, where the next leader resumes it
    core.failover().persistTo(new KubernetesIncidentStore(core.vertx(), client, leads).writingStatusWith(status));
    var controllers = new ClusterControllers(core, client, 30_000, 5_000, new ScramVerifier()).leadingWhile(leads)
        .writingStatusWith(status).backupAgentCa(ca.caPem());
    var operator = new KubernetesOperator(core.vertx(), client, config, identity).writingStatusWith(status)
        .controllers(controllers).metrics(core.registry()).leadership(core::act, core::standDown);
    leading.set(operator);
    // a sidecar certificate speaks only for the live cluster it was issued to (by uid), not for an earlier one
    // of the same name
    core.clusterUids(operator::liveUid);
    new KubernetesEvents(core.vertx(), client, controllers::cluster).start();
    // ready once serving; the hub and the failover coordinator run on the leader only (leadership above), and
    // the leader label makes the Service send the sidecars there
    // the control API answers only to callers the API server authenticates and authorizes on the cluster
    core.http().authorizer(new KubernetesControlAuthorizer(core.vertx(), client));
    // Spilo sends Patroni's output to the container's only: the kubelet has it, the sidecar does not
    core.http().patroniOutput(new io.pgtide.operator.k8s.api.PodPatroniOutput(client));
    core.serve("0.0.0.0", httpPort, apiPort);
    // SIGTERM (a rolling update, a drained node): give the Lease back at once, so the other replica leads in
    // about a retry period instead of waiting for the Lease to expire
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      operator.stop();
      core.close();
    }, "pgtide-shutdown"));
    // non-zero after losing the leadership: the container restarts clean (the shutdown hook still runs)
    return operator.runUntilStopped();
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new OperatorMain()).execute(args));
  }
}
