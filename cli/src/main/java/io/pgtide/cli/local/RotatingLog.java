package io.pgtide.cli.local;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The local operator's own log file next to its children's ({@code D/logs/operator.log}), rotated by size: when a
 * write would pass {@code maxBytes} the file becomes {@code operator.log.1} (and .1 becomes .2, up to {@code keep}),
 * so a cluster left running for weeks cannot fill the disk. It takes what the operator prints (its console output
 * and its log lines), so what a user saw scroll by can be read again after the terminal is gone.
 */
public final class RotatingLog extends OutputStream {
  private final Path file;
  private final long maxBytes;
  private final int keep;
  private OutputStream out;
  private long size;

  public RotatingLog(Path file, long maxBytes, int keep) {
    this.file = file;
    this.maxBytes = maxBytes;
    this.keep = keep;
    try {
      Files.createDirectories(file.getParent());
      open();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /**
   * Sends everything written to {@code System.out} and {@code System.err} to this log as well (the console keeps its
   * copy). The operator's logger writes to {@code System.err} as it finds it at each line, so its lines come too.
   */
  public void captureConsole() {
    System.setOut(new PrintStream(new Tee(System.out, this), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(new Tee(System.err, this), true, StandardCharsets.UTF_8));
  }

  @Override
  public synchronized void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    if (size > 0 && size + len > maxBytes) {
      rotate();
    }
    out.write(b, off, len);
    size += len;
  }

  @Override
  public synchronized void flush() throws IOException {
    out.flush();
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }

  private void rotate() throws IOException {
    out.close();
    Files.deleteIfExists(numbered(keep));
    for (int i = keep - 1; i >= 1; i--) {
      if (Files.exists(numbered(i))) {
        Files.move(numbered(i), numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.move(file, numbered(1), StandardCopyOption.REPLACE_EXISTING);
    open();
  }

  private Path numbered(int i) {
    return file.resolveSibling(file.getFileName() + "." + i);
  }

  private void open() throws IOException {
    out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    size = Files.size(file);
  }

  /** Writes to both; a failing log file never silences the console. */
  private static final class Tee extends OutputStream {
    private final OutputStream console;
    private final OutputStream log;

    Tee(OutputStream console, OutputStream log) {
      this.console = console;
      this.log = log;
    }

    @Override
    public void write(int b) throws IOException {
      console.write(b);
      try {
        log.write(b);
      } catch (IOException ignored) {
        // the console has it
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      console.write(b, off, len);
      try {
        log.write(b, off, len);
      } catch (IOException ignored) {
        // the console has it
      }
    }

    @Override
    public void flush() throws IOException {
      console.flush();
      try {
        log.flush();
      } catch (IOException ignored) {
        // the console has it
      }
    }
  }
}
