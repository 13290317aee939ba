package io.pgtide.backup;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code pgtide-backup.jar}, the backup image's entry point: {@code backup-agent} (the agent's Deployment) or
 * {@code backup-restore} (the restore Job), the arguments the operator gives its containers; both are configured by
 * environment. Bad input exits 2, a failed operation 1.
 */
@Command(name = "pgtide-backup", mixinStandardHelpOptions = true,
    description = "The backup image's commands (the operator runs them; configured by environment).",
    subcommands = {BackupAgent.class, BackupRestore.class})
public final class BackupMain implements Runnable {

  public static void main(String[] args) {
    System.exit(new CommandLine(new BackupMain()).execute(args));
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.err);
  }
}
