package dev.backprop.onnx;

/**
 * An ONNX file (or a protobuf message inside it) is malformed, truncated, or describes something
 * backprop cannot import: the message names the file, the place (byte offset, node, initializer)
 * when there is one, what was expected and what was found.
 *
 * <p>Unchecked, like {@link dev.backprop.io.SafeTensorsException}: a corrupt model file is a
 * problem with the data, and there is nothing to retry.
 */
public final class OnnxFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A problem described by {@code message}. */
    public OnnxFormatException(String message) {
        super(message);
    }

    /** A problem described by {@code message}, caused by {@code cause}. */
    public OnnxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
