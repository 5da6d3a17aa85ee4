package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Softmax cross-entropy on (N, C) logits, fused: one pass computes log-softmax and the loss, and
 * backward needs only the saved probabilities. With class targets y, class weights w (all 1
 * without weights), smoothing ε and p = softmax(x):
 * <pre>
 * loss_i = (1 - ε) w_y (-log p_y) + ε/C Σ_c w_c (-log p_c)
 * dx_ic  = g_i ((1 - ε) w_y (p_c - [c = y]) + ε/C (p_c Σ_k w_k - w_c))
 * </pre>
 * where g_i is the upstream gradient of sample i (divided by Σ w_y over non-ignored samples for
 * MEAN). With probability targets q (same shape as x): q is smoothed to (1 - ε) q + ε/C,
 * loss_i = -Σ_c w_c q_c log p_c and dx_ic = g_i (p_c Σ_k w_k q_k - w_c q_c); MEAN divides by N.
 * As in PyTorch, ignored samples contribute nothing and a MEAN over no sample is NaN.
 * Also serves {@code nll_loss} (input already log-probabilities: loss_i = -w_y x_iy).
 */
public final class CrossEntropy extends Node {
    private final boolean fromLogProbs;
    private final long[] target; // class targets, or null
    private final float[] probTarget; // smoothed probability targets (N*C), or null
    private final float[] weight; // per-class weights, or null
    private final long ignoreIndex;
    private final float smoothing;
    private final Reduction reduction;
    private final float denominator;
    private float[] probs; // softmax of the logits (N*C), saved for backward

    private CrossEntropy(Tensor x, boolean fromLogProbs, long[] target, float[] probTarget, float[] weight,
            long ignoreIndex, float smoothing, Reduction reduction, float denominator, float[] probs) {
        super(fromLogProbs ? "nll_loss" : "cross_entropy", x);
        this.fromLogProbs = fromLogProbs;
        this.target = target;
        this.probTarget = probTarget;
        this.weight = weight;
        this.ignoreIndex = ignoreIndex;
        this.smoothing = smoothing;
        this.reduction = reduction;
        this.denominator = denominator;
        this.probs = probs;
    }

    /**
     * @param x (N, C) logits, or log-probabilities when {@code fromLogProbs}
     * @param target (N) int64 class indices, or (N, C) float probabilities (cross-entropy only)
     * @param weight (C) class weights or null
     */
    public static Tensor apply(Tensor x, Tensor target, Tensor weight, long ignoreIndex, float smoothing,
            Reduction reduction, boolean fromLogProbs) {
        String op = fromLogProbs ? "nll_loss" : "cross_entropy";
        x.requireType(DType.FLOAT32, op);
        if (x.dim() != 2) {
            throw new IllegalArgumentException(op + ": expected input of shape (N, C), got " + Shape.str(x.shape()));
        }
        if (!(smoothing >= 0 && smoothing <= 1)) {
            throw new IllegalArgumentException(op + ": label smoothing must be in [0, 1], got " + smoothing);
        }
        int n = x.size(0);
        int c = x.size(1);
        float[] w = null;
        if (weight != null) {
            weight.requireType(DType.FLOAT32, op + " (weight)");
            if (weight.dim() != 1 || weight.size(0) != c) {
                throw new IllegalArgumentException(op + ": weight must have shape [" + c + "] (one per class), got "
                        + Shape.str(weight.shape()));
            }
            w = weight.toFloatArray();
        }
        long[] cls = null;
        float[] q = null;
        if (target.dtype() == DType.INT64) {
            if (target.dim() != 1 || target.size(0) != n) {
                throw new IllegalArgumentException(op + ": expected target of shape [" + n + "] (one class index per "
                        + "sample of the input " + Shape.str(x.shape()) + "), got " + Shape.str(target.shape()));
            }
            cls = target.toLongArray();
            for (int i = 0; i < n; i++) {
                if (cls[i] != ignoreIndex && (cls[i] < 0 || cls[i] >= c)) {
                    throw new IndexOutOfBoundsException(op + ": target " + cls[i] + " at position " + i
                            + " is out of bounds for " + c + " classes (expected 0.." + (c - 1)
                            + (ignoreIndex < 0 || ignoreIndex >= c ? " or the ignore index " + ignoreIndex : "") + ")");
                }
            }
        } else if (target.dtype() == DType.FLOAT32 && !fromLogProbs) {
            if (!java.util.Arrays.equals(target.shape(), x.shape())) {
                throw new IllegalArgumentException(op + ": probability targets must have the input's shape "
                        + Shape.str(x.shape()) + ", got " + Shape.str(target.shape()));
            }
            q = target.toFloatArray();
            for (int i = 0; i < q.length; i++) {
                q[i] = (1 - smoothing) * q[i] + smoothing / c;
            }
        } else {
            throw new IllegalArgumentException(op + ": expected int64 class indices"
                    + (fromLogProbs ? "" : " or float32 class probabilities") + " as target, got "
                    + target.dtype().torchName());
        }
        float[] xv = x.toFloatArray();
        boolean grad = needsGrad(x);
        float[] p = fromLogProbs || !grad ? null : new float[xv.length]; // probabilities only for backward
        float[] losses = new float[n];
        double weightSum = 0;
        double sumW = 0;
        if (w != null) {
            for (float v : w) sumW += v;
        } else {
            sumW = c;
        }
        for (int i = 0; i < n; i++) {
            int row = i * c;
            if (!fromLogProbs) {
                logSoftmaxRow(xv, row, c, p); // xv row becomes log-probabilities
            }
            if (cls != null) {
                long y = cls[i];
                if (y == ignoreIndex) {
                    continue;
                }
                double wy = w == null ? 1 : w[(int) y];
                weightSum += wy;
                double loss = -(1 - smoothing) * wy * xv[row + (int) y];
                if (smoothing > 0) {
                    double s = 0;
                    for (int k = 0; k < c; k++) {
                        s += (w == null ? 1 : w[k]) * xv[row + k];
                    }
                    loss -= smoothing / c * s;
                }
                losses[i] = (float) loss;
            } else {
                double s = 0;
                for (int k = 0; k < c; k++) {
                    s += (w == null ? 1 : w[k]) * q[row + k] * xv[row + k];
                }
                losses[i] = (float) -s;
            }
        }
        float denominator = cls != null ? (float) weightSum : n;
        Tensor out;
        switch (reduction) {
            case NONE -> out = Tensor.of(losses, n);
            case SUM -> out = Tensor.scalar((float) sum(losses));
            default -> out = Tensor.scalar((float) (sum(losses) / denominator));
        }
        Node node = grad
                ? new CrossEntropy(x, fromLogProbs, cls, q, w, ignoreIndex, smoothing, reduction, denominator, p)
                : null;
        return record(op, out, node);
    }

    private static double sum(float[] v) {
        double s = 0;
        for (float f : v) s += f;
        return s;
    }

    /** Replaces row values by their log-softmax and writes the softmax into p (when not null). */
    private static void logSoftmaxRow(float[] x, int row, int c, float[] p) {
        float max = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < c; k++) {
            max = Math.max(max, x[row + k]);
        }
        double sum = 0;
        for (int k = 0; k < c; k++) {
            sum += Math.exp(x[row + k] - max);
        }
        double lse = max + Math.log(sum);
        for (int k = 0; k < c; k++) {
            double lp = x[row + k] - lse;
            x[row + k] = (float) lp;
            if (p != null) {
                p[row + k] = (float) Math.exp(lp);
            }
        }
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        int[] shape = input(0).shape();
        int n = shape[0];
        int c = shape[1];
        float[] g = dy.toFloatArray();
        float[] dx = new float[n * c];
        double sumW = 0;
        for (int k = 0; k < c; k++) sumW += weight == null ? 1 : weight[k];
        for (int i = 0; i < n; i++) {
            double gi = switch (reduction) {
                case NONE -> g[i];
                case SUM -> g[0];
                case MEAN -> g[0] / denominator;
            };
            int row = i * c;
            if (target != null) {
                long y = target[i];
                if (y == ignoreIndex) {
                    continue;
                }
                double wy = weight == null ? 1 : weight[(int) y];
                if (fromLogProbs) {
                    dx[row + (int) y] = (float) (-gi * wy);
                    continue;
                }
                for (int k = 0; k < c; k++) {
                    double wk = weight == null ? 1 : weight[k];
                    double pk = probs[row + k];
                    double d = (1 - smoothing) * wy * (pk - (k == y ? 1 : 0)) + smoothing / c * (pk * sumW - wk);
                    dx[row + k] = (float) (gi * d);
                }
            } else {
                double wq = 0;
                for (int k = 0; k < c; k++) wq += (weight == null ? 1 : weight[k]) * probTarget[row + k];
                for (int k = 0; k < c; k++) {
                    double wk = weight == null ? 1 : weight[k];
                    dx[row + k] = (float) (gi * (probs[row + k] * wq - wk * probTarget[row + k]));
                }
            }
        }
        return new Tensor[] {Tensor.of(dx, shape)};
    }

    @Override
    protected void release() {
        probs = null;
    }
}
