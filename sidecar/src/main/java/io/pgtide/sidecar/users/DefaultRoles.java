package io.pgtide.sidecar.users;

import java.util.List;

/**
 * The ready-made reader/writer group roles of a database, run inside that database: usage of schema public,
 * privileges on what exists, and default privileges for what its owner creates later. A read-only check runs first
 * so an unchanged database costs no write.
 */
final class DefaultRoles {
  private DefaultRoles() {
  }

  /** True when everything is in place. Parameters: $1 reader, $2 writer, $3 owner. One privilege per aclitem (PG 15). */
  static final String CHECK = """
      SELECT has_schema_privilege($1, 'public', 'USAGE') AND has_schema_privilege($2, 'public', 'USAGE')
         AND EXISTS (SELECT 1 FROM pg_default_acl d WHERE d.defaclrole = $3::regrole
                        AND d.defaclnamespace = 'public'::regnamespace AND d.defaclobjtype = 'r'
                        AND aclcontains(d.defaclacl, makeaclitem($1::regrole, $3::regrole, 'SELECT', false))
                        AND (SELECT bool_and(aclcontains(d.defaclacl, makeaclitem($2::regrole, $3::regrole, p, false)))
                               FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p))
         AND EXISTS (SELECT 1 FROM pg_default_acl d WHERE d.defaclrole = $3::regrole
                        AND d.defaclnamespace = 'public'::regnamespace AND d.defaclobjtype = 'S'
                        AND aclcontains(d.defaclacl, makeaclitem($2::regrole, $3::regrole, 'USAGE', false))
                        AND aclcontains(d.defaclacl, makeaclitem($2::regrole, $3::regrole, 'SELECT', false)))
         AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
                            AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                            AND NOT (has_table_privilege($1, c.oid, 'SELECT') AND has_table_privilege($2, c.oid, 'SELECT')
                                     AND (c.relkind NOT IN ('r', 'p') OR (has_table_privilege($2, c.oid, 'INSERT')
                                          AND has_table_privilege($2, c.oid, 'UPDATE')
                                          AND has_table_privilege($2, c.oid, 'DELETE')))))
      """;

  static List<String> grants(String reader, String writer, String owner) {
    String r = Sql.ident(reader);
    String w = Sql.ident(writer);
    String o = Sql.ident(owner);
    return List.of(
        "GRANT USAGE ON SCHEMA public TO " + r + ", " + w,
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + r,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + w,
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + w,
        "ALTER DEFAULT PRIVILEGES FOR ROLE " + o + " IN SCHEMA public GRANT SELECT ON TABLES TO " + r,
        "ALTER DEFAULT PRIVILEGES FOR ROLE " + o + " IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "
            + w,
        "ALTER DEFAULT PRIVILEGES FOR ROLE " + o + " IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO " + w);
  }
}
