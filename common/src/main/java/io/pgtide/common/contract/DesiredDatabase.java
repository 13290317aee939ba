package io.pgtide.common.contract;

import java.util.List;
import java.util.Map;

/** A database, its owner and database-level privileges (CONNECT, CREATE, TEMP) per role. */
public record DesiredDatabase(String name, String owner, Map<String, List<String>> privileges,
                              boolean defaultRoles) {
  public DesiredDatabase {
    privileges = privileges == null ? Map.of() : Map.copyOf(privileges);
  }

  /** The ready-made read-only group role of a database with {@code defaultRoles}. */
  public String readerRole() {
    return name + "_reader";
  }

  /** The ready-made read-write group role of a database with {@code defaultRoles}. */
  public String writerRole() {
    return name + "_writer";
  }
}
