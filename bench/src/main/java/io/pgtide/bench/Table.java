package io.pgtide.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A plain-text table printed to stdout and written to {@code bench/results/<name>.txt}. */
final class Table {
  private final String title;
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String title, String... header) {
    this.title = title;
    this.header = List.of(header);
  }

  void row(Object... cells) {
    List<String> r = new ArrayList<>();
    for (Object c : cells) {
      r.add(c instanceof Double d ? String.format(Locale.ROOT, "%.1f", d) : String.valueOf(c));
    }
    rows.add(r);
  }

  String render() {
    int[] w = new int[header.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = header.get(i).length();
      for (List<String> r : rows) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder(title).append('\n');
    line(sb, header, w);
    StringBuilder sep = new StringBuilder();
    for (int x : w) {
      sep.append("|").append("-".repeat(x + 2));
    }
    sb.append(sep).append("|\n");
    rows.forEach(r -> line(sb, r, w));
    return sb.toString();
  }

  private static void line(StringBuilder sb, List<String> cells, int[] w) {
    for (int i = 0; i < w.length; i++) {
      sb.append("| ").append(String.format("%-" + w[i] + "s", cells.get(i))).append(' ');
    }
    sb.append("|\n");
  }

  void print(String name) throws IOException {
    String text = render();
    System.out.println(text);
    Path dir = Path.of("bench", "results");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name + ".txt"), text);
  }
}
