package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * y, i = max(x, dim);  dx = dy scattered to the position of each maximum (the first one on ties).
 * Over all elements, y = max(x);  dx = dy / k at each of the k positions equal to the maximum.
 * NaN propagates: a row holding NaN has maximum NaN at the first NaN.
 */
public final class Max extends Node {
    /** Values and int64 indices of a reduction over one dimension. */
    public record Result(Tensor values, Tensor indices) {}

    private final int dim;
    private final boolean keepdim;
    private Tensor indices;

    private Max(Tensor x, int dim, boolean keepdim, Tensor indices) {
        super("max", x);
        this.dim = dim;
        this.keepdim = keepdim;
        this.indices = indices;
    }

    public static Result apply(Tensor x, int dim, boolean keepdim) {
        x.requireType(DType.FLOAT32, "max");
        int[] shape = x.shape();
        if (shape.length == 0) {
            return new Result(x, Tensor.ofLongs(new long[] {0}));
        }
        int d = Shape.normalizeDim(dim, shape.length, "max");
        int n = shape[d];
        if (n == 0) {
            throw new IllegalArgumentException("max: cannot reduce over dimension " + d + " of size 0 in "
                    + Shape.str(shape));
        }
        Tensor xc = x.detach().contiguous();
        float[] v = xc.floatStorage();
        int base = xc.offset();
        int outer = 1;
        for (int i = 0; i < d; i++) {
            outer *= shape[i];
        }
        int inner = 1;
        for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        float[] vals = new float[outer * inner];
        long[] idx = new long[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                int p = base + o * n * inner + in;
                float best = v[p];
                int arg = 0;
                for (int k = 1; k < n && !Float.isNaN(best); k++) {
                    float c = v[p + k * inner];
                    if (c > best || Float.isNaN(c)) {
                        best = c;
                        arg = k;
                    }
                }
                vals[o * inner + in] = best;
                idx[o * inner + in] = arg;
            }
        }
        int[] kept = shape.clone();
        kept[d] = 1;
        int[] outShape = keepdim ? kept : Sum.squeezed(shape, mask(shape.length, d));
        Tensor indices = Tensor.ofLongs(idx, outShape);
        Tensor values = record("max", Tensor.of(vals, outShape),
                needsGrad(x) ? new Max(x, d, keepdim, indices) : null);
        return new Result(values, indices);
    }

    private static boolean[] mask(int rank, int d) {
        boolean[] m = new boolean[rank];
        m[d] = true;
        return m;
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        int[] shape = input(0).shape();
        Tensor g = keepdim ? dy : dy.unsqueeze(dim);
        Tensor idx = keepdim ? indices : indices.unsqueeze(dim);
        Tensor dx = Tensor.zeros(shape);
        Gather.scatterAdd(dx, dim, idx, g.contiguous());
        return new Tensor[] {dx};
    }

    @Override
    protected void release() {
        indices = null;
    }

    /** Maximum of all elements; the gradient is shared evenly among the elements equal to it. */
    public static Tensor all(Tensor x) {
        x.requireType(DType.FLOAT32, "max");
        if (x.numel() == 0) {
            throw new IllegalArgumentException("max: cannot reduce an empty tensor " + Shape.str(x.shape()));
        }
        float[] v = x.toFloatArray();
        float best = v[0];
        for (int i = 1; i < v.length && !Float.isNaN(best); i++) {
            if (v[i] > best || Float.isNaN(v[i])) {
                best = v[i];
            }
        }
        Tensor y = Tensor.scalar(best);
        return record("max", y, needsGrad(x) ? new MaxAll(x, best) : null);
    }

    /** y = max(x);  dx = dy / k where x == y (k such elements) */
    private static final class MaxAll extends Node {
        private final float max;

        MaxAll(Tensor x, float max) {
            super("max", x);
            this.max = max;
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            float[] v = input(0).toFloatArray();
            float g = dy.item();
            int count = 0;
            for (float f : v) {
                if (f == max || (Float.isNaN(f) && Float.isNaN(max))) {
                    count++;
                }
            }
            float[] dx = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                if (v[i] == max || (Float.isNaN(v[i]) && Float.isNaN(max))) {
                    dx[i] = g / count;
                }
            }
            return new Tensor[] {Tensor.of(dx, input(0).shape())};
        }
    }
}
