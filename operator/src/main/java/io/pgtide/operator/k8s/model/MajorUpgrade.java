package io.pgtide.operator.k8s.model;

import io.pgtide.common.cluster.ClusterKey;
import io.pgtide.common.contract.Role;
import io.pgtide.common.crd.PostgresClusterStatus.Upgrade;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An in-place major-version upgrade, pure: whether a change of spec.postgresVersion may happen, which major the
 * StatefulSet runs meanwhile, what stops an upgrade from starting, and what Spilo's {@code inplace_upgrade.py} log
 * says about how far it got. {@link io.pgtide.operator.k8s.reconcile.MajorUpgrader} does the I/O.
 *
 * <p>Spilo runs the upgrade on the primary: {@code pg_upgrade --check}, Patroni paused, a clean stop, {@code
 * pg_upgrade --link} into a new data directory, the directories swapped (its point of no return), the replicas
 * rsynced from the primary, PostgreSQL started on the new major, extensions updated and statistics rebuilt. The
 * StatefulSet keeps the old PGVERSION until it succeeded (a member bootstrapping meanwhile gets binaries matching its
 * data), then takes the new one through the rolling update.
 */
public final class MajorUpgrade {
  public static final String BLOCKED = "Blocked";
  public static final String UPGRADING = "Upgrading";
  public static final String SUCCEEDED = "Succeeded";
  public static final String FAILED = "Failed";
  /** Spilo's own limit on a replica's lag before it upgrades (inplace_upgrade.py). */
  public static final long MAX_LAG_BYTES = 16L * 1024 * 1024;

  private MajorUpgrade() {
  }

  /**
   * Why spec.postgresVersion {@code wanted} cannot be applied to a cluster whose StatefulSet runs major {@code
   * running} (null before there is one), or null: the same major, or a raise pgtide upgrades in place. A standby
   * cluster keeps its source's major, and no major goes down.
   */
  public static String refusal(Integer running, int wanted, boolean standby) {
    if (running == null || running == wanted) {
      return null;
    }
    if (wanted < running) {
      return "postgresVersion " + wanted + ": PostgreSQL cannot go down a major version in place (the cluster runs "
          + running + "). Set postgresVersion back to " + running + ", or dump and restore into a new cluster that "
          + "declares postgresVersion " + wanted;
    }
    if (standby) {
      return "postgresVersion " + wanted + ": a standby cluster runs its source's major (" + running + "); upgrade "
          + "the source, then make this standby again from it, or promote this one first";
    }
    return null;
  }

  /**
   * The major the StatefulSet's PGVERSION names: {@code wanted} once an upgrade to it succeeded (or when nothing
   * runs yet), otherwise the running one, so a raise changes no pod before the data is upgraded.
   */
  public static int statefulSetMajor(Integer running, int wanted, Upgrade status) {
    if (running == null || wanted <= running) {
      return wanted;
    }
    boolean done = status != null && SUCCEEDED.equals(status.phase) && Integer.valueOf(wanted).equals(status.to)
        && running.equals(status.from);
    return done ? wanted : running;
  }

  /** Whether the upgrade recorded in {@code status} is the one from {@code running} to {@code wanted}. */
  public static boolean same(Upgrade status, int running, int wanted) {
    return status != null && Integer.valueOf(running).equals(status.from) && Integer.valueOf(wanted).equals(status.to);
  }

  /**
   * Whether an upgrade from {@code running} to {@code wanted} is to be launched now, given the one recorded: not
   * while one runs or after it succeeded; after a failure only from a later spec generation (setting
   * postgresVersion back and up again is the documented way to try again).
   */
  public static boolean toLaunch(Upgrade status, int running, int wanted, long generation) {
    if (!same(status, running, wanted)) {
      return true;
    }
    return switch (status.phase == null ? "" : status.phase) {
      case UPGRADING, SUCCEEDED -> false;
      case FAILED -> status.generation == null || generation > status.generation;
      default -> true;
    };
  }

  /**
   * What stops an upgrade from starting, from the operator's view of the members, or null. Spilo checks the same
   * again before it changes anything (every member streaming, lag at most 16 MiB, Patroni healthy, not paused).
   *
   * @param members      the members the cluster declares
   * @param rollingDone  no pod of an older revision is left to restart
   * @param standbys     standby clusters following this one (the new data directory has a new system identifier,
   *                     which they cannot follow)
   * @param backups      spec.backup is declared: the backup agent cannot follow an upgraded cluster yet (its Barman
   *                     server keeps the old system identifier, and Patroni would keep WAL for the agent's slot with
   *                     nobody reading it; docs/design/backups-across-upgrade.md)
   */
  public static String blocked(ClusterView view, int members, boolean rollingDone, List<String> standbys,
                               boolean backups) {
    if (backups) {
      return "spec.backup is declared, and the backup agent cannot follow an upgraded cluster yet (its Barman server "
          + "keeps the old system identifier, and the primary would keep WAL for its slot with nobody reading it): "
          + "remove spec.backup to upgrade without backups; declaring it again afterwards needs the repository's "
          + "volume (" + ClusterKey.parse(view.key()).name() + "-backup) deleted first, with the old major's backups";
    }
    if (!standbys.isEmpty()) {
      return "standby clusters " + standbys + " follow this cluster; an upgraded cluster has a new system "
          + "identifier they cannot follow: promote or remove them first";
    }
    if (view.splitView()) {
      return "more than one member reports itself primary";
    }
    var primary = view.primary();
    if (primary.isEmpty()) {
      return "no live primary";
    }
    if (!rollingDone) {
      return "a rolling update is under way";
    }
    List<String> problems = new ArrayList<>();
    List<MemberView> replicas = view.healthyReplicas();
    if (replicas.size() + 1 != members) {
      problems.add((replicas.size() + 1) + " of " + members + " members are live");
    }
    for (MemberView r : replicas) {
      String name = r.id().member();
      Long lag = view.lagBytes(name);
      if (!"streaming".equals(r.report().walReceiverStatus())) {
        problems.add(name + " is not streaming from the primary");
      } else if (lag == null || lag > MAX_LAG_BYTES) {
        problems.add(name + " lags " + (lag == null ? "an unknown amount" : lag + " bytes") + " (at most "
            + MAX_LAG_BYTES + ")");
      }
    }
    if (view.members().values().stream().anyMatch(m -> m.role() == Role.PRIMARY && m != primary.get())) {
      problems.add("another member reports the primary role");
    }
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  /** The steps Spilo's log names, in the order they happen: the line that starts each one. */
  private static final List<String[]> STEPS = List.of(
      new String[] {"check", "Executing pg_upgrade --check"},
      new String[] {"paused", "Maintenance mode enabled"},
      new String[] {"stopping", "Doing a clean shutdown of the cluster"},
      new String[] {"replicasCatchingUp", "Waiting for replica nodes to catch up"},
      new String[] {"pgUpgrade", "Executing pg_upgrade\n"},
      new String[] {"switched", "Updating configuration files"},
      new String[] {"replicasSyncing", "Notifying replicas"},
      new String[] {"starting", "Starting the primary postgres up"},
      new String[] {"started", "Upgrade downtime:"},
      new String[] {"analyzing", "Rebuilding statistics"},
      new String[] {"done", "Total upgrade time"});

  /** The furthest step {@code log} (Spilo's output so far) shows; {@code "launched"} before any. */
  public static String step(String log) {
    String text = log.replace("\r", "") + "\n";
    String reached = "launched";
    for (String[] s : STEPS) {
      if (text.contains(s[1])) {
        reached = s[0];
      }
    }
    return reached;
  }

  /** Whether Spilo got past its point of no return: the data directories were swapped. */
  public static boolean pastPointOfNoReturn(String step) {
    int at = indexOf(step);
    return at >= indexOf("switched");
  }

  private static int indexOf(String step) {
    for (int i = 0; i < STEPS.size(); i++) {
      if (STEPS.get(i)[0].equals(step)) {
        return i;
      }
    }
    return -1;
  }

  private static final Pattern DOWNTIME = Pattern.compile("Upgrade downtime: ([0-9.]+)");
  private static final Pattern ERROR = Pattern.compile("(?m)^\\S+ \\S+ inplace_upgrade ERROR: (.*)$");

  /** Spilo's measure of the primary's downtime in seconds, null before it logged one. */
  public static Double downtimeSeconds(String log) {
    Matcher m = DOWNTIME.matcher(log);
    return m.find() ? Math.round(Double.parseDouble(m.group(1)) * 10) / 10.0 : null;
  }

  /** The last error Spilo logged (why it gave up), null when none. */
  public static String lastError(String log) {
    Matcher m = ERROR.matcher(log);
    String last = null;
    while (m.find()) {
      last = m.group(1).strip();
    }
    return last;
  }
}
