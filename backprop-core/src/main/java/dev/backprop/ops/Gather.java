package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * y[i][j][k] = x[i][index[i][j][k]][k] (for dim 1; likewise for other dims);
 * dx = zeros with dy added at the gathered positions (repeated indices accumulate).
 */
public final class Gather extends Node {
    private final int dim;
    private final Tensor index;

    private Gather(Tensor x, int dim, Tensor index) {
        super("gather", x);
        this.dim = dim;
        this.index = index;
    }

    public static Tensor apply(Tensor x, int dim, Tensor index) {
        x.requireType(DType.FLOAT32, "gather");
        index.requireType(DType.INT64, "gather (index)");
        int[] xs = x.shape();
        int[] is = index.shape();
        int d = Shape.normalizeDim(dim, xs.length, "gather");
        if (is.length != xs.length) {
            throw new IllegalArgumentException("gather: index has shape " + Shape.str(is) + " but the input has shape "
                    + Shape.str(xs) + "; they need the same number of dimensions");
        }
        for (int k = 0; k < xs.length; k++) {
            if (k != d && is[k] > xs[k]) {
                throw new IllegalArgumentException("gather: index shape " + Shape.str(is) + " is larger than input shape "
                        + Shape.str(xs) + " at dimension " + k);
            }
        }
        long[] idx = index.toLongArray();
        checkRange(idx, xs[d], "gather", d);
        float[] out = new float[idx.length];
        float[] xv = x.floatStorage();
        int[] positions = storagePositions(x, d, idx, is);
        for (int e = 0; e < idx.length; e++) {
            out[e] = xv[positions[e]];
        }
        Tensor y = Tensor.of(out, is);
        return record("gather", y, needsGrad(x) ? new Gather(x, d, index) : null);
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = Tensor.zeros(input(0).shape());
        scatterAdd(dx, dim, index, dy.contiguous());
        return new Tensor[] {dx};
    }

    /** {@code target[... index[e] ...] += src[e]} along {@code dim}; target contiguous and fresh. */
    static void scatterAdd(Tensor target, int dim, Tensor index, Tensor src) {
        long[] idx = index.toLongArray();
        float[] sv = src.toFloatArray();
        float[] tv = target.floatStorage();
        int[] positions = storagePositions(target, dim, idx, index.shape());
        for (int e = 0; e < idx.length; e++) {
            tv[positions[e]] += sv[e];
        }
    }

    /** Storage position in {@code t} of each index element: its own coordinates, with idx[e] along {@code dim}. */
    private static int[] storagePositions(Tensor t, int dim, long[] idx, int[] indexShape) {
        int[] strides = t.strides();
        int[] positions = new int[idx.length];
        int[] pos = new int[indexShape.length];
        for (int e = 0; e < idx.length; e++) {
            int p = t.offset();
            for (int k = 0; k < indexShape.length; k++) {
                p += (k == dim ? (int) idx[e] : pos[k]) * strides[k];
            }
            positions[e] = p;
            increment(pos, indexShape);
        }
        return positions;
    }

    static void checkRange(long[] idx, int size, String op, int dim) {
        for (int e = 0; e < idx.length; e++) {
            long v = idx[e];
            if (v < 0 || v >= size) {
                throw new IndexOutOfBoundsException(op + ": index " + v + " (at position " + e + " of the index) is out "
                        + "of bounds for dimension " + dim + " with size " + size);
            }
        }
    }

    static void increment(int[] pos, int[] shape) {
        for (int k = pos.length - 1; k >= 0; k--) {
            if (++pos[k] < shape[k]) {
                return;
            }
            pos[k] = 0;
        }
    }
}
