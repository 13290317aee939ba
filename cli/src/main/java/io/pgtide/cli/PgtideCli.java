package io.pgtide.cli;

import io.pgtide.operator.k8s.OperatorMain;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code pgtide}: local mode, status, switchover, user sync, backups, and the sidecar; one class per command group.
 * Every command takes {@code --help}. Exit codes: 0 success, 1 the operation failed, 2 bad usage or input, 3 no
 * local cluster is running.
 */
@Command(name = "pgtide", mixinStandardHelpOptions = true, version = "pgtide 0.1.0",
    subcommands = {LocalCommand.class, StatusCommand.class, SwitchoverCommand.class, PromoteCommand.class,
        UsersCommand.class, LogsCommand.class, PsqlCommand.class, BackupCommand.class, RestoreCommand.class, RenderCommand.class,
        ValidateCommand.class, SealCheck.class, ConvertCommand.class, AdoptZalandoCommand.class, SidecarCommand.class,
        OperatorMain.class},
    description = "PostgreSQL on Kubernetes with an event-driven sidecar; local mode runs it all on this machine.")
public final class PgtideCli implements Callable<Integer> {
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int NOT_RUNNING = 3;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The whole command tree, as {@code main} runs it. */
  public static CommandLine commandLine() {
    return new CommandLine(new PgtideCli()).setExitCodeExceptionMapper(e -> USAGE);
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return 0;
  }
}
