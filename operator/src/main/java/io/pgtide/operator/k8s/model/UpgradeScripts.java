package io.pgtide.operator.k8s.model;

import io.pgtide.common.crd.PostgresClusterStatus.Upgrade;

/**
 * The shell the operator runs in a Spilo container for a major upgrade ({@link MajorUpgrade}), and how it reads
 * their output. Pure text. Spilo's container runs as root, its PostgreSQL and Patroni as {@code postgres}: each
 * script runs what touches the data as that user. Files live in {@code $PGROOT}, on the member's volume, so they
 * outlive an operator restart and the exec that launched the upgrade.
 */
public final class UpgradeScripts {
  private static final String AS_POSTGRES = "if [ \"$(id -u)\" = 0 ]; then as() { su postgres -s /bin/sh -c \"$1\"; };"
      + " else as() { sh -c \"$1\"; }; fi\n";

  private UpgradeScripts() {
  }

  /** The free space the data volume must have: the new cluster's catalog and WAL (--link copies no table data). */
  public static final long MIN_FREE_KIB = 256 * 1024;

  /**
   * Prints, one per line, what in the member stops an upgrade to {@code major}, nothing when nothing does: the image
   * without that major's pg_upgrade (Spilo's layout), less than {@link #MIN_FREE_KIB} free on the data volume, an
   * extension of any database without a control file for the new major (pg_repack aside: Spilo drops it).
   */
  public static String preconditions(int major) {
    String share = "/usr/share/postgresql/" + major + "/extension";
    return "if [ ! -x /usr/lib/postgresql/" + major + "/bin/pg_upgrade ]; then\n"
        + "  echo 'the image has no PostgreSQL " + major + " (no /usr/lib/postgresql/" + major + "/bin/pg_upgrade)'\n"
        + "  exit 0\n"
        + "fi\n"
        + "free=$(df -Pk \"$PGDATA\" | awk 'NR == 2 {print $4}')\n"
        + "[ \"${free:-0}\" -ge " + MIN_FREE_KIB + " ] || echo \"only ${free:-0} KiB free on the data volume, "
        + MIN_FREE_KIB / 1024 + " MiB needed\"\n"
        + "psql -X -U postgres -Atc 'SELECT datname FROM pg_database WHERE datallowconn' | while IFS= read -r db; do\n"
        + "  psql -X -U postgres -d \"$db\" -Atc 'SELECT extname FROM pg_extension' | while read -r ext; do\n"
        + "    [ \"$ext\" = pg_repack ] || [ -f \"" + share + "/$ext.control\" ] "
        + "|| echo \"extension $ext (database $db) has no control file for PostgreSQL " + major + "\"\n"
        + "  done\n"
        + "done\n";
  }

  static String log(Upgrade u) {
    return "\"$PGROOT/pgtide-upgrade-" + u.id + ".log\"";
  }

  static String extensions(Upgrade u) {
    return "\"$PGROOT/pgtide-upgrade-" + u.id + ".extensions\"";
  }

  static String rc(Upgrade u) {
    return "\"$PGROOT/pgtide-upgrade-" + u.id + ".rc\"";
  }

  /**
   * Starts Spilo's {@code inplace_upgrade.py <members>} detached (its own session, so the exec's end does not stop
   * it), with PGVERSION naming the new major (the script takes the desired version from it; the pod keeps the old
   * one until the upgrade succeeded). Output to the log file, exit code to the rc file. Started once per id: a
   * launch repeated by a new operator finds the log and starts nothing.
   */
  public static String launch(Upgrade u, int members) {
    String base = "\"$PGROOT/pgtide-upgrade-" + u.id;
    return "set -e\n"
        + "cd \"$PGROOT\"\n"
        + "if [ -e " + log(u) + " ]; then echo 'already launched'; exit 0; fi\n"
        // which databases hold the extensions Spilo drops after its check: the recovery creates them again there
        + "psql -X -U postgres -Atc 'SELECT datname FROM pg_database WHERE datallowconn' | while IFS= read -r db; do\n"
        + "  psql -X -U postgres -d \"$db\" -Atc \"SELECT extname FROM pg_extension WHERE extname IN "
        + "('pg_stat_statements', 'pg_stat_kcache')\" | while read -r ext; do printf '%s %s\\n' \"$ext\" \"$db\"; done\n"
        + "done > " + extensions(u) + " || true\n"
        + "cat > " + base + ".sh\" <<'EOF'\n"
        + "cd \"$PGROOT\" || exit 1\n"
        + "PGVERSION=" + u.to + " /usr/bin/python3 /scripts/inplace_upgrade.py " + members + " >> " + log(u) + " 2>&1\n"
        + "echo $? > " + rc(u) + "\n"
        + "EOF\n"
        + "chmod 0755 " + base + ".sh\"\n"
        + ": > " + log(u) + "\n"
        + "if [ \"$(id -u)\" = 0 ]; then\n"
        + "  chown postgres: " + log(u) + " " + base + ".sh\"\n"
        + "  setsid su postgres -s /bin/sh -c " + base + ".sh\" </dev/null >/dev/null 2>&1 &\n"
        + "else\n"
        + "  setsid " + base + ".sh\" </dev/null >/dev/null 2>&1 &\n"
        + "fi\n"
        + "echo launched\n";
  }

  /**
   * Prints {@code rc=}, {@code version=} (the data directory's major), {@code running=} (yes while Spilo's script
   * runs), a {@code ---} line, then the end of the log.
   */
  public static String poll(Upgrade u) {
    return "echo \"rc=$(cat " + rc(u) + " 2>/dev/null)\"\n"
        + "echo \"version=$(cat \"$PGDATA/PG_VERSION\" 2>/dev/null)\"\n"
        // the bracket keeps this script's own command line from matching
        + "if pgrep -f '[i]nplace_upgrade.py' >/dev/null; then echo running=yes; else echo running=no; fi\n"
        + "echo ---\n"
        + "tail -c 30000 " + log(u) + " 2>/dev/null || true\n";
  }

  /** What {@link #poll} printed. {@code exitCode} null while there is no rc file. */
  public record Progress(Integer exitCode, String dataVersion, boolean running, String log) {
  }

  public static Progress progress(String out) {
    int split = out.indexOf("\n---\n");
    String head = split < 0 ? out : out.substring(0, split);
    String log = split < 0 ? "" : out.substring(split + 5);
    Integer rc = null;
    String version = null;
    boolean running = false;
    for (String line : head.split("\n")) {
      if (line.startsWith("rc=") && line.substring(3).strip().matches("\\d+")) {
        rc = Integer.valueOf(line.substring(3).strip());
      } else if (line.startsWith("version=") && !line.substring(8).isBlank()) {
        version = line.substring(8).strip();
      } else if (line.equals("running=yes")) {
        running = true;
      }
    }
    return new Progress(rc, version, running, log);
  }

  /**
   * After a failure with the old major's data in place: what Spilo's own cleanup does when it gets to run (its
   * rsync daemon stopped, the new data directory removed, Patroni resumed), and what it never does (a server that a
   * killed pg_upgrade left running on its port 50432 stopped, a {@code pg_control} that {@code pg_upgrade --link}
   * renamed put back, the pg_stat_statements and pg_stat_kcache it dropped after its check created again where the
   * launch found them). Nothing here runs unless PG_VERSION is still the old major. Idempotent.
   */
  public static String recover(Upgrade u) {
    return AS_POSTGRES
        + "[ \"$(cat \"$PGDATA/PG_VERSION\")\" = " + u.from + " ] || { echo 'not the old data'; exit 1; }\n"
        // a server pg_upgrade started on its own port (the old or the new cluster) while it was killed
        + "pkill -INT -f '[-]p 50432' || true\n"
        + "for i in $(seq 1 60); do pgrep -f '[-]p 50432' >/dev/null || break; sleep 1; done\n"
        + "pkill -f '[r]sync --daemon' || true\n"
        + "if [ ! -e \"$PGDATA/global/pg_control\" ] && [ -e \"$PGDATA/global/pg_control.old\" ]; then "
        + "mv \"$PGDATA/global/pg_control.old\" \"$PGDATA/global/pg_control\"; fi\n"
        + "rm -rf \"$PGROOT/data_new\" \"$PGROOT/data_upgrade\"\n"
        + "as 'patronictl -c /run/postgres.yml resume --wait >/dev/null 2>&1' || true\n"
        // Spilo drops these after its check and creates them again only on success (pg_stat_kcache needs the other)
        + "if [ -s " + extensions(u) + " ]; then\n"
        + "  for i in $(seq 1 120); do [ \"$(psql -X -U postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)\" = f ]"
        + " && break; sleep 1; done\n"
        + "  sort -r " + extensions(u) + " | while read -r ext db; do\n"
        + "    psql -X -q -U postgres -d \"$db\" -c \"CREATE EXTENSION IF NOT EXISTS $ext\" >/dev/null 2>&1 "
        + "|| echo \"could not create $ext in $db again\"\n"
        + "  done\n"
        + "fi\n"
        + "echo recovered\n";
  }

  /**
   * After a failure past Spilo's point of no return (the primary's data is the new major's): Patroni resumed and
   * every replica made again from the primary ({@code patronictl reinit}), since their rsync may not have run.
   * Prints what it did.
   */
  public static String afterPointOfNoReturn(Upgrade u, String scope) {
    return AS_POSTGRES
        + "as 'patronictl -c /run/postgres.yml resume --wait >/dev/null 2>&1' || true\n"
        + "for m in $(patronictl -c /run/postgres.yml list -f json | jq -r '.[] | select(.Role != \"Leader\") "
        + "| .Member'); do\n"
        + "  as \"patronictl -c /run/postgres.yml reinit " + scope + " $m --force >/dev/null 2>&1\" "
        + "&& echo \"reinitialising $m\" || echo \"could not reinitialise $m\"\n"
        + "done\n";
  }
}
