package io.pgtide.backup;

import io.pgtide.common.process.Psql;

/**
 * The repository's WAL lag as the primary sees it: how far Barman's {@code pg_receivewal} has flushed behind the
 * current WAL position ({@code pg_stat_replication}), through the primary endpoint; the seconds are its flush lag
 * (0 when it has everything; PostgreSQL keeps the last measured value while WAL is idle, and pg_receivewal reports
 * every 10 s, so a small byte lag can show some seconds). With no receiver connected, the slot's retained WAL is the
 * lag in bytes and the seconds are unknown. Blocking.
 */
public final class PrimaryArchivingLag implements BackupController.ArchivingLag {
  private final String host;
  private final int port;
  private final String user;
  private final String password;

  private final io.pgtide.common.process.PgClientTls tls;

  public PrimaryArchivingLag(String host, int port, String user, String password) {
    this(host, port, user, password, new io.pgtide.common.process.PgClientTls(null, null, null));
  }

  /** @param tls how the server's certificate is checked, as Barman's connections check it */
  public PrimaryArchivingLag(String host, int port, String user, String password,
                             io.pgtide.common.process.PgClientTls tls) {
    this.host = host;
    this.port = port;
    this.user = user;
    this.password = password;
    this.tls = tls;
  }

  @Override
  public Lag measure() {
    String row;
    try {
      row = Psql.query(host, port, user, password, "postgres", """
          SELECT coalesce((SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn)::bigint || '|'
                  || CASE WHEN flush_lsn >= pg_current_wal_lsn() THEN '0'
                          ELSE coalesce(extract(epoch FROM flush_lag)::text, '0') END || '|t'
                FROM pg_stat_replication WHERE application_name = 'barman_receive_wal' LIMIT 1),
              (SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint || '||f'
                FROM pg_replication_slots WHERE slot_name = '%s'),
              '||f')""".formatted(Barman.SLOT), tls);
    } catch (RuntimeException e) {
      return new Lag(null, null, false);
    }
    String[] f = row.split("\\|", -1);
    return new Lag(f[0].isEmpty() ? null : Long.parseLong(f[0]), f[1].isEmpty() ? null : Double.parseDouble(f[1]),
        "t".equals(f[2]));
  }
}
