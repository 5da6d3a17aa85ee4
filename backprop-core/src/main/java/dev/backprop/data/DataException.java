package dev.backprop.data;

/**
 * A data file or data set is malformed, or does not fit what was asked of it: a bad magic number,
 * a truncated or lying IDX header, a ragged CSV row, a non-numeric cell, invalid UTF-8, a missing
 * data set, images and labels of different counts.
 *
 * <p>Unchecked, like {@link dev.backprop.io.SafeTensorsException}: a corrupt file is a problem with
 * the data, and there is nothing to retry. The loaders of this package also report an unreadable
 * or missing file this way (with the {@link java.io.IOException} as the cause), so that training
 * code has one exception to catch and one message to show.
 *
 * <p>The message names the source (usually the file path), the line and column when there are
 * ones, what was expected and what was found: {@code data.csv: line 7, column "age": expected a
 * number, found "n/a"}.
 */
public final class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final long line;
    private final String column;

    /**
     * A problem with a whole source.
     *
     * @param source what was being read, usually the file path
     * @param detail what is wrong: what was expected, what was found, what to do
     */
    public DataException(String source, String detail) {
        this(source, 0, null, detail, null);
    }

    /** A problem with a whole source, caused by {@code cause} (an I/O error, a decoder error). */
    public DataException(String source, String detail, Throwable cause) {
        this(source, 0, null, detail, cause);
    }

    /**
     * A problem at one place of a source.
     *
     * @param source what was being read, usually the file path
     * @param line the 1-based line number, or 0 when the problem is not on one line
     * @param column the column name, or {@code null} when the problem is not in one column
     * @param detail what is wrong
     * @param cause the underlying exception, or {@code null}
     */
    public DataException(String source, long line, String column, String detail, Throwable cause) {
        super(format(source, line, column, detail), cause);
        this.source = source;
        this.line = line;
        this.column = column;
    }

    private static String format(String source, long line, String column, String detail) {
        StringBuilder sb = new StringBuilder().append(source).append(": ");
        if (line > 0) {
            sb.append("line ").append(line).append(column == null ? ": " : ", ");
        }
        if (column != null) {
            sb.append("column \"").append(column).append("\": ");
        }
        return sb.append(detail).toString();
    }

    /** What was being read, usually the file path. */
    public String source() {
        return source;
    }

    /** The 1-based line number of the problem, or 0 when it is not on one line. */
    public long line() {
        return line;
    }

    /** The column the problem is in, or {@code null}. */
    public String column() {
        return column;
    }
}
