package dev.backprop.data;

import dev.backprop.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Loads a numeric CSV file with a header line into a {@link TensorDataset}: one column is the
 * label (or regression target), every other column a float32 feature.
 *
 * <pre>{@code
 * Csv.Table train = Csv.classification(Path.of("train.csv"), "species");
 * Csv.Table test = Csv.readLike(Path.of("test.csv"), train);     // same columns, same class indices
 * Standardizer s = Standardizer.fit(train.dataset());              // fitted on the training data only
 * TensorDataset trainSet = s.apply(train.dataset()), testSet = s.apply(test.dataset());
 * }</pre>
 *
 * <h2>Format</h2>
 *
 * UTF-8, RFC 4180: fields separated by commas, records by CRLF or LF; a field may be enclosed in
 * double quotes, and then may contain commas, line breaks and doubled quotes ({@code ""}). Spaces
 * around a quoted field and around numbers are ignored, a leading byte order mark too, and so are
 * empty lines. The first record is the header (column names, spaces trimmed, no duplicates).
 *
 * <h2>Labels</h2>
 *
 * For classification the label cells may be any non-empty text; the distinct labels, sorted
 * (numerically when they are all numbers, as text otherwise), become classes 0, 1, 2, ... and
 * {@link Table#classes()} keeps the mapping. {@link #readLike} reads a validation or test file with
 * a training table's classes, and refuses a label that was not seen in training. For regression
 * the target is a float32 number.
 *
 * <h2>Errors</h2>
 *
 * Each problem is a {@link DataException} naming the file, the 1-based line number and the column:
 * a row with more or fewer fields than the header, a cell that is not a number, an empty cell, NaN
 * or an infinite value, a number outside the float32 range, broken quoting, invalid UTF-8, a
 * missing label column.
 */
public final class Csv {
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern NAN = Pattern.compile("(?i)[+-]?nan");
    private static final Pattern INFINITY = Pattern.compile("(?i)[+-]?(inf|infinity)");

    private Csv() {}

    /** What the label column holds. */
    public enum Task {
        /** Class labels, mapped to int64 class indices. */
        CLASSIFICATION,
        /** Real numbers, kept as float32 targets. */
        REGRESSION
    }

    /**
     * A loaded CSV file.
     *
     * @param dataset features (N, F) float32 and targets: (N) int64 class indices or (N) float32
     * @param features the names of the F feature columns, in order
     * @param target the name of the label column
     * @param task classification or regression
     * @param classes for classification, the label text of each class index; empty for regression
     */
    public record Table(TensorDataset dataset, List<String> features, String target, Task task, List<String> classes) {
        /** Copies the lists. */
        public Table {
            Objects.requireNonNull(dataset, "dataset");
            features = List.copyOf(features);
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(task, "task");
            classes = List.copyOf(classes);
        }

        /** Number of classes (0 for regression). */
        public int numClasses() {
            return classes.size();
        }
    }

    /**
     * Reads a classification table whose label column has this name.
     *
     * @throws DataException if the file is missing or malformed (see the class comment)
     */
    public static Table classification(Path file, String labelColumn) {
        return read(file, new ColumnRef(labelColumn, 0), Task.CLASSIFICATION, null);
    }

    /** Reads a classification table whose label column is at this 0-based index (negative: from the end). */
    public static Table classification(Path file, int labelColumn) {
        return read(file, new ColumnRef(null, labelColumn), Task.CLASSIFICATION, null);
    }

    /** Reads a regression table whose target column has this name. */
    public static Table regression(Path file, String targetColumn) {
        return read(file, new ColumnRef(targetColumn, 0), Task.REGRESSION, null);
    }

    /** Reads a regression table whose target column is at this 0-based index (negative: from the end). */
    public static Table regression(Path file, int targetColumn) {
        return read(file, new ColumnRef(null, targetColumn), Task.REGRESSION, null);
    }

    /**
     * Reads a file with the same layout as {@code like}, typically a validation or test file after
     * the training file: the same feature columns in the same order, the same label column, and
     * for classification the same class indices.
     *
     * @throws DataException if the columns differ, or a label is not one of {@code like}'s classes
     */
    public static Table readLike(Path file, Table like) {
        return read(file, new ColumnRef(like.target(), 0), like.task(), like);
    }

    private record ColumnRef(String name, int index) {}

    private static Table read(Path file, ColumnRef labelRef, Task task, Table like) {
        Objects.requireNonNull(file, "file");
        String source = file.toString();
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try (Reader reader = new BufferedReader(new InputStreamReader(Files.newInputStream(file), decoder), 1 << 16)) {
            return read(reader, source, labelRef, task, like);
        } catch (CharacterCodingException e) {
            // the reader decodes ahead of the parser, so find the exact place by a second pass
            long[] at = invalidUtf8(file);
            String where = at == null ? "" : " at byte offset " + at[0];
            throw new DataException(source, at == null ? 0 : at[1], null, "not valid UTF-8" + where
                    + "; save the file as UTF-8", e);
        } catch (NoSuchFileException e) {
            throw new DataException(source, "no such file", e);
        } catch (IOException e) {
            throw new DataException(source, "cannot read the file: " + e, e);
        }
    }

    private static Table read(Reader reader, String source, ColumnRef labelRef, Task task, Table like)
            throws IOException {
        RecordReader records = new RecordReader(reader, source);
        List<String> header = records.next();
        if (header == null) {
            throw new DataException(source, "the file is empty; expected a header line with the column names");
        }
        header.replaceAll(String::strip);
        records.columnNames(header);
        Map<String, Integer> byName = new HashMap<>();
        for (int j = 0; j < header.size(); j++) {
            Integer before = byName.put(header.get(j), j);
            if (before != null) {
                throw new DataException(source, 1, null, "the header names column \"" + header.get(j) + "\" twice"
                        + " (columns " + (before + 1) + " and " + (j + 1) + "); column names must be unique", null);
            }
        }
        int label = labelColumn(labelRef, header, byName, source);
        String labelName = header.get(label);
        List<String> featureNames = new ArrayList<>(header);
        featureNames.remove(label);
        if (like != null && !featureNames.equals(like.features())) {
            throw new DataException(source, 1, null, "expected the feature columns " + like.features()
                    + " (as in the training data) but the header has " + featureNames, null);
        }
        int width = header.size();
        int numFeatures = width - 1;
        if (numFeatures == 0) {
            throw new DataException(source, 1, null, "the only column is the label \"" + labelName
                    + "\"; there are no feature columns", null);
        }
        ClassIndex known = like != null && task == Task.CLASSIFICATION ? new ClassIndex(like.classes()) : null;

        int capacity = 64; // rows; doubled as needed
        float[] features = new float[capacity * numFeatures];
        float[] values = new float[capacity]; // regression targets
        long[] classIds = new long[capacity]; // classification: class indices, once known
        List<String> labels = new ArrayList<>(); // classification: label text, while the classes are not known
        int rows = 0;
        for (List<String> fields = records.next(); fields != null; fields = records.next()) {
            long line = records.recordLine();
            if (fields.size() != width) {
                throw new DataException(source, line, null, "expected " + width + " fields as in the header, found "
                        + fields.size() + (fields.size() < width ? " (a missing comma or value?)"
                                : " (an unquoted comma inside a value?)"), null);
            }
            if (rows == values.length) {
                int grown = Math.multiplyExact(rows, 2);
                features = Arrays.copyOf(features, Math.multiplyExact(grown, numFeatures));
                values = Arrays.copyOf(values, grown);
                classIds = Arrays.copyOf(classIds, grown);
            }
            int k = rows * numFeatures;
            for (int j = 0; j < width; j++) {
                if (j != label) {
                    features[k++] = number(fields.get(j), source, line, header.get(j));
                }
            }
            String cell = fields.get(label).strip();
            if (task == Task.REGRESSION) {
                values[rows] = number(cell, source, line, labelName);
            } else if (cell.isEmpty()) {
                throw new DataException(source, line, labelName, "empty label; every row needs a class label", null);
            } else if (known != null) {
                int id = known.indexOf(cell);
                if (id < 0) {
                    throw new DataException(source, line, labelName, "label \"" + cell + "\" is not one of the "
                            + known.size() + " classes of the training data: " + preview(like.classes()), null);
                }
                classIds[rows] = id;
            } else {
                labels.add(cell);
            }
            rows++;
        }
        if (rows == 0) {
            throw new DataException(source, "the file has a header but no data rows");
        }
        Tensor x = Tensor.of(Arrays.copyOf(features, rows * numFeatures), rows, numFeatures);
        if (task == Task.REGRESSION) {
            return new Table(new TensorDataset(x, Tensor.of(Arrays.copyOf(values, rows), rows)), featureNames,
                    labelName, task, List.of());
        }
        List<String> classes;
        if (known != null) {
            classes = like.classes();
        } else {
            classes = sortedClasses(labels);
            ClassIndex index = new ClassIndex(classes);
            for (int i = 0; i < rows; i++) {
                classIds[i] = index.indexOf(labels.get(i));
            }
        }
        return new Table(new TensorDataset(x, Tensor.ofLongs(Arrays.copyOf(classIds, rows), rows)), featureNames,
                labelName, task, classes);
    }

    /** The byte offset and line of the first invalid UTF-8 sequence in a file, or {@code null}. */
    private static long[] invalidUtf8(Path file) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.allocate(1 << 16);
        CharBuffer out = CharBuffer.allocate(1 << 16);
        long offset = 0;
        long line = 1;
        try (InputStream stream = Files.newInputStream(file)) {
            boolean eof = false;
            while (!eof) {
                int n = stream.read(in.array(), in.position(), in.remaining());
                eof = n < 0;
                in.position(in.position() + Math.max(n, 0));
                in.flip();
                while (true) {
                    int start = in.position();
                    CoderResult r = decoder.decode(in, out, eof);
                    for (int i = start; i < in.position(); i++) {
                        line += in.get(i) == '\n' ? 1 : 0;
                    }
                    offset += in.position() - start;
                    if (r.isError()) {
                        return new long[] {offset, line};
                    }
                    out.clear();
                    if (!r.isOverflow()) {
                        break;
                    }
                }
                in.compact();
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static int labelColumn(ColumnRef ref, List<String> header, Map<String, Integer> byName, String source) {
        if (ref.name() != null) {
            Integer j = byName.get(ref.name().strip());
            if (j == null) {
                throw new DataException(source, 1, null, "no column named \"" + ref.name() + "\"; the columns are "
                        + preview(header), null);
            }
            return j;
        }
        int n = header.size();
        int j = ref.index() < 0 ? ref.index() + n : ref.index();
        if (j < 0 || j >= n) {
            throw new DataException(source, 1, null, "label column index " + ref.index() + " is out of range: the"
                    + " header has " + n + " columns (0.." + (n - 1) + ", or -1 for the last)", null);
        }
        return j;
    }

    /** The distinct labels in sorted order: by value when all are numbers, as text otherwise. */
    private static List<String> sortedClasses(List<String> labels) {
        boolean numeric = labels.stream().allMatch(s -> NUMBER.matcher(s).matches());
        if (numeric) {
            Map<Double, String> byValue = new TreeMap<>(); // first spelling of each value
            for (String s : labels) {
                byValue.putIfAbsent(Double.parseDouble(s), s);
            }
            return List.copyOf(byValue.values());
        }
        return labels.stream().distinct().sorted(Comparator.naturalOrder()).toList();
    }

    /** Label text to class index: exact text, or the same numeric value when all classes are numbers. */
    private static final class ClassIndex {
        private final Map<String, Integer> exact = new HashMap<>();
        private final Map<Double, Integer> byValue; // null unless every class is a number

        ClassIndex(List<String> classes) {
            boolean numeric = !classes.isEmpty();
            for (int i = 0; i < classes.size(); i++) {
                exact.put(classes.get(i), i);
                numeric &= NUMBER.matcher(classes.get(i)).matches();
            }
            if (numeric) {
                byValue = new HashMap<>();
                for (int i = 0; i < classes.size(); i++) {
                    byValue.putIfAbsent(Double.parseDouble(classes.get(i)), i);
                }
            } else {
                byValue = null;
            }
        }

        int size() {
            return exact.size();
        }

        int indexOf(String label) {
            Integer i = exact.get(label);
            if (i == null && byValue != null && NUMBER.matcher(label).matches()) {
                i = byValue.get(Double.parseDouble(label));
            }
            return i == null ? -1 : i;
        }
    }

    /** Parses a numeric cell, or fails naming the line and column. */
    private static float number(String raw, String source, long line, String column) {
        String cell = raw.strip();
        if (NUMBER.matcher(cell).matches()) {
            double v = Double.parseDouble(cell);
            float f = (float) v;
            if (Float.isInfinite(f)) {
                throw new DataException(source, line, column, cell + " is outside the float32 range (about 3.4e38)",
                        null);
            }
            return f;
        }
        String detail;
        if (cell.isEmpty()) {
            detail = "empty cell; missing values are not supported: fill them in or drop the row";
        } else if (NAN.matcher(cell).matches()) {
            detail = "NaN is not allowed (a missing value?): fill it in or drop the row";
        } else if (INFINITY.matcher(cell).matches()) {
            detail = "an infinite value (" + cell + ") is not allowed";
        } else {
            detail = "expected a number, found \"" + (cell.length() > 40 ? cell.substring(0, 40) + "..." : cell)
                    + "\"";
        }
        throw new DataException(source, line, column, detail, null);
    }

    private static String preview(List<String> names) {
        List<String> shown = names.size() > 20 ? names.subList(0, 20) : names;
        return String.join(", ", shown.stream().map(s -> "\"" + s + "\"").toList())
                + (names.size() > 20 ? ", ... (" + names.size() + " in all)" : "");
    }

    /** RFC 4180 records, with the line each one starts on. */
    static final class RecordReader {
        private final Reader in;
        private final String source;
        private final StringBuilder field = new StringBuilder();
        private long line = 1; // the line of the next character
        private long recordLine;
        private int pushedBack = NONE;
        private boolean started;
        private List<String> columnNames = List.of(); // for messages, once the header is read

        private static final int NONE = -2;

        RecordReader(Reader in, String source) {
            this.in = in;
            this.source = source;
        }

        void columnNames(List<String> names) {
            columnNames = List.copyOf(names);
        }

        /** "field 3 (\"age\")" for messages; fields are numbered from 1. */
        private String describeField(int number) {
            String name = number <= columnNames.size() ? " (\"" + columnNames.get(number - 1) + "\")" : "";
            return "field " + number + name;
        }

        /** The 1-based line on which the last record returned by {@link #next()} starts. */
        long recordLine() {
            return recordLine;
        }

        private int read() throws IOException {
            if (pushedBack != NONE) {
                int c = pushedBack;
                pushedBack = NONE;
                return c;
            }
            int c = in.read(); // invalid UTF-8 throws CharacterCodingException, located by Csv.read(Path, ...)
            if (!started) {
                started = true;
                if (c == '\uFEFF') {
                    c = in.read();
                }
            }
            return c;
        }

        /** Consumes a line break whose first character {@code c} was just read. */
        private void lineBreak(int c) throws IOException {
            if (c == '\r') {
                int d = read();
                if (d != '\n') {
                    pushedBack = d;
                }
            }
            line++;
        }

        /** The next non-empty record's fields, or {@code null} at the end of the input. */
        List<String> next() throws IOException {
            int c = read();
            while (c == '\r' || c == '\n') { // empty lines
                lineBreak(c);
                c = read();
            }
            if (c == -1) {
                return null;
            }
            recordLine = line;
            List<String> fields = new ArrayList<>();
            field.setLength(0);
            while (true) {
                if (c == -1 || c == '\r' || c == '\n') {
                    fields.add(field.toString());
                    if (c != -1) {
                        lineBreak(c);
                    }
                    return fields;
                }
                if (c == ',') {
                    fields.add(field.toString());
                    field.setLength(0);
                    c = read();
                } else if (c == '"') {
                    if (!field.toString().isBlank()) {
                        throw new DataException(source, line, null, "a quote inside unquoted "
                                + describeField(fields.size() + 1) + ": " + field + "\"...; enclose the whole field in"
                                + " quotes and double the quotes inside it", null);
                    }
                    c = quoted(fields.size() + 1);
                } else {
                    field.append((char) c);
                    c = read();
                }
            }
        }

        /** Reads a quoted field after its opening quote; returns the first character after it. */
        private int quoted(int fieldNumber) throws IOException {
            long opened = line;
            field.setLength(0);
            while (true) {
                int c = read();
                if (c == -1) {
                    throw new DataException(source, opened, null, "the quoted " + describeField(fieldNumber)
                            + " opened on line " + opened + " is never closed", null);
                }
                if (c == '"') {
                    int d = read();
                    if (d != '"') {
                        while (d == ' ' || d == '\t') {
                            d = read();
                        }
                        if (d != ',' && d != '\r' && d != '\n' && d != -1) {
                            throw new DataException(source, line, null, "unexpected character '" + (char) d
                                    + "' after the closing quote of " + describeField(fieldNumber)
                                    + "; expected a comma or the end of the line", null);
                        }
                        return d;
                    }
                    field.append('"');
                } else {
                    field.append((char) c);
                    if (c == '\n') {
                        line++;
                    } else if (c == '\r') {
                        int d = read();
                        if (d == '\n') {
                            field.append('\n');
                        } else {
                            pushedBack = d;
                        }
                        line++;
                    }
                }
            }
        }
    }
}
