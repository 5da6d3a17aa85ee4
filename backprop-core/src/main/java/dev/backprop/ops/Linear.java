package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.BinaryOp;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * y = x·Wᵀ + b over the last dimension (PyTorch's {@code aten::linear}), one GEMM with the bias
 * written first and the product accumulated onto it.
 * <p>dx = dy·W;  dW = dyᵀ·x (one GEMM over all leading dimensions);  db = Σ_rows dy.
 * <p>All leading dimensions of x are one matrix of rows: (B, T, in) is a (B·T)×in product, not B
 * small ones. W is read transposed in place; the gradients are new arrays the engine may keep.
 */
public final class Linear extends Node {
    private final int rows;

    private Linear(Tensor x, Tensor weight, Tensor bias, int rows) {
        super("linear", bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias});
        this.rows = rows;
    }

    /** {@code x} (*, in), {@code weight} (out, in), {@code bias} (out) or null. */
    public static Tensor apply(Tensor x, Tensor weight, Tensor bias) {
        x.requireType(DType.FLOAT32, "linear");
        weight.requireType(DType.FLOAT32, "linear");
        if (weight.dim() != 2 || x.dim() < 1 || x.size(-1) != weight.size(1)) {
            throw new IllegalArgumentException("linear: expected input (*, " + (weight.dim() == 2 ? weight.size(1)
                    : "in") + ") and weight (out, in), got input " + Shape.str(x.shape()) + " and weight "
                    + Shape.str(weight.shape()));
        }
        int out = weight.size(0);
        int in = weight.size(1);
        if (bias != null) {
            bias.requireType(DType.FLOAT32, "linear");
            if (bias.dim() != 1 || bias.size(0) != out) {
                throw new IllegalArgumentException("linear: expected bias of shape (" + out + "), got "
                        + Shape.str(bias.shape()));
            }
        }
        Tensor xc = x.detach().contiguous();
        Tensor wc = weight.detach().contiguous();
        int rows = xc.numel() / Math.max(1, in);
        if (in == 0) {
            rows = Shape.numel(java.util.Arrays.copyOf(x.shape(), x.dim() - 1));
        }
        float[] y = new float[rows * out];
        if (bias != null) {
            Tensor bc = bias.detach().contiguous();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(bc.floatStorage(), bc.offset(), y, r * out, out);
            }
        }
        Kernels.get().gemm(false, true, rows, out, in, xc.floatStorage(), xc.offset(), in, wc.floatStorage(),
                wc.offset(), in, y, 0, out, bias != null);
        int[] shape = x.shape().clone();
        shape[shape.length - 1] = out;
        Tensor result = Tensor.of(y, shape);
        return record("linear", result, needsGrad(x, weight, bias) ? new Linear(x, weight, bias, rows) : null);
    }

    @Override
    protected boolean gradientsAreNew() {
        return true;
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor x = input(0);
        Tensor weight = input(1);
        int out = weight.size(0);
        int in = weight.size(1);
        Tensor g = dy.contiguous();
        float[] gv = g.floatStorage();
        int go = g.offset();
        Kernels kernels = Kernels.get();
        Tensor[] grads = new Tensor[numInputs()];
        if (needsInputGrad(0)) {
            Tensor wc = weight.detach().contiguous();
            float[] dx = new float[rows * in];
            kernels.gemm(false, false, rows, in, out, gv, go, out, wc.floatStorage(), wc.offset(), in, dx, 0, in,
                    false);
            grads[0] = Tensor.of(dx, x.shape());
        }
        if (needsInputGrad(1)) {
            Tensor xc = x.detach().contiguous();
            float[] dw = new float[out * in];
            kernels.gemm(true, false, out, in, rows, gv, go, out, xc.floatStorage(), xc.offset(), in, dw, 0, in,
                    false);
            grads[1] = Tensor.of(dw, out, in);
        }
        if (numInputs() == 3 && needsInputGrad(2)) {
            float[] db = new float[out];
            for (int r = 0; r < rows; r++) {
                kernels.binary(BinaryOp.ADD, db, 0, 1, gv, go + r * out, 1, db, 0, out);
            }
            grads[2] = Tensor.of(db, out);
        }
        return grads;
    }
}
