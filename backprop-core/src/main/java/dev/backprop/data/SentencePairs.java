package dev.backprop.data;

import dev.backprop.data.TextFiles.InvalidUtf8;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Sentence pairs (a source sentence and its translation) from a tab-separated file, one pair per
 * line, such as Tatoeba's {@code eng<TAB>deu} exports:
 *
 * <pre>{@code
 * SentencePairs pairs = SentencePairs.read(Path.of("tatoeba-eng-deu-50k.tsv"));
 * if (pairs.skipped() > 0) log.warn(pairs.warning());
 * HoldOut.Split<SentencePairs.Pair> split = pairs.split(0.05, 42);     // about 5% held out
 * }</pre>
 *
 * <h2>Format</h2>
 *
 * UTF-8 (a leading byte order mark is ignored), lines ending in LF or CRLF, columns separated by
 * tabs; the source and target columns are chosen by index (0 and 1 by default), so files with
 * more columns (ids, attribution) work too. No quoting: a tab always separates. Each field is
 * stripped of surrounding whitespace.
 *
 * <h2>Bad lines</h2>
 *
 * Lines that cannot give a pair are skipped and counted, not fatal: an empty (or blank) line, a
 * line without a tab, a line with too few columns, a line whose source or target is empty. The
 * first few are kept with their line numbers and reasons for {@link #warning()}. Invalid UTF-8 is
 * an error naming the line and byte offset, or is replaced and counted
 * ({@link InvalidUtf8#REPLACE}). An empty file, or one without a single pair, is an error.
 */
public final class SentencePairs {
    /**
     * One pair.
     *
     * @param source the source sentence
     * @param target its translation
     * @param line the 1-based line of the file it came from
     */
    public record Pair(String source, String target, long line) {}

    /**
     * A skipped line.
     *
     * @param line the 1-based line number
     * @param reason why: "empty line", "no tab", "2 columns, expected at least 3", "empty source",
     *     "empty target"
     */
    public record Skipped(long line, String reason) {}

    /**
     * How to read the file.
     *
     * @param sourceColumn the 0-based column of the source sentence
     * @param targetColumn the 0-based column of the target sentence
     * @param invalidUtf8 what to do with invalid UTF-8
     */
    public record Options(int sourceColumn, int targetColumn, InvalidUtf8 invalidUtf8) {
        /** Columns 0 and 1, invalid UTF-8 an error. */
        public static final Options DEFAULT = new Options(0, 1, InvalidUtf8.FAIL);

        /**
         * Checks the columns.
         *
         * @throws IllegalArgumentException if a column is negative or both are the same
         */
        public Options {
            if (sourceColumn < 0 || targetColumn < 0 || sourceColumn == targetColumn) {
                throw new IllegalArgumentException("expected two different columns at least 0, got source "
                        + sourceColumn + " and target " + targetColumn);
            }
            Objects.requireNonNull(invalidUtf8, "invalidUtf8");
        }

        /** These options with other columns. */
        public Options withColumns(int source, int target) {
            return new Options(source, target, invalidUtf8);
        }

        /** These options with another way to handle invalid UTF-8. */
        public Options withInvalidUtf8(InvalidUtf8 mode) {
            return new Options(sourceColumn, targetColumn, mode);
        }
    }

    private final String source;
    private final List<Pair> pairs;
    private final int lines;
    private final int skipped;
    private final List<Skipped> firstSkipped;
    private final TextFiles.Content content;

    private SentencePairs(String source, List<Pair> pairs, int lines, int skipped, List<Skipped> firstSkipped,
            TextFiles.Content content) {
        this.source = source;
        this.pairs = List.copyOf(pairs);
        this.lines = lines;
        this.skipped = skipped;
        this.firstSkipped = List.copyOf(firstSkipped);
        this.content = content;
    }

    /** Reads columns 0 and 1; invalid UTF-8 is an error. */
    public static SentencePairs read(Path file) {
        return read(file, Options.DEFAULT);
    }

    /**
     * Reads a file (see the class comment).
     *
     * @throws DataException if the file is missing, empty, not valid UTF-8 (with
     *     {@link InvalidUtf8#FAIL}), or has no line that gives a pair
     */
    public static SentencePairs read(Path file, Options options) {
        String source = file.toString();
        TextFiles.Content content = TextFiles.read(file, options.invalidUtf8());
        List<String> lines = TextFiles.lines(content.text());
        int needed = Math.max(options.sourceColumn(), options.targetColumn()) + 1;
        List<Pair> pairs = new ArrayList<>(lines.size());
        List<Skipped> firstSkipped = new ArrayList<>();
        int skipped = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String reason = null;
            String[] fields = line.split("\t", -1);
            if (line.isBlank()) {
                reason = "empty line";
            } else if (fields.length == 1) {
                reason = "no tab";
            } else if (fields.length < needed) {
                reason = fields.length + " columns, expected at least " + needed;
            } else if (fields[options.sourceColumn()].isBlank()) {
                reason = "empty source";
            } else if (fields[options.targetColumn()].isBlank()) {
                reason = "empty target";
            }
            if (reason != null) {
                if (skipped++ < TextFiles.LINES_KEPT) {
                    firstSkipped.add(new Skipped(i + 1, reason));
                }
                continue;
            }
            pairs.add(new Pair(fields[options.sourceColumn()].strip(), fields[options.targetColumn()].strip(), i + 1));
        }
        if (pairs.isEmpty()) {
            throw new DataException(source, "no sentence pair in " + lines.size() + " lines; expected lines of"
                    + " source<TAB>target" + (firstSkipped.isEmpty() ? "" : " (skipped: " + describe(firstSkipped,
                    skipped) + ")"));
        }
        return new SentencePairs(source, pairs, lines.size(), skipped, firstSkipped, content);
    }

    private static String describe(List<Skipped> first, int total) {
        List<String> items = new ArrayList<>();
        for (Skipped s : first) {
            items.add("line " + s.line() + " (" + s.reason() + ")");
        }
        return String.join(", ", items) + (total > first.size() ? ", ..." : "");
    }

    /** The pairs, in file order. */
    public List<Pair> pairs() {
        return pairs;
    }

    /** The number of pairs. */
    public int size() {
        return pairs.size();
    }

    /** The source sentences, in file order. */
    public List<String> sources() {
        return pairs.stream().map(Pair::source).toList();
    }

    /** The target sentences, in file order. */
    public List<String> targets() {
        return pairs.stream().map(Pair::target).toList();
    }

    /** The number of lines of the file. */
    public int lines() {
        return lines;
    }

    /** The number of skipped lines. */
    public int skipped() {
        return skipped;
    }

    /** The first few skipped lines, with their reasons. */
    public List<Skipped> firstSkipped() {
        return firstSkipped;
    }

    /** The number of invalid UTF-8 sequences replaced by U+FFFD (0 unless reading with REPLACE). */
    public int invalidUtf8Replaced() {
        return content.replaced();
    }

    /**
     * A one-line warning about skipped lines and replaced bytes, or {@code ""} when there is
     * nothing to say: {@code data.tsv: skipped 2 of 1,000 lines: line 4 (empty line), line 9 (no tab)}.
     */
    public String warning() {
        List<String> parts = new ArrayList<>();
        if (skipped > 0) {
            parts.add(String.format("skipped %,d of %,d lines: %s", skipped, lines, describe(firstSkipped, skipped)));
        }
        String replaced = TextFiles.replacedWarning(content);
        if (replaced != null) {
            parts.add(replaced);
        }
        return parts.isEmpty() ? "" : source + ": " + String.join("; ", parts);
    }

    /**
     * A reproducible hold-out split by the source sentence ({@link HoldOut}): all translations of
     * one source sentence land on the same side, so the test set never has a source sentence seen
     * in training.
     *
     * @param testFraction the expected share of the test side, in [0, 1]
     */
    public HoldOut.Split<Pair> split(double testFraction, long seed) {
        return HoldOut.split(pairs, Pair::source, testFraction, seed);
    }

    @Override
    public String toString() {
        return "SentencePairs(" + source + ": " + pairs.size() + " pairs, " + skipped + " lines skipped)";
    }
}
