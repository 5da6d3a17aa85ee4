package dev.backprop.data;

import dev.backprop.data.TextFiles.InvalidUtf8;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Labelled texts (a text and its class) from a CSV file with a header, for text classification,
 * such as banking77's {@code text,category}:
 *
 * <pre>{@code
 * var options = LabeledTexts.Options.of("text", "category");
 * LabeledTexts train = LabeledTexts.read(Path.of("banking77-train.csv"), options);
 * LabeledTexts test = LabeledTexts.readLike(Path.of("banking77-test.csv"), train, options);
 * train.classes();        // the sorted labels of the training file: class i is classes().get(i)
 * test.labelTensor();     // (N) int64 class indices, with the training file's numbering
 * }</pre>
 *
 * <h2>Format</h2>
 *
 * UTF-8 CSV as {@link Csv} reads it (RFC 4180: quoted fields may hold commas, line breaks and
 * doubled quotes; a byte order mark and empty lines are ignored), with a header naming the text
 * and the label columns; other columns are ignored. Texts are kept as they are; labels are
 * stripped of surrounding whitespace.
 *
 * <h2>Labels</h2>
 *
 * {@link #read} numbers the distinct labels of the file in sorted order (numerically when they are
 * all integers, by code point otherwise): 0, 1, 2, ... {@link #readLike} reads a test or
 * validation file with those classes. A label it has never seen is handled as the options say:
 * <ul>
 *   <li>{@link UnknownLabels#FAIL} (the default): a {@link DataException} naming the file, the
 *       line, the label and the known classes, since a class the model was never trained on
 *       usually means the wrong file or a renamed class;
 *   <li>{@link UnknownLabels#SKIP}: the row is left out and counted ({@link #skipped()},
 *       {@link #warning()}), for a test set that deliberately holds classes outside training.
 * </ul>
 *
 * <h2>Bad rows</h2>
 *
 * A row with an empty (or blank) text or label is skipped and counted. A row with a different
 * number of fields than the header, or broken quoting, is an error naming the line (the quoting
 * of the rest of the file cannot be trusted). Invalid UTF-8 is an error naming the line and byte
 * offset, or is replaced and counted ({@link InvalidUtf8#REPLACE}). An empty file, a file with
 * only a header, or one whose rows are all skipped is an error.
 */
public final class LabeledTexts {
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d{1,18}");

    /** What to do with a label that is not one of the known classes (see the class comment). */
    public enum UnknownLabels {
        /** Stop with a {@link DataException}. */
        FAIL,
        /** Leave the row out and count it. */
        SKIP
    }

    /**
     * How to read the file.
     *
     * @param textColumn the header name of the text column
     * @param labelColumn the header name of the label column
     * @param unknownLabels what {@link #readLike} does with a label not seen in training
     * @param invalidUtf8 what to do with invalid UTF-8
     */
    public record Options(String textColumn, String labelColumn, UnknownLabels unknownLabels, InvalidUtf8 invalidUtf8) {
        /** Columns {@code text} and {@code label}; unknown labels and invalid UTF-8 are errors. */
        public static final Options DEFAULT = new Options("text", "label", UnknownLabels.FAIL, InvalidUtf8.FAIL);

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException if the column names are equal
         */
        public Options {
            Objects.requireNonNull(textColumn, "textColumn");
            Objects.requireNonNull(labelColumn, "labelColumn");
            Objects.requireNonNull(unknownLabels, "unknownLabels");
            Objects.requireNonNull(invalidUtf8, "invalidUtf8");
            if (textColumn.strip().equals(labelColumn.strip())) {
                throw new IllegalArgumentException("the text and label columns are both \"" + textColumn + "\"");
            }
        }

        /** The default options with these column names. */
        public static Options of(String textColumn, String labelColumn) {
            return new Options(textColumn, labelColumn, UnknownLabels.FAIL, InvalidUtf8.FAIL);
        }

        /** These options with another way to handle unknown labels. */
        public Options withUnknownLabels(UnknownLabels value) {
            return new Options(textColumn, labelColumn, value, invalidUtf8);
        }

        /** These options with another way to handle invalid UTF-8. */
        public Options withInvalidUtf8(InvalidUtf8 value) {
            return new Options(textColumn, labelColumn, unknownLabels, value);
        }
    }

    /**
     * A skipped row.
     *
     * @param line the 1-based line the row starts on
     * @param reason why: "empty text", "empty label", "unknown label \"x\""
     */
    public record Skipped(long line, String reason) {}

    private final String source;
    private final List<String> texts;
    private final int[] labels;
    private final long[] lines;
    private final List<String> classes;
    private final int skipped;
    private final List<Skipped> firstSkipped;
    private final TextFiles.Content content;

    private LabeledTexts(String source, List<String> texts, int[] labels, long[] lines, List<String> classes,
            int skipped, List<Skipped> firstSkipped, TextFiles.Content content) {
        this.source = source;
        this.texts = List.copyOf(texts);
        this.labels = labels;
        this.lines = lines;
        this.classes = List.copyOf(classes);
        this.skipped = skipped;
        this.firstSkipped = List.copyOf(firstSkipped);
        this.content = content;
    }

    /**
     * Reads a training file: its distinct labels, sorted, become the classes.
     *
     * @throws DataException if the file is missing, empty or malformed (see the class comment)
     */
    public static LabeledTexts read(Path file, Options options) {
        return read(file, options, (List<String>) null);
    }

    /**
     * Reads a test or validation file with the classes of {@code training}; labels not among them
     * fail or are skipped as {@code options.unknownLabels()} says.
     *
     * @throws DataException if the file is missing, empty or malformed, or has an unknown label
     *     with {@link UnknownLabels#FAIL}
     */
    public static LabeledTexts readLike(Path file, LabeledTexts training, Options options) {
        return read(file, options, Objects.requireNonNull(training, "training").classes);
    }

    /**
     * Reads a test file with classes known without their training file, such as those saved with a
     * trained model: class i is {@code classes.get(i)}; other labels fail or are skipped as
     * {@link #readLike} does.
     *
     * @throws DataException as {@link #readLike}
     * @throws IllegalArgumentException if there are no classes or a class appears twice
     */
    public static LabeledTexts readWithClasses(Path file, List<String> classes, Options options) {
        Objects.requireNonNull(classes, "classes");
        if (classes.isEmpty() || classes.stream().distinct().count() != classes.size()) {
            throw new IllegalArgumentException("expected one or more distinct classes, got " + preview(classes));
        }
        return read(file, options, List.copyOf(classes));
    }

    private static LabeledTexts read(Path file, Options options, List<String> like) {
        String source = file.toString();
        TextFiles.Content content = TextFiles.read(file, options.invalidUtf8());
        Csv.RecordReader records = new Csv.RecordReader(new StringReader(content.text()), source);
        try {
            List<String> header = records.next();
            if (header == null) {
                throw new DataException(source, "the file has only empty lines; expected a header line with the column"
                        + " names, such as " + options.textColumn() + "," + options.labelColumn());
            }
            header.replaceAll(String::strip);
            records.columnNames(header);
            int textAt = column(header, options.textColumn(), source);
            int labelAt = column(header, options.labelColumn(), source);
            Map<String, Integer> known = new HashMap<>();
            if (like != null) {
                for (int i = 0; i < like.size(); i++) {
                    known.put(like.get(i), i);
                }
            }
            List<String> texts = new ArrayList<>();
            List<String> labelTexts = new ArrayList<>();
            List<Long> lines = new ArrayList<>();
            List<Skipped> firstSkipped = new ArrayList<>();
            int skipped = 0;
            int rows = 0;
            for (List<String> fields = records.next(); fields != null; fields = records.next()) {
                rows++;
                long line = records.recordLine();
                if (fields.size() != header.size()) {
                    throw new DataException(source, line, null, "expected " + header.size() + " fields as in the"
                            + " header, found " + fields.size() + (fields.size() > header.size() ? " (an unquoted"
                            + " comma inside the text? enclose such texts in double quotes)" : ""), null);
                }
                String text = fields.get(textAt);
                String label = fields.get(labelAt).strip();
                String reason = null;
                if (text.isBlank()) {
                    reason = "empty text";
                } else if (label.isEmpty()) {
                    reason = "empty label";
                } else if (like != null && !known.containsKey(label)) {
                    if (options.unknownLabels() == UnknownLabels.FAIL) {
                        throw new DataException(source, line, options.labelColumn(), "label \"" + label + "\" is not"
                                + " one of the " + like.size() + " classes of the training data ("
                                + preview(like) + "); fix the label, or read with UnknownLabels.SKIP to leave"
                                + " such rows out", null);
                    }
                    reason = "unknown label \"" + label + "\"";
                }
                if (reason != null) {
                    if (skipped++ < TextFiles.LINES_KEPT) {
                        firstSkipped.add(new Skipped(line, reason));
                    }
                    continue;
                }
                texts.add(text);
                labelTexts.add(label);
                lines.add(line);
            }
            if (rows == 0) {
                throw new DataException(source, "the file has a header but no data rows");
            }
            if (texts.isEmpty()) {
                throw new DataException(source, "all " + rows + " rows were skipped (first: "
                        + firstSkipped.getFirst().reason() + " on line " + firstSkipped.getFirst().line() + ")");
            }
            List<String> classes = like != null ? like : sortedClasses(labelTexts);
            if (like == null) {
                for (int i = 0; i < classes.size(); i++) {
                    known.put(classes.get(i), i);
                }
            }
            int[] labels = new int[texts.size()];
            long[] lineArray = new long[texts.size()];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = known.get(labelTexts.get(i));
                lineArray[i] = lines.get(i);
            }
            return new LabeledTexts(source, texts, labels, lineArray, classes, skipped, firstSkipped, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringReader does not fail
        }
    }

    private static int column(List<String> header, String name, String source) {
        int at = header.indexOf(name.strip());
        if (at < 0) {
            throw new DataException(source, 1, null, "no column named \"" + name + "\"; the header has " + preview(header)
                    + " (choose the columns with LabeledTexts.Options.of(textColumn, labelColumn))", null);
        }
        return at;
    }

    /** The distinct labels sorted: numerically when all are integers, by code point otherwise. */
    private static List<String> sortedClasses(List<String> labels) {
        if (labels.stream().allMatch(s -> INTEGER.matcher(s).matches())) {
            Map<Long, String> byValue = new TreeMap<>();
            for (String s : labels) {
                byValue.putIfAbsent(Long.parseLong(s), s);
            }
            if (byValue.size() == labels.stream().distinct().count()) { // no "1" and "01" both
                return List.copyOf(byValue.values());
            }
        }
        return labels.stream().distinct().sorted(Comparator.comparing((String s) -> s.codePoints().toArray(),
                java.util.Arrays::compare)).toList();
    }

    private static String preview(List<String> names) {
        List<String> shown = names.size() > 10 ? names.subList(0, 10) : names;
        return String.join(", ", shown.stream().map(s -> "\"" + s + "\"").toList())
                + (names.size() > 10 ? ", ... (" + names.size() + " in all)" : "");
    }

    /** The number of examples. */
    public int size() {
        return texts.size();
    }

    /** The texts, in file order. */
    public List<String> texts() {
        return texts;
    }

    /** The text of example i. */
    public String text(int i) {
        return texts.get(i);
    }

    /** The class index of example i. */
    public int label(int i) {
        return labels[i];
    }

    /** The class indices, in file order. */
    public int[] labels() {
        return labels.clone();
    }

    /** The class indices as an (N) int64 tensor. */
    public Tensor labelTensor() {
        long[] l = new long[labels.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels[i];
        }
        return Tensor.ofLongs(l, l.length);
    }

    /** The 1-based line on which example i starts. */
    public long line(int i) {
        return lines[i];
    }

    /** The classes: class i is {@code classes().get(i)}. */
    public List<String> classes() {
        return classes;
    }

    /** The number of classes. */
    public int numClasses() {
        return classes.size();
    }

    /** The number of skipped rows. */
    public int skipped() {
        return skipped;
    }

    /** The first few skipped rows, with their reasons. */
    public List<Skipped> firstSkipped() {
        return firstSkipped;
    }

    /** The number of invalid UTF-8 sequences replaced by U+FFFD (0 unless reading with REPLACE). */
    public int invalidUtf8Replaced() {
        return content.replaced();
    }

    /**
     * A one-line warning about skipped rows and replaced bytes, or {@code ""} when there is nothing
     * to say: {@code test.csv: skipped 2 rows: line 4 (empty text), line 9 (unknown label "x")}.
     */
    public String warning() {
        List<String> parts = new ArrayList<>();
        if (skipped > 0) {
            List<String> items = firstSkipped.stream().map(s -> "line " + s.line() + " (" + s.reason() + ")").toList();
            parts.add(String.format("skipped %,d rows: %s%s", skipped, String.join(", ", items),
                    skipped > items.size() ? ", ..." : ""));
        }
        String replaced = TextFiles.replacedWarning(content);
        if (replaced != null) {
            parts.add(replaced);
        }
        return parts.isEmpty() ? "" : source + ": " + String.join("; ", parts);
    }

    @Override
    public String toString() {
        return "LabeledTexts(" + source + ": " + texts.size() + " texts, " + classes.size() + " classes, " + skipped
                + " rows skipped)";
    }
}
