package dev.backprop.io;

/**
 * Thrown by {@link Json#parse(String)} when the text is not valid JSON (RFC 8259) or goes past one
 * of the parser's limits.
 *
 * <p>The message says what was expected, what was found and where, as a line, a column and a
 * 0-based character offset; {@link #offset()}, {@link #line()} and {@link #column()} give the same
 * position to code. When the input was bytes ({@link Json#parse(byte[])}) and they are not valid
 * UTF-8, the offset is a byte offset and line and column are {@code -1}.
 */
public final class JsonException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final long offset;
    private final int line;
    private final int column;

    JsonException(String message, long offset, int line, int column) {
        super(message);
        this.offset = offset;
        this.line = line;
        this.column = column;
    }

    /** 0-based offset of the problem in the input, in chars (bytes for a UTF-8 decoding error). */
    public long offset() {
        return offset;
    }

    /** 1-based line of the problem, or {@code -1} when unknown. */
    public int line() {
        return line;
    }

    /** 1-based column (in chars) of the problem, or {@code -1} when unknown. */
    public int column() {
        return column;
    }
}
