package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/** y = sum(x, dims, keepdim);  dx = expand(dy with the reduced dims kept as size 1, x.shape) */
public final class Sum extends Node {
    private final int[] keptShape;

    private Sum(Tensor x, int[] keptShape) {
        super("sum", x);
        this.keptShape = keptShape;
    }

    /** Sums over {@code dims} (negative counts from the end; duplicates refused). */
    public static Tensor apply(Tensor x, int[] dims, boolean keepdim) {
        x.requireType(DType.FLOAT32, "sum");
        int[] shape = x.shape();
        boolean[] reduce = reducedMask(dims, shape.length, "sum");
        int[] kept = shape.clone();
        int outer = 1;
        int inner = 1;
        int[] perm = new int[shape.length];
        int p = 0;
        for (int i = 0; i < shape.length; i++) {
            if (!reduce[i]) {
                perm[p++] = i;
                outer *= shape[i];
            }
        }
        for (int i = 0; i < shape.length; i++) {
            if (reduce[i]) {
                perm[p++] = i;
                inner *= shape[i];
                kept[i] = 1;
            }
        }
        float[] out = new float[outer];
        int prefix = 0;
        while (prefix < shape.length && reduce[prefix]) {
            prefix++;
        }
        boolean leadingOnly = prefix > 0 && java.util.stream.IntStream.range(prefix,
                shape.length).noneMatch(i -> reduce[i]);
        if (leadingOnly && x.isContiguous() && inner > 1) {
            // reduced dims lead (a bias gradient: (rows, cols) -> (cols)): add whole rows into double
            // accumulators, the same order of additions per output as summing each column on its own
            float[] in = x.floatStorage();
            int base = x.offset();
            double[] acc = new double[outer];
            for (int r = 0; r < inner; r++) {
                int start = base + r * outer;
                for (int j = 0; j < outer; j++) {
                    acc[j] += in[start + j];
                }
            }
            for (int j = 0; j < outer; j++) {
                out[j] = (float) acc[j];
            }
            Tensor y = Tensor.of(out, keepdim ? kept : squeezed(shape, reduce));
            return record("sum", y, needsGrad(x) ? new Sum(x, kept) : null);
        }
        // move reduced dims last, so each output element sums one contiguous run
        Tensor src = x.detach().permute(perm).contiguous();
        float[] in = src.floatStorage();
        int base = src.offset();
        for (int o = 0; o < outer; o++) {
            double s = 0;
            int start = base + o * inner;
            for (int i = 0; i < inner; i++) {
                s += in[start + i];
            }
            out[o] = (float) s;
        }
        Tensor y = Tensor.of(out, keepdim ? kept : squeezed(shape, reduce));
        return record("sum", y, needsGrad(x) ? new Sum(x, kept) : null);
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        return new Tensor[] {dy.reshape(keptShape).expand(input(0).shape())};
    }

    /** Sums a broadcast gradient back to the shape of the operand that was broadcast. */
    public static Tensor toShape(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) {
            return g;
        }
        int lead = gs.length - shape.length;
        int[] dims = new int[gs.length];
        int n = 0;
        for (int i = 0; i < gs.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) {
                dims[n++] = i;
            }
        }
        return apply(g, Arrays.copyOf(dims, n), true).reshape(shape);
    }

    /** Marks the dimensions to reduce, normalising negatives and refusing duplicates. */
    static boolean[] reducedMask(int[] dims, int rank, String op) {
        boolean[] mask = new boolean[rank];
        for (int d : dims) {
            int nd = Shape.normalizeDim(d, rank, op);
            if (rank == 0) {
                continue;
            }
            if (mask[nd]) {
                throw new IllegalArgumentException(op + ": dimension " + d + " appears twice in " + Arrays.toString(dims));
            }
            mask[nd] = true;
        }
        return mask;
    }

    static int[] squeezed(int[] shape, boolean[] reduce) {
        int n = 0;
        for (boolean r : reduce) {
            if (!r) {
                n++;
            }
        }
        int[] out = new int[n];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (!reduce[i]) {
                out[j++] = shape[i];
            }
        }
        return out;
    }
}
