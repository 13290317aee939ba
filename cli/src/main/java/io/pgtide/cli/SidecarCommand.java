package io.pgtide.cli;

import io.pgtide.sidecar.SidecarMain;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code pgtide sidecar}. */
@Command(name = "sidecar", mixinStandardHelpOptions = true,
    description = "Run the sidecar (configured by PGTIDE_* environment variables).")
final class SidecarCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    SidecarMain.main(new String[0]);
    return 0;
  }
}
