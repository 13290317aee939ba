package io.pgtide.sidecar;

import io.pgtide.common.contract.MemberId;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads PostgreSQL when the certificate files it is configured with changed after it last loaded its
 * configuration (issue #32): the operator issues the server certificate again into its Secret, the kubelet swaps the
 * mounted files, and PostgreSQL loads them only at a reload. Spilo's cron job (test_reload_ssl.sh) reloads within 5
 * minutes; this does it within one period, and in local mode, where there is no Spilo.
 *
 * <p>It asks PostgreSQL itself, as superuser: whether {@code ssl_cert_file} or {@code ssl_ca_file} was modified
 * after {@code pg_conf_load_time()}. No state in the sidecar (a sidecar that starts after a change still sees it), no
 * mount of the key into the sidecar, and exactly the files PostgreSQL will read, whatever the container. A reload is
 * harmless: sessions continue, new ones get the new certificate; and it moves the load time past the files, so one
 * change makes one reload, even when the new files are unusable (PostgreSQL then keeps the old ones and logs why).
 */
final class ServerCertificateReload {
  private static final Logger LOG = LoggerFactory.getLogger(ServerCertificateReload.class);
  /** How often the files are compared: a rotation is served within this (plus the kubelet's own delay). */
  static final long PERIOD_MS = 10_000;

  /** True when a configured file is newer than the configuration PostgreSQL loaded; no row when TLS is off. */
  static final String CHANGED = """
      SELECT greatest((pg_stat_file(current_setting('ssl_cert_file'))).modification,
                      CASE WHEN current_setting('ssl_ca_file') <> ''
                           THEN (pg_stat_file(current_setting('ssl_ca_file'))).modification END)
             > pg_conf_load_time()
       WHERE current_setting('ssl') = 'on'""";

  private final PgCollector pg;
  private final MemberId id;
  private boolean checking;
  private boolean warned;

  ServerCertificateReload(PgCollector pg, MemberId id) {
    this.pg = pg;
    this.id = id;
  }

  /** One comparison, on the event loop; at most one at a time. */
  void check() {
    if (checking) {
      return;
    }
    checking = true;
    pg.query(CHANGED).compose(rows -> {
      if (rows.size() == 0 || !Boolean.TRUE.equals(rows.iterator().next().getBoolean(0))) {
        return Future.<Void>succeededFuture();
      }
      return pg.execute(CommandDispatcher.RELOAD)
          .onSuccess(v -> LOG.info("[{}] the server certificate files changed: PostgreSQL reloaded", id));
    }).onFailure(e -> {
      // once at WARN (a privilege or a missing file is worth seeing), then quietly every period
      if (!warned) {
        warned = true;
        LOG.warn("[{}] cannot compare the server certificate files (Spilo's cron still reloads): {}", id,
            e.toString());
      } else {
        LOG.debug("[{}] cannot compare the server certificate files: {}", id, e.toString());
      }
    }).onComplete(ar -> checking = false);
  }
}
