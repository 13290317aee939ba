package io.pgtide.sidecar.logs;

import io.pgtide.common.logs.LogParser;
import io.pgtide.common.contract.LogLine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Follows the newest file of a log directory (PostgreSQL's {@code log_directory}, whose collector starts a new file
 * on rotation and, with {@code log_truncate_on_rotation}, empties a reused one) or one file (Patroni's output). Each
 * {@link #poll} reads what was appended since the last, at most {@link #CHUNK} bytes, and only up to the last line
 * end (a line is never split, nor a UTF-8 character). Rotation: a newer file is read from its start after the rest of
 * the old one; a file that shrank or was replaced (another inode) is read again from its start. The first poll starts
 * {@link #BACKLOG} bytes before the end, at the first line that starts with a time. Blocking: called off the event
 * loop, one poll at a time.
 */
public final class LogTailer {
  static final int CHUNK = 1 << 20;
  static final int BACKLOG = 256 * 1024;
  private static final Pattern RECORD_START = Pattern.compile("(?m)^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}");

  private final Path location;
  private final boolean directory;
  private final Predicate<String> fileName;
  private final LogParser parser;
  private Path current;
  private Object currentKey;
  private byte[] head = new byte[0]; // the file's first bytes: a file rewritten under the same inode differs here
  private long offset = -1; // -1: not read yet, start at the backlog
  private volatile String problem = "not read yet";

  private LogTailer(Path location, boolean directory, Predicate<String> fileName, LogParser parser) {
    this.location = location;
    this.directory = directory;
    this.fileName = fileName;
    this.parser = parser;
  }

  /** The newest file whose name {@code fileName} accepts in {@code dir}. */
  public static LogTailer directory(Path dir, Predicate<String> fileName, LogParser parser) {
    return new LogTailer(dir, true, fileName, parser);
  }

  public static LogTailer file(Path file, LogParser parser) {
    return new LogTailer(file, false, n -> true, parser);
  }

  /** Null while the source reads; otherwise why it cannot (no such directory, not readable). */
  public String problem() {
    return problem;
  }

  /** The lines appended since the last poll (blocking). Never throws: a failure is {@link #problem}. */
  public List<LogLine> poll() {
    List<LogLine> out = new ArrayList<>();
    try {
      Optional<Path> newest = newest();
      if (newest.isEmpty()) {
        problem = directory ? "no log file in " + location + " yet" : location + " does not exist yet";
        return out;
      }
      Path file = newest.get();
      if (current != null && !file.equals(current)) {
        out.addAll(readFrom(current, false)); // the rest of the rotated file, then the new one from its start
        switchTo(file, 0);
      } else if (current == null) {
        switchTo(file, -1);
      }
      out.addAll(readFrom(file, true));
      problem = null;
    } catch (NoSuchFileException e) {
      problem = e.getFile() + " does not exist";
      current = null;
    } catch (IOException | SecurityException e) {
      problem = "cannot read " + location + ": " + e;
    }
    return out;
  }

  private void switchTo(Path file, long start) {
    current = file;
    currentKey = null;
    head = new byte[0];
    offset = start;
    parser.reset();
  }

  private Optional<Path> newest() throws IOException {
    if (!directory) {
      return Files.exists(location) ? Optional.of(location) : Optional.empty();
    }
    if (!Files.isDirectory(location)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.list(location)) {
      return files.filter(p -> fileName.test(p.getFileName().toString()) && Files.isRegularFile(p))
          .max(Comparator.comparing(LogTailer::modified).thenComparing(Path::toString));
    }
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }

  static final int HEAD = 128;

  private static byte[] head(Path file, long size) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate((int) Math.min(HEAD, size));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (bytes.hasRemaining() && ch.read(bytes, bytes.position()) > 0) {
        // a few bytes; the loop only covers a short read
      }
    }
    return java.util.Arrays.copyOf(bytes.array(), bytes.position());
  }

  private List<LogLine> readFrom(Path file, boolean live) throws IOException {
    BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
    Object key = attrs.fileKey();
    long size = attrs.size();
    boolean first = offset < 0;
    byte[] nowHead = head(file, size);
    if (first) {
      offset = Math.max(0, size - BACKLOG);
    } else if (size < offset || (currentKey != null && key != null && !Objects.equals(key, currentKey))
        || !java.util.Arrays.equals(nowHead, 0, Math.min(head.length, nowHead.length), head, 0,
            Math.min(head.length, nowHead.length))) {
      offset = 0; // truncated on rotation, or replaced (a new inode, or the same one reused): the file is new
      parser.reset();
    }
    if (live) {
      currentKey = key;
      head = nowHead;
    }
    if (size <= offset) {
      return List.of();
    }
    int length = (int) Math.min(CHUNK, size - offset);
    ByteBuffer bytes = ByteBuffer.allocate(length);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (bytes.hasRemaining() && ch.read(bytes, offset + bytes.position()) > 0) {
        // read until the chunk is full or the file ends
      }
    }
    byte[] data = bytes.array();
    int end = bytes.position();
    int lastNewline = end - 1;
    while (lastNewline >= 0 && data[lastNewline] != '\n') {
      lastNewline--;
    }
    if (lastNewline < 0) {
      if (end == CHUNK) {
        offset += end; // a line longer than a chunk: skipped, so the tail never stalls behind it
        parser.reset();
      }
      return List.of();
    }
    String text = new String(data, 0, lastNewline + 1, StandardCharsets.UTF_8);
    long startedAt = offset;
    offset += lastNewline + 1;
    if (first && startedAt > 0) {
      Matcher m = RECORD_START.matcher(text);
      // the backlog starts mid-file: skip to the first line that starts a record
      text = m.find(1) ? text.substring(m.start()) : "";
    }
    return parser.feed(text);
  }
}
