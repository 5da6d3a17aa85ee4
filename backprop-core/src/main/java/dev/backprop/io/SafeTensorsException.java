package dev.backprop.io;

/**
 * A safetensors input is malformed, or does not fit what this library can load.
 *
 * <p>Unchecked, like {@link IllegalArgumentException}: a corrupt or truncated file is a problem
 * with the data, not with the file system, and there is usually nothing to retry. Genuine I/O
 * failures (a missing file, a permission problem, a full disk) are reported separately as
 * {@link java.io.IOException} by {@link SafeTensors#read(java.nio.file.Path)} and
 * {@link SafeTensors#write(java.nio.file.Path, java.util.Map, java.util.Map)}.
 *
 * <p>The message names the input (the file path when reading a file), the tensor concerned when
 * there is one, what was expected and what was found.
 */
public final class SafeTensorsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String tensorName;

    SafeTensorsException(String source, String tensorName, String detail, Throwable cause) {
        super(format(source, tensorName, detail), cause);
        this.source = source;
        this.tensorName = tensorName;
    }

    private static String format(String source, String tensorName, String detail) {
        StringBuilder sb = new StringBuilder("safetensors ").append(source).append(": ");
        if (tensorName != null) {
            sb.append("tensor ").append(Json.quote(tensorName)).append(": ");
        }
        return sb.append(detail).toString();
    }

    /**
     * What was being read: {@code "file /path/to/model.safetensors"}, {@code "byte array"} or
     * {@code "ByteBuffer"}.
     */
    public String source() {
        return source;
    }

    /** The tensor the problem concerns, or {@code null} when it concerns the file as a whole. */
    public String tensorName() {
        return tensorName;
    }
}
