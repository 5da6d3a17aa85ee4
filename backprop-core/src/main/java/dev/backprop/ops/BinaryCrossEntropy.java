package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * Elementwise binary cross-entropy losses (reduction is applied by the caller).
 * <ul>
 * <li>On probabilities x: l = -(t log x + (1 - t) log(1 - x)), each log clamped at -100 as in
 *     PyTorch;  dx = dy (x - t) / max(x (1 - x), 1e-12)
 * <li>On logits x, with positive-class weight w: l = (1 - t) x + (1 + (w - 1) t) softplus(-x),
 *     written with log1p(exp(-|x|)) so it never overflows;
 *     dx = dy (sigmoid(x) (1 + (w - 1) t) - w t)
 * </ul>
 */
public final class BinaryCrossEntropy extends Node {
    private final boolean logits;
    private final float[] target;
    private final float[] posWeight; // broadcast to the input's shape, or null

    private BinaryCrossEntropy(Tensor x, boolean logits, float[] target, float[] posWeight) {
        super(logits ? "binary_cross_entropy_with_logits" : "binary_cross_entropy", x);
        this.logits = logits;
        this.target = target;
        this.posWeight = posWeight;
    }

    /** Per-element loss on probabilities. */
    public static Tensor onProbabilities(Tensor x, Tensor target) {
        String op = "binary_cross_entropy";
        float[] t = checkTarget(op, x, target);
        float[] xv = x.toFloatArray();
        float[] out = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            float v = xv[i];
            if (!(v >= 0 && v <= 1)) {
                throw new IllegalArgumentException(op + ": every input must be a probability in [0, 1], got " + v
                        + " at flat position " + i + " of " + Shape.str(x.shape())
                        + "; apply sigmoid first or use binaryCrossEntropyWithLogits");
            }
            double logX = Math.max(Math.log(v), -100);
            double log1mX = Math.max(Math.log1p(-v), -100);
            out[i] = (float) -(t[i] * logX + (1 - t[i]) * log1mX);
        }
        Tensor y = Tensor.of(out, x.shape());
        return record(op, y, needsGrad(x) ? new BinaryCrossEntropy(x, false, t, null) : null);
    }

    /** Per-element loss on logits; {@code posWeight} (broadcast to the input) may be null. */
    public static Tensor onLogits(Tensor x, Tensor target, Tensor posWeight) {
        String op = "binary_cross_entropy_with_logits";
        float[] t = checkTarget(op, x, target);
        float[] w = null;
        if (posWeight != null) {
            posWeight.requireType(DType.FLOAT32, op + " (pos_weight)");
            if (!Shape.broadcastsTo(posWeight.shape(), x.shape())) {
                throw new IllegalArgumentException(op + ": pos_weight of shape " + Shape.str(posWeight.shape())
                        + " cannot be broadcast to the input's shape " + Shape.str(x.shape()));
            }
            w = posWeight.expand(x.shape()).toFloatArray();
        }
        float[] xv = x.toFloatArray();
        float[] out = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            double v = xv[i];
            double wi = w == null ? 1 : w[i];
            double softplusNeg = Math.log1p(Math.exp(-Math.abs(v))) + Math.max(-v, 0); // log(1 + e^-x)
            out[i] = (float) ((1 - t[i]) * v + (1 + (wi - 1) * t[i]) * softplusNeg);
        }
        Tensor y = Tensor.of(out, x.shape());
        return record(op, y, needsGrad(x) ? new BinaryCrossEntropy(x, true, t, w) : null);
    }

    private static float[] checkTarget(String op, Tensor x, Tensor target) {
        x.requireType(DType.FLOAT32, op);
        target.requireType(DType.FLOAT32, op + " (target)");
        if (!Arrays.equals(x.shape(), target.shape())) {
            throw new IllegalArgumentException(op + ": target shape " + Shape.str(target.shape())
                    + " must equal the input shape " + Shape.str(x.shape()));
        }
        return target.toFloatArray();
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        float[] xv = input(0).toFloatArray();
        float[] g = dy.toFloatArray();
        float[] dx = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            double x = xv[i];
            double t = target[i];
            if (logits) {
                double w = posWeight == null ? 1 : posWeight[i];
                double s = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
                dx[i] = (float) (g[i] * (s * (1 + (w - 1) * t) - w * t));
            } else {
                dx[i] = (float) (g[i] * (x - t) / Math.max(x * (1 - x), 1e-12));
            }
        }
        return new Tensor[] {Tensor.of(dx, input(0).shape())};
    }
}
