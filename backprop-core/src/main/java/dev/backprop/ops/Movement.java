package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * Views: ops that change how the storage is read without copying values (reshape of a
 * contiguous tensor, permute, slice, expand), plus {@code contiguous}. Each backward maps the
 * gradient back to the input's layout.
 */
public final class Movement {
    private Movement() {}

    /** y = reshape(x, s);  dx = reshape(dy, x.shape) */
    static final class Reshape extends Node {
        Reshape(Tensor x) {
            super("reshape", x);
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            return new Tensor[] {dy.reshape(input(0).shape())};
        }
    }

    /** y = permute(x, dims);  dx = permute(dy, inverse(dims)) */
    static final class Permute extends Node {
        private final int[] inverse;

        Permute(Tensor x, int[] inverse) {
            super("permute", x);
            this.inverse = inverse;
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            return new Tensor[] {dy.permute(inverse)};
        }
    }

    /** y = x[..., start:end:step, ...];  dx = zeros(x.shape) with dy written into that slice */
    static final class Slice extends Node {
        private final int dim;
        private final int start;
        private final int end;
        private final int step;

        Slice(Tensor x, int dim, int start, int end, int step) {
            super("slice", x);
            this.dim = dim;
            this.start = start;
            this.end = end;
            this.step = step;
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            Tensor dx = Tensor.zeros(input(0).shape());
            dx.slice(dim, start, end, step).copyFrom(dy);
            return new Tensor[] {dx};
        }
    }

    /** y = expand(x, s);  dx = sum of dy over the broadcast dimensions */
    static final class Expand extends Node {
        Expand(Tensor x) {
            super("expand", x);
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            return new Tensor[] {Sum.toShape(dy, input(0).shape())};
        }
    }

    /** y = contiguous copy of x;  dx = dy */
    static final class Contiguous extends Node {
        Contiguous(Tensor x) {
            super("contiguous", x);
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            return new Tensor[] {dy};
        }
    }

    /** A row-major copy of {@code x}, recorded so that gradients pass through. */
    public static Tensor contiguous(Tensor x) {
        return Node.record("contiguous", x.copy(), Node.needsGrad(x) ? new Contiguous(x) : null);
    }

    /** Reshape: a view when the layout allows one (always for contiguous tensors), otherwise a copy. */
    public static Tensor reshape(Tensor x, int[] shape) {
        int[] target = Shape.inferSize(shape, x.numel(), "reshape", x.shape());
        int[] strides = Shape.viewStrides(x.shape(), x.strides(), target);
        if (strides == null) {
            Tensor c = contiguous(x);
            return viewOf(c, target, Shape.contiguousStrides(target));
        }
        return viewOf(x, target, strides);
    }

    /** Like reshape, but refuses to copy. */
    public static Tensor view(Tensor x, int[] shape) {
        int[] target = Shape.inferSize(shape, x.numel(), "view", x.shape());
        int[] strides = Shape.viewStrides(x.shape(), x.strides(), target);
        if (strides == null) {
            throw new IllegalStateException("view: the tensor of shape " + Shape.str(x.shape()) + " with strides "
                    + Shape.str(x.strides()) + " cannot be viewed as " + Shape.str(target) + " without a copy (its "
                    + "dimensions are not laid out contiguously); use reshape(...), which copies when needed");
        }
        return viewOf(x, target, strides);
    }

    private static Tensor viewOf(Tensor x, int[] target, int[] strides) {
        if (Arrays.equals(target, x.shape())) {
            return x;
        }
        Tensor y = x.asStrided(target, strides, x.offset());
        return Node.record("reshape", y, Node.needsGrad(x) ? new Reshape(x) : null);
    }

    public static Tensor flatten(Tensor x, int startDim, int endDim) {
        int[] s = x.shape();
        if (s.length == 0) {
            return x.reshape(1);
        }
        int a = Shape.normalizeDim(startDim, s.length, "flatten");
        int b = Shape.normalizeDim(endDim, s.length, "flatten");
        if (a > b) {
            throw new IllegalArgumentException("flatten: startDim " + startDim + " comes after endDim " + endDim);
        }
        int[] out = new int[s.length - (b - a)];
        int k = 0;
        for (int i = 0; i < a; i++) {
            out[k++] = s[i];
        }
        int prod = 1;
        for (int i = a; i <= b; i++) {
            prod *= s[i];
        }
        out[k++] = prod;
        for (int i = b + 1; i < s.length; i++) {
            out[k++] = s[i];
        }
        return x.reshape(out);
    }

    public static Tensor permute(Tensor x, int[] dims) {
        int rank = x.dim();
        if (dims.length != rank) {
            throw new IllegalArgumentException("permute: got " + dims.length + " dimensions " + Arrays.toString(dims)
                    + " for a tensor of rank " + rank + " " + Shape.str(x.shape()));
        }
        int[] shape = x.shape();
        int[] strides = x.strides();
        int[] newShape = new int[rank];
        int[] newStrides = new int[rank];
        int[] inverse = new int[rank];
        boolean[] seen = new boolean[rank];
        boolean identity = true;
        for (int i = 0; i < rank; i++) {
            int d = Shape.normalizeDim(dims[i], rank, "permute");
            if (seen[d]) {
                throw new IllegalArgumentException("permute: dimension " + d + " repeats in " + Arrays.toString(dims));
            }
            seen[d] = true;
            newShape[i] = shape[d];
            newStrides[i] = strides[d];
            inverse[d] = i;
            identity &= d == i;
        }
        if (identity) {
            return x;
        }
        Tensor y = x.asStrided(newShape, newStrides, x.offset());
        return Node.record("permute", y, Node.needsGrad(x) ? new Permute(x, inverse) : null);
    }

    public static Tensor transpose(Tensor x, int dim0, int dim1) {
        int rank = x.dim();
        int a = Shape.normalizeDim(dim0, rank, "transpose");
        int b = Shape.normalizeDim(dim1, rank, "transpose");
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) {
            perm[i] = i;
        }
        if (rank > 0) {
            perm[a] = b;
            perm[b] = a;
        }
        return permute(x, perm);
    }

    /** Python-style slice: negative start/end count from the end and are clamped into range. */
    public static Tensor slice(Tensor x, int dim, int start, int end, int step) {
        int d = Shape.normalizeDim(dim, x.dim(), "slice");
        if (step <= 0) {
            throw new IllegalArgumentException("slice: step must be positive, got " + step);
        }
        int size = x.shape()[d];
        int s = clampIndex(start, size);
        int e = Math.max(s, clampIndex(end, size));
        int n = (e - s + step - 1) / step;
        int[] shape = x.shape();
        int[] strides = x.strides();
        int offset = x.offset() + (n == 0 ? 0 : s * strides[d]);
        shape[d] = n;
        strides[d] = strides[d] * step;
        Tensor y = x.asStrided(shape, strides, offset);
        return Node.record("slice", y, Node.needsGrad(x) ? new Slice(x, d, s, e, step) : null);
    }

    private static int clampIndex(int i, int size) {
        int k = i < 0 ? i + size : i;
        return Math.max(0, Math.min(k, size));
    }

    /** Broadcasts to {@code shape} (new leading dims allowed; -1 keeps a size) without copying. */
    public static Tensor expand(Tensor x, int[] shape) {
        int[] s = x.shape();
        if (shape.length < s.length) {
            throw new IllegalArgumentException("expand: the target " + Shape.str(shape) + " has fewer dimensions than the "
                    + "tensor " + Shape.str(s));
        }
        int lead = shape.length - s.length;
        int[] target = shape.clone();
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (i < lead) {
                    throw new IllegalArgumentException("expand: -1 is not allowed for a new leading dimension in "
                            + Shape.str(shape));
                }
                target[i] = s[i - lead];
            }
            if (i >= lead && s[i - lead] != 1 && s[i - lead] != target[i]) {
                throw new IllegalArgumentException("expand: the size " + s[i - lead] + " at dimension " + (i - lead)
                        + " of " + Shape.str(s) + " must match " + target[i] + " in the target " + Shape.str(target)
                        + "; only dimensions of size 1 can be expanded");
            }
        }
        if (Arrays.equals(target, s)) {
            return x;
        }
        int[] strides = Shape.broadcastStrides(s, x.strides(), target);
        Tensor y = x.asStrided(target, strides, x.offset());
        return Node.record("expand", y, Node.needsGrad(x) ? new Expand(x) : null);
    }
}
