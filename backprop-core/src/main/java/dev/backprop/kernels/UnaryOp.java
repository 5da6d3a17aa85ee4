package dev.backprop.kernels;

/**
 * The elementwise functions that have array kernels ({@link Kernels#unary},
 * {@link Kernels#unaryBackward}). {@code p} and {@code q} are a function's scalar parameters; the
 * formulas of each value and derivative are those of {@link ScalarElementwise}, the reference.
 */
public enum UnaryOp {
    /** y = max(x, 0);  dx = dy · [x > 0] */
    RELU,
    /** y = x > 0 ? x : p·x;  dx = dy · (x > 0 ? 1 : p) */
    LEAKY_RELU,
    /** y = exp(x);  dx = dy · y */
    EXP,
    /** y = ln(x);  dx = dy / x */
    LOG,
    /** y = tanh(x);  dx = dy · (1 − y²) */
    TANH,
    /** y = 1 / (1 + exp(−x));  dx = dy · y (1 − y) */
    SIGMOID,
    /** y = x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)));  dx = dy · (½(1 + t) + ½ x (1 − t²) u') */
    GELU_TANH,
    /** y = x · sigmoid(x);  dx = dy · s (1 + x (1 − s)) */
    SILU,
    /** y = −x;  dx = −dy */
    NEG,
    /** y = p·x + q;  dx = p · dy */
    AFFINE,
    /** y = √x;  dx = dy / (2y) */
    SQRT,
    /** y = |x|;  dx = dy · sign(x) */
    ABS
}
