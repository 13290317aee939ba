package io.pgtide.cli.backup;

import io.pgtide.local.process.PatroniMember;

/**
 * Where the PostgreSQL programs Barman and a restore run are: local mode's (Debian 12's PostgreSQL 15, as its
 * members run), or the directory the backup agent's image names in {@code PGTIDE_PG_BIN_DIR} (its PostgreSQL 17:
 * a client may stream from servers of its own major and older ones, never from newer ones).
 */
final class PgBin {
  static final String ENV = "PGTIDE_PG_BIN_DIR";

  private PgBin() {
  }

  /** The directory, without a trailing slash. */
  static String dir() {
    String configured = System.getenv(ENV);
    return configured == null || configured.isBlank() ? PatroniMember.BIN_DIR : configured.replaceAll("/+$", "");
  }

  static String program(String name) {
    return dir() + "/" + name;
  }
}
