package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalMajorUpgradeTest {
  @Test
  void aMajorWithoutItsProgramsIsNamedWithWhereToPutThem(@TempDir Path bin) throws Exception {
    assertThat(io.pgtide.common.process.PgBin.missing(bin.toString(), 17))
        .isEqualTo("PostgreSQL 17 is not installed here: no postgres in " + bin + " (install postgresql-17, or name "
            + "its bin directory in PGTIDE_PG_BIN_DIR_17)");
    for (String p : new String[] {"postgres", "initdb", "pg_upgrade", "pg_controldata", "vacuumdb"}) {
      Files.createFile(bin.resolve(p), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }
    assertThat(io.pgtide.common.process.PgBin.missing(bin.toString(), 17)).isNull();
  }

  @Test
  void theDataSaysWhichMajorAResumedClusterRuns(@TempDir Path dir) throws Exception {
    assertThat(LocalRunner.dataMajor(dir)).isNull();
    Files.createDirectories(dir.resolve("c-0/data"));
    Files.writeString(dir.resolve("c-0/data/PG_VERSION"), "15\n");
    assertThat(LocalRunner.dataMajor(dir)).isEqualTo(15);
    assertThat(LocalRunner.resumedMajorProblem(dir, 15)).isNull();
    assertThat(LocalRunner.resumedMajorProblem(dir, 17)).contains("the data in " + dir + " is PostgreSQL 15")
        .contains("raise postgresVersion with local apply");
    Files.writeString(dir.resolve("c-0/data/PG_VERSION"), "17\n");
    assertThat(LocalRunner.resumedMajorProblem(dir, 15)).contains("cannot go down a major version in place");
  }

  @Test
  void anUpgradeInterruptedBeforeTheSwapLeavesNoHalfMadeDirectoryAndSaysSo(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("c-0/data.17/base"));
    Files.createDirectories(dir.resolve("c-0/data"));
    Files.writeString(dir.resolve(LocalMajorUpgrade.FILE), new JsonObject().put("from", 15).put("to", 17)
        .put("phase", "Upgrading").put("step", "pgUpgrade").encode());
    assertThat(LocalMajorUpgrade.tidyInterrupted(dir)).contains("before the data directories were swapped")
        .contains("resumes on 15");
    assertThat(dir.resolve("c-0/data.17")).doesNotExist();
    assertThat(dir.resolve("c-0/data")).exists();
    assertThat(LocalMajorUpgrade.recorded(dir).getString("phase")).isEqualTo("Failed");
    assertThat(LocalMajorUpgrade.tidyInterrupted(dir)).as("once").isNull();
  }

  @Test
  void anUpgradeInterruptedAfterTheSwapKeepsTheNewDataAndSaysWhereTheOldIs(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("c-0/data.15.old"));
    Files.writeString(dir.resolve(LocalMajorUpgrade.FILE), new JsonObject().put("from", 15).put("to", 17)
        .put("phase", "Upgrading").put("step", "starting").encode());
    assertThat(LocalMajorUpgrade.tidyInterrupted(dir)).contains("after the data directories were swapped")
        .contains("resumes on 17").contains("data.15.old");
    assertThat(dir.resolve("c-0/data.15.old")).exists();
  }
}
