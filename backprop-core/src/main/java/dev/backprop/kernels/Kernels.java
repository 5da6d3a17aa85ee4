package dev.backprop.kernels;

/**
 * Array-level math kernels on {@code float[]} plus offsets, kept apart from autograd. There is a
 * plain scalar implementation ({@link ScalarKernels}), the readable reference; faster
 * implementations slot in behind this interface and are chosen once at start-up.
 *
 * <p>Matrices are row-major: element (i, j) of an r×c matrix with leading dimension {@code ld}
 * lies at {@code off + i * ld + j}.
 */
public interface Kernels {

    /**
     * {@code C = op(A) · op(B)} (or {@code C += ...} when {@code accumulate}), where op(A) is m×k
     * and op(B) is k×n. With {@code transA}, A is stored k×m and read transposed; likewise B
     * (stored n×k) with {@code transB}. No transposed copy is made.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb,
              float[] c, int cOff, int ldc, boolean accumulate);

    /** The implementation in use. */
    static Kernels get() {
        return KernelsHolder.INSTANCE;
    }
}

final class KernelsHolder {
    static final Kernels INSTANCE = new ScalarKernels();

    private KernelsHolder() {}
}
