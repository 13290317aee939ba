package io.pgtide.common.process;

/**
 * Where the PostgreSQL programs Barman, a restore and local mode's members run are: local mode's (Debian 12's
 * PostgreSQL 15), or the directory the backup agent's image names in {@code PGTIDE_PG_BIN_DIR} (its PostgreSQL 17:
 * a client may stream from servers of its own major and older ones, never from newer ones).
 */
public final class PgBin {
  public static final String ENV = "PGTIDE_PG_BIN_DIR";
  /** Local mode's PostgreSQL: the major its members run (the operator's {@code ClusterFile.LOCAL_POSTGRES_VERSION}). */
  public static final String LOCAL_DIR = "/usr/lib/postgresql/15/bin";

  private PgBin() {
  }

  /**
   * Where local mode finds a major's programs: {@code PGTIDE_PG_BIN_DIR_<major>} when set (a build of that major
   * installed elsewhere), else Debian's {@code /usr/lib/postgresql/<major>/bin}.
   */
  public static String localDir(int major) {
    String configured = System.getenv(ENV + "_" + major);
    return configured == null || configured.isBlank() ? "/usr/lib/postgresql/" + major + "/bin"
        : configured.replaceAll("/+$", "");
  }

  /**
   * Why the programs of {@code major} in {@code binDir} cannot run a cluster and upgrade one, or null: the first of
   * them missing, and where to put them.
   */
  public static String missing(String binDir, int major) {
    for (String p : java.util.List.of("postgres", "initdb", "pg_upgrade", "pg_controldata", "vacuumdb")) {
      if (!java.nio.file.Files.isExecutable(java.nio.file.Path.of(binDir, p))) {
        return "PostgreSQL " + major + " is not installed here: no " + p + " in " + binDir + " (install postgresql-"
            + major + ", or name its bin directory in " + ENV + "_" + major + ")";
      }
    }
    return null;
  }

  /** The directory, without a trailing slash. */
  public static String dir() {
    String configured = System.getenv(ENV);
    return configured == null || configured.isBlank() ? LOCAL_DIR : configured.replaceAll("/+$", "");
  }

  public static String program(String name) {
    return dir() + "/" + name;
  }
}
