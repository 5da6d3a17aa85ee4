package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * y = condition ? a : b, all three broadcast together;
 * da = dy where condition else 0, db = dy where not condition else 0 (each summed to its shape).
 */
public final class Where extends Node {
    private final Tensor condition;

    private Where(Tensor condition, Tensor a, Tensor b) {
        super("where", a, b);
        this.condition = condition;
    }

    public static Tensor apply(Tensor condition, Tensor a, Tensor b) {
        if (!condition.dtype().isMask()) {
            throw new IllegalArgumentException("where: the condition must be a bool or uint8 tensor, got "
                    + condition.dtype().torchName() + " of shape " + Shape.str(condition.shape()));
        }
        a.requireType(DType.FLOAT32, "where");
        b.requireType(DType.FLOAT32, "where");
        int[] shape = Shape.broadcast(Shape.broadcast(condition.shape(), a.shape(), "where"), b.shape(), "where");
        Tensor cond = condition.toBool();
        boolean[] cv = cond.boolStorage();
        float[] av = a.floatStorage();
        float[] bv = b.floatStorage();
        float[] out = new float[Shape.numel(shape)];
        Broadcast.forEachRow(shape, a, b, cond, (po, n, pa, sa, pb, sb, pc, sc) -> {
            for (int i = 0; i < n; i++) {
                out[po + i] = cv[pc + i * sc] ? av[pa + i * sa] : bv[pb + i * sb];
            }
        });
        Tensor y = Tensor.of(out, shape);
        return record("where", y, needsGrad(a, b) ? new Where(cond, a, b) : null);
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor zero = Tensor.zeros();
        Tensor da = needsInputGrad(0) ? Sum.toShape(apply(condition, dy, zero), input(0).shape()) : null;
        Tensor db = needsInputGrad(1) ? Sum.toShape(apply(condition, zero, dy), input(1).shape()) : null;
        return new Tensor[] {da, db};
    }
}
