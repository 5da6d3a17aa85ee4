package dev.backprop.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer normalisation on the Vector API: the formulas of {@link ScalarLayerNorm} in float lanes.
 * The statistics take two passes (the mean, then the squared deviations from it), so the
 * variance does not suffer the cancellation of E[x²] − mean²; lane sums are reduced by a fixed
 * butterfly ({@link VectorSoftmax#sum}), and the last, partial vector of a row runs under a lane
 * mask. Results differ from the scalar kernel's by float rounding.
 */
final class VectorLayerNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorLayerNorm() {}

    static void forward(float[] x, int xo, float[] w, float[] b, float eps, float[] y, int yo,
                        float[] mean, float[] rstd, int so, int rows, int n) {
        int bound = S.loopBound(n);
        VectorMask<Float> tail = bound < n ? S.indexInRange(bound, n) : null;
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * n;
            int yr = yo + r * n;
            FloatVector acc = FloatVector.zero(S);
            for (int j = 0; j < bound; j += L) {
                acc = acc.add(FloatVector.fromArray(S, x, xr + j));
            }
            if (tail != null) {
                acc = acc.add(FloatVector.fromArray(S, x, xr + bound, tail));
            }
            float mu = VectorSoftmax.sum(acc) / n;
            acc = FloatVector.zero(S);
            for (int j = 0; j < bound; j += L) {
                FloatVector d = FloatVector.fromArray(S, x, xr + j).sub(mu);
                acc = d.fma(d, acc);
            }
            if (tail != null) {
                FloatVector d = FloatVector.fromArray(S, x, xr + bound, tail).sub(mu).blend(0f, tail.not());
                acc = d.fma(d, acc);
            }
            float rs = (float) (1 / Math.sqrt((double) VectorSoftmax.sum(acc) / n + eps));
            mean[so + r] = mu;
            rstd[so + r] = rs;
            // one loop per combination of weight and bias: no choice between vectors inside a loop
            if (w != null && b != null) {
                int j = 0;
                for (; j < bound; j += L) {
                    FloatVector.fromArray(S, x, xr + j).sub(mu).mul(rs)
                            .fma(FloatVector.fromArray(S, w, j), FloatVector.fromArray(S, b, j)).intoArray(y, yr + j);
                }
                if (tail != null) {
                    FloatVector.fromArray(S, x, xr + j, tail).sub(mu).mul(rs)
                            .fma(FloatVector.fromArray(S, w, j, tail), FloatVector.fromArray(S, b, j, tail))
                            .intoArray(y, yr + j, tail);
                }
            } else if (w != null) {
                int j = 0;
                for (; j < bound; j += L) {
                    FloatVector.fromArray(S, x, xr + j).sub(mu).mul(rs).mul(FloatVector.fromArray(S, w, j))
                            .intoArray(y, yr + j);
                }
                if (tail != null) {
                    FloatVector.fromArray(S, x, xr + j, tail).sub(mu).mul(rs).mul(FloatVector.fromArray(S, w, j, tail))
                            .intoArray(y, yr + j, tail);
                }
            } else if (b != null) {
                int j = 0;
                for (; j < bound; j += L) {
                    FloatVector.fromArray(S, x, xr + j).sub(mu).mul(rs).add(FloatVector.fromArray(S, b, j))
                            .intoArray(y, yr + j);
                }
                if (tail != null) {
                    FloatVector.fromArray(S, x, xr + j, tail).sub(mu).mul(rs).add(FloatVector.fromArray(S, b, j, tail))
                            .intoArray(y, yr + j, tail);
                }
            } else {
                int j = 0;
                for (; j < bound; j += L) {
                    FloatVector.fromArray(S, x, xr + j).sub(mu).mul(rs).intoArray(y, yr + j);
                }
                if (tail != null) {
                    FloatVector.fromArray(S, x, xr + j, tail).sub(mu).mul(rs).intoArray(y, yr + j, tail);
                }
            }
        }
    }

    static void backward(float[] x, int xo, float[] dy, int dyo, float[] w, float[] mean, float[] rstd, int so,
                         float[] dx, int dxo, float[] dw, float[] db, int rows, int n) {
        if (w == null) {
            w = ones(n); // g = dy: one code path, the multiplications by 1 are exact
        }
        int bound = S.loopBound(n);
        VectorMask<Float> tail = bound < n ? S.indexInRange(bound, n) : null;
        for (int r = 0; r < rows; r++) {
            int xr = xo + r * n;
            int gr = dyo + r * n;
            float mu = mean[so + r];
            float rs = rstd[so + r];
            FloatVector sumG = FloatVector.zero(S);
            FloatVector sumGX = FloatVector.zero(S);
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector xhat = FloatVector.fromArray(S, x, xr + j).sub(mu).mul(rs);
                FloatVector d = FloatVector.fromArray(S, dy, gr + j);
                FloatVector g = d.mul(FloatVector.fromArray(S, w, j));
                sumG = sumG.add(g);
                sumGX = g.fma(xhat, sumGX);
                if (dw != null) {
                    d.fma(xhat, FloatVector.fromArray(S, dw, j)).intoArray(dw, j);
                }
                if (db != null) {
                    d.add(FloatVector.fromArray(S, db, j)).intoArray(db, j);
                }
            }
            if (tail != null) { // masked loads read 0 past n: x̂ there is −mean·rstd, but g = 0
                FloatVector xhat = FloatVector.fromArray(S, x, xr + j, tail).sub(mu).mul(rs);
                FloatVector d = FloatVector.fromArray(S, dy, gr + j, tail);
                FloatVector g = d.mul(FloatVector.fromArray(S, w, j, tail));
                sumG = sumG.add(g);
                sumGX = g.fma(xhat, sumGX);
                if (dw != null) {
                    d.fma(xhat, FloatVector.fromArray(S, dw, j, tail)).intoArray(dw, j, tail);
                }
                if (db != null) {
                    d.add(FloatVector.fromArray(S, db, j, tail)).intoArray(db, j, tail);
                }
            }
            if (dx == null) {
                continue;
            }
            float meanG = VectorSoftmax.sum(sumG) / n;
            float meanGX = VectorSoftmax.sum(sumGX) / n;
            int dr = dxo + r * n;
            j = 0;
            for (; j < bound; j += L) {
                FloatVector xhat = FloatVector.fromArray(S, x, xr + j).sub(mu).mul(rs);
                FloatVector g = FloatVector.fromArray(S, dy, gr + j).mul(FloatVector.fromArray(S, w, j));
                g.sub(meanG).sub(xhat.mul(meanGX)).mul(rs).intoArray(dx, dr + j);
            }
            if (tail != null) {
                FloatVector xhat = FloatVector.fromArray(S, x, xr + j, tail).sub(mu).mul(rs);
                FloatVector g = FloatVector.fromArray(S, dy, gr + j, tail).mul(FloatVector.fromArray(S, w, j, tail));
                g.sub(meanG).sub(xhat.mul(meanGX)).mul(rs).intoArray(dx, dr + j, tail);
            }
        }
    }

    private static float[] ones(int n) {
        float[] o = new float[n];
        java.util.Arrays.fill(o, 1f);
        return o;
    }
}
