package io.pgtide.common.backup;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** One cluster's backups as the control API sees them; kept by the runner that takes them (local mode today). */
public interface Backups {
  /** A base backup now, outside the schedule; completes with the backup's status entry or fails with the reason. */
  Future<JsonObject> backupNow();

  /** A verification of the newest backup now; completes with its result. */
  Future<JsonObject> verifyNow();

  /** What {@code status.backup} shows. */
  JsonObject status();
}
