package dev.backprop.kernels;

/**
 * The reference row-softmax kernels ({@link Kernels#softmax}, {@link Kernels#softmaxBackward}):
 * plain loops in double, each result rounded once to float.
 */
final class ScalarSoftmax {
    private ScalarSoftmax() {}

    /** y = softmax(scale · x) over n values; x and y may be the same range. */
    static void softmax(float scale, float[] x, int xo, float[] y, int yo, int n) {
        if (n <= 0) {
            return;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, (double) scale * x[xo + i]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            max = 0; // every value -inf: exp gives 0s and the row is NaN (0 / 0), as in PyTorch
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp((double) scale * x[xo + i] - max);
        }
        double inv = 1 / sum;
        for (int i = 0; i < n; i++) {
            y[yo + i] = (float) (Math.exp((double) scale * x[xo + i] - max) * inv);
        }
    }

    /** dx = scale · y · (dy − Σ dy·y) over n values; dx may be the same range as dy or y. */
    static void softmaxBackward(float scale, float[] y, int yo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        double dot = 0;
        for (int i = 0; i < n; i++) {
            dot += (double) dy[dyo + i] * y[yo + i];
        }
        for (int i = 0; i < n; i++) {
            dx[dxo + i] = (float) ((double) scale * y[yo + i] * (dy[dyo + i] - dot));
        }
    }
}
