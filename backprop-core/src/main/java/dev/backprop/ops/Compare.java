package dev.backprop.ops;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/** Elementwise comparisons with broadcasting; the result is a bool tensor and has no gradient. */
public final class Compare {
    private Compare() {}

    public enum Kind { EQ, NE, GT, GE, LT, LE }

    public static Tensor apply(Kind kind, Tensor a, Tensor b) {
        int[] shape = Shape.broadcast(a.shape(), b.shape(), kind.name().toLowerCase());
        boolean[] out = new boolean[Shape.numel(shape)];
        if (a.dtype() == DType.INT64 && b.dtype() == DType.INT64) {
            long[] av = a.longStorage();
            long[] bv = b.longStorage();
            Broadcast.forEachRow(shape, a, b, null, (po, n, pa, sa, pb, sb, pc, sc) -> {
                for (int i = 0; i < n; i++) {
                    out[po + i] = test(kind, Long.compare(av[pa + i * sa], bv[pb + i * sb]), false);
                }
            });
        } else {
            Tensor fa = a.toFloat();
            Tensor fb = b.toFloat();
            float[] av = fa.floatStorage();
            float[] bv = fb.floatStorage();
            Broadcast.forEachRow(shape, fa, fb, null, (po, n, pa, sa, pb, sb, pc, sc) -> {
                for (int i = 0; i < n; i++) {
                    float x = av[pa + i * sa];
                    float y = bv[pb + i * sb];
                    out[po + i] = test(kind, Float.compare(x, y), Float.isNaN(x) || Float.isNaN(y));
                }
            });
        }
        return Tensor.ofBools(out, shape);
    }

    private static boolean test(Kind kind, int cmp, boolean unordered) {
        if (unordered) {
            return kind == Kind.NE; // IEEE: NaN compares false with everything, NE true
        }
        return switch (kind) {
            case EQ -> cmp == 0;
            case NE -> cmp != 0;
            case GT -> cmp > 0;
            case GE -> cmp >= 0;
            case LT -> cmp < 0;
            case LE -> cmp <= 0;
        };
    }
}
