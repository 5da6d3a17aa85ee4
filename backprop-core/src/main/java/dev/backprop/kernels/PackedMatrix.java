package dev.backprop.kernels;

/**
 * The right operand B (k×n) of many matrix products, prepared once by {@link Kernels#pack} and
 * used by {@link Kernels#gemm(boolean, int, float[], int, int, PackedMatrix, float[], int, int, boolean)}:
 * a recurrent layer multiplies by the same weight at every time step, and packing it once instead
 * of at every product saves a copy of the whole weight per step. It refers to the source array
 * (not copied) as well as holding the packed copy: changing the source afterwards is not seen by
 * the packed copy, so pack again after an update.
 */
public final class PackedMatrix {
    final boolean transposed;
    final int k;
    final int n;
    final float[] source;
    final int offset;
    final int ld;
    /** B in the layout of the kernel that packed it (null: products read {@link #source}). */
    final float[] packed;

    PackedMatrix(boolean transposed, int k, int n, float[] source, int offset, int ld, float[] packed) {
        this.transposed = transposed;
        this.k = k;
        this.n = n;
        this.source = source;
        this.offset = offset;
        this.ld = ld;
        this.packed = packed;
    }

    /** Rows of B (the products' inner dimension). */
    public int rows() {
        return k;
    }

    /** Columns of B. */
    public int cols() {
        return n;
    }
}
