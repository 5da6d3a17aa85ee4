package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Layer normalisation as one op ({@code torch.nn.functional.layer_norm}): the input is read as
 * rows of the normalised size n (the product of the trailing normalised dimensions), and per row
 * <pre>
 *   mean = Σ x / n,  var = Σ (x − mean)² / n  (biased),  rstd = 1 / √(var + eps)
 *   x̂ = (x − mean) · rstd,  y = x̂ · weight + bias          (weight and bias optional, of n values)
 * </pre>
 * The variance is taken about the mean (two passes), so it does not suffer the cancellation of
 * E[x²] − mean². The rows go to {@link Kernels#layerNorm} and {@link Kernels#layerNormBackward}
 * (double sums in the scalar kernels, float lanes in the vector ones), spread over the kernel
 * threads by blocks of rows. Backward, with g = dy · weight:
 * <pre>
 *   dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)),   dweight = Σ_rows dy · x̂,   dbias = Σ_rows dy
 * </pre>
 * Saved for backward: the input (a contiguous copy only when it was not contiguous), and the
 * mean and rstd of each row.
 */
public final class LayerNormOp extends Node {
    /** Elements per thread below which a call stays on the calling thread. */
    private static final int PARALLEL_ELEMENTS = 1 << 15;
    /** Elements per block of rows whose dweight and dbias are summed apart (in float), then added in double. */
    private static final int BLOCK_ELEMENTS = 1 << 14;

    private final int n;
    private Tensor x; // contiguous, detached
    private float[] mean;
    private float[] rstd;

    private LayerNormOp(Tensor input, Tensor weight, Tensor bias, Tensor x, int n, float[] mean, float[] rstd) {
        super("layer_norm", input, weight, bias);
        this.n = n;
        this.x = x;
        this.mean = mean;
        this.rstd = rstd;
    }

    /**
     * Normalises {@code input} over its trailing dimensions holding {@code n} values in all;
     * {@code weight} and {@code bias} (each null or of {@code n} values, in any shape) scale and
     * shift the normalised values. The caller checks that the shapes agree.
     */
    public static Tensor apply(Tensor input, int n, Tensor weight, Tensor bias, float eps) {
        input.requireType(DType.FLOAT32, "layer_norm");
        int[] shape = input.shape();
        int numel = Shape.numel(shape);
        if (n <= 0 || numel % n != 0) {
            throw new IllegalArgumentException("layer_norm: the input of shape " + Shape.str(shape)
                    + " does not hold whole rows of " + n + " values");
        }
        float[] w = values(weight, n, "weight");
        float[] b = values(bias, n, "bias");
        Tensor x = input.detach().contiguous();
        float[] xs = x.floatStorage();
        int xo = x.offset();
        int rows = numel / n;
        float[] y = new float[numel];
        float[] mean = new float[rows];
        float[] rstd = new float[rows];
        Kernels kernels = Kernels.get();
        Kernels.parallelFor(rows, Math.max(1, PARALLEL_ELEMENTS / n), (from, to) ->
                kernels.layerNorm(xs, xo + from * n, w, b, eps, y, from * n, mean, rstd, from, to - from, n));
        Tensor out = Tensor.of(y, shape);
        return record("layer_norm", out, needsGrad(input, weight, bias)
                ? new LayerNormOp(input, weight, bias, x, n, mean, rstd) : null);
    }

    /** The n values of a weight or bias in order (null stays null). */
    private static float[] values(Tensor t, int n, String what) {
        if (t == null) {
            return null;
        }
        t.requireType(DType.FLOAT32, "layer_norm");
        if (t.numel() != n) {
            throw new IllegalArgumentException("layer_norm: the " + what + " must have " + n + " values (the "
                    + "normalized shape), got shape " + Shape.str(t.shape()));
        }
        return t.isContiguous() && t.offset() == 0 && t.floatStorage().length == n ? t.floatStorage()
                : t.toFloatArray();
    }

    @Override
    protected Tensor[] backward(Tensor dyIn) {
        Tensor dyc = dyIn.contiguous();
        float[] dy = dyc.floatStorage();
        int dyo = dyc.offset();
        float[] xs = x.floatStorage();
        int xo = x.offset();
        int rows = mean.length;
        Tensor weight = input(1);
        float[] w = values(weight, n, "weight");
        boolean needX = needsInputGrad(0);
        boolean needW = weight != null && needsInputGrad(1);
        boolean needB = input(2) != null && needsInputGrad(2);
        float[] dx = needX ? new float[rows * n] : null;
        // dweight and dbias: float partial sums over fixed blocks of rows (never depending on the
        // thread count), added in double in block order
        int blockRows = Math.max(1, BLOCK_ELEMENTS / n);
        int blocks = Math.max(1, (rows + blockRows - 1) / blockRows);
        float[][] dw = needW ? new float[blocks][n] : null;
        float[][] db = needB ? new float[blocks][n] : null;
        float[] m = mean;
        float[] rs = rstd;
        Kernels kernels = Kernels.get();
        Kernels.parallelFor(blocks, 1, (b0, b1) -> {
            for (int blk = b0; blk < b1; blk++) {
                int from = blk * blockRows;
                int count = Math.min(rows, from + blockRows) - from;
                kernels.layerNormBackward(xs, xo + from * n, dy, dyo + from * n, w, m, rs, from,
                        dx, from * n, needW ? dw[blk] : null, needB ? db[blk] : null, count, n);
            }
        });
        return new Tensor[] {
            needX ? Tensor.of(dx, input(0).shape()) : null,
            needW ? Tensor.of(total(dw, n), weight.shape()) : null,
            needB ? Tensor.of(total(db, n), input(2).shape()) : null};
    }

    /** The per-block partial sums added in block order, rounded to float. */
    private static float[] total(float[][] partial, int n) {
        float[] out = new float[n];
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (float[] p : partial) {
                s += p[j];
            }
            out[j] = (float) s;
        }
        return out;
    }

    @Override
    protected void release() {
        x = null;
        mean = null;
        rstd = null;
    }
}
