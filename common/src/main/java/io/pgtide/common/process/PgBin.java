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

  /** The directory, without a trailing slash. */
  public static String dir() {
    String configured = System.getenv(ENV);
    return configured == null || configured.isBlank() ? LOCAL_DIR : configured.replaceAll("/+$", "");
  }

  public static String program(String name) {
    return dir() + "/" + name;
  }
}
