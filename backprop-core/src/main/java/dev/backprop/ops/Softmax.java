package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Softmax and log-softmax along one dimension, computed stably (the row maximum is subtracted
 * before exp). The tensor is read as (outer, n, inner) with the softmax over n; a softmax over
 * the last dimension goes row by row to {@link Kernels#softmax} and {@link Kernels#softmaxBackward}.
 * <ul>
 * <li>y = softmax(x);  dx = y * (dy - sum(dy * y))
 * <li>y = log_softmax(x);  dx = dy - exp(y) * sum(dy)
 * </ul>
 */
public final class Softmax extends Node {
    private final boolean log;
    private final int dim;
    private Tensor out;

    private Softmax(Tensor x, boolean log, int dim, Tensor out) {
        super(log ? "log_softmax" : "softmax", x);
        this.log = log;
        this.dim = dim;
        this.out = out;
    }

    public static Tensor softmax(Tensor x, int dim) {
        return apply(x, dim, false);
    }

    public static Tensor logSoftmax(Tensor x, int dim) {
        return apply(x, dim, true);
    }

    private static Tensor apply(Tensor x, int dim, boolean log) {
        String op = log ? "log_softmax" : "softmax";
        x.requireType(DType.FLOAT32, op);
        int[] shape = x.shape();
        int d = Shape.normalizeDim(dim, shape.length, op);
        Tensor xc = x.detach().contiguous();
        float[] in = xc.floatStorage();
        int base = xc.offset();
        float[] y = new float[xc.numel()];
        if (shape.length == 0) {
            y[0] = log ? 0f : 1f;
        } else {
            int n = shape[d];
            int inner = innerSize(shape, d);
            int outer = n == 0 ? 0 : y.length / (n * inner);
            if (inner == 1 && !log) { // rows of contiguous values: the softmax kernel
                Kernels kernels = Kernels.get();
                for (int o = 0; o < outer; o++) {
                    kernels.softmax(1f, in, base + o * n, y, o * n, n);
                }
                outer = 0;
            }
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    int p = o * n * inner + i;
                    rowForward(in, base + p, y, p, n, inner, log);
                }
            }
        }
        Tensor out = Tensor.of(y, shape);
        return record(op, out, needsGrad(x) ? new Softmax(x, log, d, out) : null);
    }

    /** One softmax row of n elements spaced {@code stride} apart. */
    private static void rowForward(float[] in, int ip, float[] y, int yp, int n, int stride, boolean log) {
        float max = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
            max = Math.max(max, in[ip + k * stride]);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            max = 0; // all -inf: exp gives 0s and the row is NaN, as in PyTorch, without -inf - -inf
        }
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += Math.exp(in[ip + k * stride] - max);
        }
        if (log) {
            double lse = Math.log(sum);
            for (int k = 0; k < n; k++) {
                y[yp + k * stride] = (float) (in[ip + k * stride] - max - lse);
            }
        } else {
            double inv = 1 / sum;
            for (int k = 0; k < n; k++) {
                y[yp + k * stride] = (float) (Math.exp(in[ip + k * stride] - max) * inv);
            }
        }
    }

    private static int innerSize(int[] shape, int d) {
        int inner = 1;
        for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        return inner;
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        int[] shape = out.shape();
        Tensor g = dy.contiguous();
        float[] gv = g.floatStorage();
        int go = g.offset();
        float[] yv = out.floatStorage();
        float[] dx = new float[yv.length];
        if (shape.length == 0) {
            return new Tensor[] {Tensor.zeros()};
        }
        int n = shape[dim];
        int inner = innerSize(shape, dim);
        int outer = n == 0 ? 0 : yv.length / (n * inner);
        if (inner == 1 && !log) {
            Kernels kernels = Kernels.get();
            for (int o = 0; o < outer; o++) {
                kernels.softmaxBackward(1f, yv, o * n, gv, go + o * n, dx, o * n, n);
            }
            outer = 0;
        }
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int p = o * n * inner + i;
                double s = 0;
                for (int k = 0; k < n; k++) {
                    int q = p + k * inner;
                    s += log ? gv[go + q] : (double) gv[go + q] * yv[q];
                }
                for (int k = 0; k < n; k++) {
                    int q = p + k * inner;
                    dx[q] = log
                            ? (float) (gv[go + q] - Math.exp(yv[q]) * s)
                            : (float) (yv[q] * (gv[go + q] - s));
                }
            }
        }
        return new Tensor[] {Tensor.of(dx, shape)};
    }

    @Override
    protected void release() {
        out = null;
    }
}
