package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/** y = x.index_select(dim, index);  dx = zeros with row index[i] of dy added at row i (repeats accumulate) */
public final class IndexSelect extends Node {
    private final int dim;
    private final long[] index;

    private IndexSelect(Tensor x, int dim, long[] index) {
        super("index_select", x);
        this.dim = dim;
        this.index = index;
    }

    public static Tensor apply(Tensor x, int dim, Tensor index) {
        index.requireType(DType.INT64, "index_select (index)");
        if (index.dim() > 1) {
            throw new IllegalArgumentException("index_select: the index must be 0-D or 1-D, got shape "
                    + Shape.str(index.shape()));
        }
        int d = Shape.normalizeDim(dim, x.dim(), "index_select");
        long[] idx = index.toLongArray();
        Gather.checkRange(idx, x.size(d), "index_select", d);
        int[] outShape = x.shape();
        outShape[d] = idx.length;
        Tensor out = Tensor.empty(x.dtype(), outShape);
        Tensor plainX = x.detach();
        Tensor plainOut = out.detach();
        for (int i = 0; i < idx.length; i++) {
            plainOut.slice(d, i, i + 1).copyFrom(plainX.slice(d, (int) idx[i], (int) idx[i] + 1));
        }
        boolean grad = x.dtype() == DType.FLOAT32 && needsGrad(x);
        return record("index_select", out, grad ? new IndexSelect(x, d, idx) : null);
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = Tensor.zeros(input(0).shape());
        for (int i = 0; i < index.length; i++) {
            int row = (int) index[i];
            dx.slice(dim, row, row + 1).addInPlace(dy.slice(dim, i, i + 1));
        }
        return new Tensor[] {dx};
    }
}
