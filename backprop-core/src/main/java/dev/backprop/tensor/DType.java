package dev.backprop.tensor;

/**
 * Element types a {@link Tensor} can hold. Gradients flow only through {@link #FLOAT32}.
 *
 * <p>Java arrays back each type: {@code float[]}, {@code long[]} (int64 semantics, used for class
 * targets and indices), {@code boolean[]} (masks and comparison results) and {@code byte[]}
 * (uint8; values 0..255, accepted wherever a mask is, nonzero meaning true).
 */
public enum DType {
    FLOAT32("float32", 4),
    INT64("int64", 8),
    BOOL("bool", 1),
    UINT8("uint8", 1);

    private final String torchName;
    private final int byteSize;

    DType(String torchName, int byteSize) {
        this.torchName = torchName;
        this.byteSize = byteSize;
    }

    /** The name PyTorch prints for this type, for example {@code float32}. */
    public String torchName() {
        return torchName;
    }

    /** Bytes per element in a binary file. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the types that can be used as a mask ({@code bool}, {@code uint8}). */
    public boolean isMask() {
        return this == BOOL || this == UINT8;
    }
}
