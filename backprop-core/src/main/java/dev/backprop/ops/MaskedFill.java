package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/** y = x with value where mask (mask broadcast to x's shape);  dx = dy with 0 where mask */
public final class MaskedFill extends Node {
    private final Tensor mask;

    private MaskedFill(Tensor x, Tensor mask) {
        super("masked_fill", x);
        this.mask = mask;
    }

    public static Tensor apply(Tensor x, Tensor mask, float value) {
        x.requireType(DType.FLOAT32, "masked_fill");
        if (!mask.dtype().isMask()) {
            throw new IllegalArgumentException("masked_fill: the mask must be a bool or uint8 tensor, got "
                    + mask.dtype().torchName() + " of shape " + Shape.str(mask.shape()));
        }
        int[] shape = x.shape();
        if (!Shape.broadcastsTo(mask.shape(), shape)) {
            throw new IllegalArgumentException("masked_fill: the mask of shape " + Shape.str(mask.shape())
                    + " cannot be broadcast to the input's shape " + Shape.str(shape));
        }
        Tensor m = mask.toBool();
        boolean[] mv = m.boolStorage();
        float[] xv = x.floatStorage();
        float[] out = new float[Shape.numel(shape)];
        Broadcast.forEachRow(shape, x, m, null, (po, n, px, sx, pm, sm, pc, sc) -> {
            for (int i = 0; i < n; i++) {
                out[po + i] = mv[pm + i * sm] ? value : xv[px + i * sx];
            }
        });
        Tensor y = Tensor.of(out, shape);
        return record("masked_fill", y, needsGrad(x) ? new MaskedFill(x, m) : null);
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        return new Tensor[] {apply(dy, mask, 0f)};
    }
}
