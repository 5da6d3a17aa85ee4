package dev.backprop.kernels;

/** The elementwise operations of two arrays that have kernels ({@link Kernels#binary}). */
public enum BinaryOp {
    /** a + b */
    ADD,
    /** a − b */
    SUB,
    /** a · b */
    MUL,
    /** a / b */
    DIV;

    /** The operation on two floats: the reference of every kernel. */
    public float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
        };
    }
}
