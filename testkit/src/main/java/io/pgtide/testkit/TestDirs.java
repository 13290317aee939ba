package io.pgtide.testkit;

import io.pgtide.common.process.OsUser;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Per-test directories under {@code target/it/}, so a failing CI run leaves its process logs behind. */
public final class TestDirs {
  private TestDirs() {
  }

  public static Path create(String name) {
    Path dir = Paths.get("target", "it", name + "-" + System.currentTimeMillis()).toAbsolutePath();
    OsUser.makeTraversable(dir.getParent());
    return OsUser.ownedDirectory(dir, false);
  }
}
