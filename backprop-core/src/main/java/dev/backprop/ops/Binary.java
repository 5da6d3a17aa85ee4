package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.BinaryOp;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * Elementwise ops of two tensors with NumPy/PyTorch broadcasting. Each gradient is computed at
 * the broadcast shape and then summed back to its operand's shape ({@link Sum#toShape}).
 */
public final class Binary extends Node {

    /** The op and its two partial derivatives. */
    public enum Kind {
        /** y = a + b;  da = dy, db = dy */
        ADD("add"),
        /** y = a - b;  da = dy, db = -dy */
        SUB("sub"),
        /** y = a * b;  da = dy * b, db = dy * a */
        MUL("mul"),
        /** y = a / b;  da = dy / b, db = -dy * a / b^2 */
        DIV("div"),
        /** y = a ^ b;  da = dy * b * a^(b-1), db = dy * y * ln(a) (0 where a = 0 and b >= 0) */
        POW("pow"),
        /** y = max(a, b);  da = dy where a > b, dy/2 where a = b (PyTorch's split), else 0 */
        MAXIMUM("maximum"),
        /** y = min(a, b);  da = dy where a < b, dy/2 where a = b, else 0 */
        MINIMUM("minimum");

        final String opName;
        /** The array kernel of this op, or null for the generic loop. */
        final BinaryOp kernel;

        Kind(String opName) {
            this.opName = opName;
            this.kernel = switch (opName) {
                case "add" -> BinaryOp.ADD;
                case "sub" -> BinaryOp.SUB;
                case "mul" -> BinaryOp.MUL;
                case "div" -> BinaryOp.DIV;
                default -> null;
            };
        }

        float apply(float a, float b) {
            return switch (this) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
                case POW -> (float) Math.pow(a, b);
                case MAXIMUM -> Float.isNaN(a) || Float.isNaN(b) ? Float.NaN : Math.max(a, b);
                case MINIMUM -> Float.isNaN(a) || Float.isNaN(b) ? Float.NaN : Math.min(a, b);
            };
        }
    }

    private final Kind kind;
    private Tensor out;

    private Binary(Kind kind, Tensor a, Tensor b, Tensor out) {
        super(kind.opName, a, b);
        this.kind = kind;
        this.out = out;
    }

    public static Tensor apply(Kind kind, Tensor a, Tensor b) {
        a.requireType(DType.FLOAT32, kind.opName);
        b.requireType(DType.FLOAT32, kind.opName);
        int[] shape = Shape.broadcast(a.shape(), b.shape(), kind.opName);
        float[] out = new float[Shape.numel(shape)];
        float[] av = a.floatStorage();
        float[] bv = b.floatStorage();
        if (a.isContiguous() && b.isContiguous() && Arrays.equals(a.shape(), b.shape())) {
            row(kind, out, 0, out.length, av, a.offset(), 1, bv, b.offset(), 1);
        } else {
            Broadcast.forEachRow(shape, a, b, null,
                    (po, n, pa, sa, pb, sb, pc, sc) -> row(kind, out, po, n, av, pa, sa, bv, pb, sb));
        }
        Tensor y = Tensor.of(out, shape);
        return record(kind.opName, y, needsGrad(a, b) ? new Binary(kind, a, b, y) : null);
    }

    private static void row(Kind kind, float[] out, int po, int n, float[] a, int pa, int sa, float[] b, int pb,
            int sb) {
        BinaryOp op = kind.kernel;
        if (op != null) {
            Kernels.get().binary(op, a, pa, sa, b, pb, sb, out, po, n);
        } else {
            for (int i = 0; i < n; i++) {
                out[po + i] = kind.apply(a[pa + i * sa], b[pb + i * sb]);
            }
        }
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor a = input(0);
        Tensor b = input(1);
        Tensor da = null;
        Tensor db = null;
        boolean wantA = needsInputGrad(0);
        boolean wantB = needsInputGrad(1);
        switch (kind) {
            case ADD -> {
                da = wantA ? dy : null;
                db = wantB ? dy : null;
            }
            case SUB -> {
                da = wantA ? dy : null;
                db = wantB ? dy.neg() : null;
            }
            case MUL -> {
                da = wantA ? dy.mul(b) : null;
                db = wantB ? dy.mul(a) : null;
            }
            case DIV -> {
                da = wantA ? dy.div(b) : null;
                db = wantB ? dy.mul(out).div(b).neg() : null;
            }
            case POW -> {
                da = wantA ? powGrad(a, b, dy, false) : null;
                db = wantB ? powGrad(a, b, dy, true) : null;
            }
            case MAXIMUM, MINIMUM -> {
                Tensor winA = kind == Kind.MAXIMUM ? a.gt(b) : a.lt(b);
                Tensor tie = a.eq(b);
                Tensor weightA = winA.toFloat().add(tie.toFloat().mul(0.5f));
                da = wantA ? dy.mul(weightA) : null;
                db = wantB ? dy.mul(weightA.rsub(1f)) : null;
            }
        }
        return new Tensor[] {
            da == null ? null : Sum.toShape(da, a.shape()),
            db == null ? null : Sum.toShape(db, b.shape())
        };
    }

    /** d(a^b)/da = b a^(b-1);  d(a^b)/db = a^b ln a, taken as 0 where a = 0 and b >= 0 (as PyTorch). */
    private static Tensor powGrad(Tensor a, Tensor b, Tensor dy, boolean wrtExponent) {
        int[] shape = dy.shape();
        float[] g = new float[Shape.numel(shape)];
        float[] av = a.floatStorage();
        float[] bv = b.floatStorage();
        float[] dv = dy.floatStorage();
        Broadcast.forEachRow(shape, a, b, dy, (po, n, pa, sa, pb, sb, pd, sd) -> {
            for (int i = 0; i < n; i++) {
                double x = av[pa + i * sa];
                double e = bv[pb + i * sb];
                double d = dv[pd + i * sd];
                double r;
                if (wrtExponent) {
                    r = x == 0 && e >= 0 ? 0 : d * Math.pow(x, e) * Math.log(x);
                } else {
                    r = e == 0 ? 0 : d * e * Math.pow(x, e - 1);
                }
                g[po + i] = (float) r;
            }
        });
        return Tensor.of(g, shape);
    }

    @Override
    protected void release() {
        out = null;
    }
}
