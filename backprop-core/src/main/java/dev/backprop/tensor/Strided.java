package dev.backprop.tensor;

/**
 * Copies between strided layouts, for any element type. The innermost dimension is a plain loop
 * so that the JIT can unroll it; outer dimensions are walked with an index counter.
 */
final class Strided {
    private Strided() {}

    /** Copies {@code shape} elements read at (srcOffset, srcStrides) into a fresh contiguous array. */
    static Object toContiguous(DType dtype, Object src, int srcOffset, int[] srcStrides, int[] shape) {
        int n = Shape.numel(shape);
        MemoryBudget.checkTensor(dtype, n, shape);
        Object dst = allocate(dtype, n);
        copy(src, srcOffset, srcStrides, dst, 0, Shape.contiguousStrides(shape), shape);
        return dst;
    }

    static Object allocate(DType dtype, int n) {
        return switch (dtype) {
            case FLOAT32 -> new float[n];
            case INT64 -> new long[n];
            case BOOL -> new boolean[n];
            case UINT8 -> new byte[n];
        };
    }

    /** Copies elements of {@code shape} from one strided view into another (same element type). */
    static void copy(Object src, int srcOffset, int[] srcStrides, Object dst, int dstOffset, int[] dstStrides,
            int[] shape) {
        int rank = shape.length;
        if (Shape.numel(shape) == 0) {
            return;
        }
        if (rank == 0) {
            System.arraycopy(src, srcOffset, dst, dstOffset, 1);
            return;
        }
        int inner = shape[rank - 1];
        int si = srcStrides[rank - 1];
        int di = dstStrides[rank - 1];
        int[] idx = new int[rank];
        int s = srcOffset;
        int d = dstOffset;
        while (true) {
            copyRow(src, s, si, dst, d, di, inner);
            int k = rank - 2;
            while (k >= 0) {
                idx[k]++;
                s += srcStrides[k];
                d += dstStrides[k];
                if (idx[k] < shape[k]) {
                    break;
                }
                s -= srcStrides[k] * shape[k];
                d -= dstStrides[k] * shape[k];
                idx[k] = 0;
                k--;
            }
            if (k < 0) {
                return;
            }
        }
    }

    private static void copyRow(Object src, int s, int si, Object dst, int d, int di, int n) {
        if (si == 1 && di == 1) {
            System.arraycopy(src, s, dst, d, n);
            return;
        }
        switch (src) {
            case float[] a -> {
                float[] b = (float[]) dst;
                for (int i = 0; i < n; i++) {
                    b[d + i * di] = a[s + i * si];
                }
            }
            case long[] a -> {
                long[] b = (long[]) dst;
                for (int i = 0; i < n; i++) {
                    b[d + i * di] = a[s + i * si];
                }
            }
            case boolean[] a -> {
                boolean[] b = (boolean[]) dst;
                for (int i = 0; i < n; i++) {
                    b[d + i * di] = a[s + i * si];
                }
            }
            case byte[] a -> {
                byte[] b = (byte[]) dst;
                for (int i = 0; i < n; i++) {
                    b[d + i * di] = a[s + i * si];
                }
            }
            default -> throw new IllegalStateException("unknown storage " + src.getClass());
        }
    }
}
