package io.pgtide.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The commands the operator gives the backup image's containers ({@code BackupAgentModel}'s args) exist. */
class BackupMainTest {

  @Test
  void theAgentAndTheRestoreAnswerHelp() {
    assertThat(new CommandLine(new BackupMain()).getSubcommands()).containsOnlyKeys("backup-agent",
        "backup-restore");
    for (String command : new String[] {"backup-agent", "backup-restore"}) {
      CommandLine cli = new CommandLine(new BackupMain());
      StringWriter out = new StringWriter();
      cli.setOut(new PrintWriter(out));
      assertThat(cli.execute(command, "--help")).as(command).isZero();
      assertThat(out.toString()).contains("Usage: pgtide-backup " + command);
    }
  }
}
