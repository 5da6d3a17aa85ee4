package dev.backprop.kernels;

/**
 * The reference layer-normalisation kernels ({@link Kernels#layerNorm},
 * {@link Kernels#layerNormBackward}): statistics and row sums in double (two passes: the mean,
 * then the squared deviations), values rounded once to float.
 */
final class ScalarLayerNorm {
    private ScalarLayerNorm() {}

    static void forward(float[] x, int xo, float[] w, float[] b, float eps, float[] y, int yo,
                        float[] mean, float[] rstd, int so, int rows, int n) {
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * n;
            int yr = yo + r * n;
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += x[xr + j];
            }
            double mu = sum / n;
            double sq = 0;
            for (int j = 0; j < n; j++) {
                double d = x[xr + j] - mu;
                sq += d * d;
            }
            double rs = 1 / Math.sqrt(sq / n + eps);
            mean[so + r] = (float) mu;
            rstd[so + r] = (float) rs;
            for (int j = 0; j < n; j++) {
                double v = (x[xr + j] - mu) * rs;
                if (w != null) {
                    v *= w[j];
                }
                if (b != null) {
                    v += b[j];
                }
                y[yr + j] = (float) v;
            }
        }
    }

    static void backward(float[] x, int xo, float[] dy, int dyo, float[] w, float[] mean, float[] rstd, int so,
                         float[] dx, int dxo, float[] dw, float[] db, int rows, int n) {
        double[] dwSum = dw == null ? null : new double[n];
        double[] dbSum = db == null ? null : new double[n];
        double[] xhat = new double[n];
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * n;
            int gr = dyo + r * n;
            double mu = mean[so + r];
            double rs = rstd[so + r];
            double sumG = 0;
            double sumGX = 0;
            for (int j = 0; j < n; j++) {
                xhat[j] = (x[xr + j] - mu) * rs;
                double g = w == null ? dy[gr + j] : (double) dy[gr + j] * w[j];
                sumG += g;
                sumGX += g * xhat[j];
                if (dwSum != null) {
                    dwSum[j] += dy[gr + j] * xhat[j];
                }
                if (dbSum != null) {
                    dbSum[j] += dy[gr + j];
                }
            }
            if (dx == null) {
                continue;
            }
            double meanG = sumG / n;
            double meanGX = sumGX / n;
            for (int j = 0; j < n; j++) {
                double g = w == null ? dy[gr + j] : (double) dy[gr + j] * w[j];
                dx[dxo + r * n + j] = (float) (rs * (g - meanG - xhat[j] * meanGX));
            }
        }
        for (int j = 0; j < n; j++) {
            if (dw != null) {
                dw[j] += (float) dwSum[j];
            }
            if (db != null) {
                db[j] += (float) dbSum[j];
            }
        }
    }
}
