package dev.backprop.kernels;

import java.util.Arrays;

/** Plain-Java reference kernels: straightforward loops, ordered so the JIT can vectorize the inner ones. */
public final class ScalarKernels implements Kernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void binary(BinaryOp op, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride,
                       float[] out, int outOff, int n) {
        ScalarElementwise.binary(op, a, aOff, aStride, b, bOff, bStride, out, outOff, n);
    }

    @Override
    public void maxPool2x2(float[] in, int base, int planeOff, int inW, int outH, int outW, float[] out, int[] arg,
                           int outOff) {
        ScalarPooling.maxPool2x2(in, base, planeOff, inW, outH, outW, out, arg, outOff);
    }

    @Override
    public double sum(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += x[off + i];
        }
        return s;
    }

    @Override
    public double sumOfSquares(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += x[off + i] * x[off + i]; // squared in float, as the vector lanes and torch's float32 norms
        }
        return s;
    }

    @Override
    public double copySumOfSquares(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            float v = src[srcOff + i];
            dst[dstOff + i] = v;
            s += v * v;
        }
        return s;
    }

    @Override
    public double sumOfSquaredDifferences(float[] a, int aOff, float[] b, int bOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            float d = a[aOff + i] - b[bOff + i];
            s += d * d;
        }
        return s;
    }

    @Override
    public void unary(UnaryOp op, float p, float q, float[] x, int xOff, float[] y, int yOff, int n) {
        ScalarElementwise.unary(op, p, q, x, xOff, y, yOff, n);
    }

    @Override
    public void unaryBackward(UnaryOp op, float p, float q, float[] x, int xOff, float[] y, int yOff,
                              float[] dy, int dyOff, float[] dx, int dxOff, int n) {
        ScalarElementwise.unaryBackward(op, p, q, x, xOff, y, yOff, dy, dyOff, dx, dxOff, n);
    }

    @Override
    public void adam(AdamStep step, float[] p, int pOff, float[] g, int gOff, float[] m, float[] v, int n) {
        ScalarElementwise.adam(step, p, pOff, g, gOff, m, v, 0, n);
    }

    @Override
    public void lstmCell(int rows, int hidden, float[] gates, int gOff, float[] cPrev, int cPrevOff,
                         float[] c, int cOff, float[] h, int hOff) {
        ScalarElementwise.lstmCell(hidden, gates, gOff, cPrev, cPrevOff, c, cOff, h, hOff, 0, rows, 0, hidden);
    }

    @Override
    public void lstmCellBackward(int rows, int hidden, float[] gates, int gOff, float[] cPrev, int cPrevOff,
                                 float[] c, int cOff, float[] dh, int dhOff, float[] dc, int dcOff,
                                 float[] dGates, int dGatesOff) {
        ScalarElementwise.lstmCellBackward(hidden, gates, gOff, cPrev, cPrevOff, c, cOff, dh, dhOff, dc, dcOff,
                dGates, dGatesOff, 0, rows, 0, hidden);
    }

    @Override
    public void gruCell(int rows, int hidden, float[] gates, int gOff, float[] hp, int hpOff, float[] hPrev,
                        int hPrevOff, float[] h, int hOff) {
        ScalarElementwise.gruCell(hidden, gates, gOff, hp, hpOff, hPrev, hPrevOff, h, hOff, 0, rows, 0, hidden);
    }

    @Override
    public void gruCellBackward(int rows, int hidden, float[] gates, int gOff, float[] hp, int hpOff, float[] hPrev,
                                int hPrevOff, float[] dh, int dhOff, float[] dGates, int dGatesOff, float[] dHp,
                                int dHpOff) {
        ScalarElementwise.gruCellBackward(hidden, gates, gOff, hp, hpOff, hPrev, hPrevOff, dh, dhOff, dGates,
                dGatesOff, dHp, dHpOff, 0, rows, 0, hidden);
    }

    @Override
    public void softmax(float scale, float[] x, int xOff, float[] y, int yOff, int n) {
        ScalarSoftmax.softmax(scale, x, xOff, y, yOff, n);
    }

    @Override
    public void softmaxBackward(float scale, float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff,
                                int n) {
        ScalarSoftmax.softmaxBackward(scale, y, yOff, dy, dyOff, dx, dxOff, n);
    }

    @Override
    public void layerNorm(float[] x, int xOff, float[] w, float[] b, float eps, float[] y, int yOff,
                          float[] mean, float[] rstd, int statOff, int rows, int n) {
        ScalarLayerNorm.forward(x, xOff, w, b, eps, y, yOff, mean, rstd, statOff, rows, n);
    }

    @Override
    public void layerNormBackward(float[] x, int xOff, float[] dy, int dyOff, float[] w, float[] mean, float[] rstd,
                                  int statOff, float[] dx, int dxOff, float[] dw, float[] db, int rows, int n) {
        ScalarLayerNorm.backward(x, xOff, dy, dyOff, w, mean, rstd, statOff, dx, dxOff, dw, db, rows, n);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        if (!accumulate) {
            for (int i = 0; i < m; i++) {
                Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
        }
        if (m == 0 || n == 0 || k == 0) {
            return;
        }
        if (!transB) {
            // C[i, :] += A[i, p] * B[p, :]: the inner loop runs along contiguous rows of B and C
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc;
                for (int p = 0; p < k; p++) {
                    float aip = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    int bp = bOff + p * ldb;
                    for (int j = 0; j < n; j++) {
                        c[ci + j] += aip * b[bp + j];
                    }
                }
            }
        } else {
            // B is stored n×k: C[i, j] = dot(row i of op(A), row j of B)
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc;
                for (int j = 0; j < n; j++) {
                    int bj = bOff + j * ldb;
                    float s = 0f;
                    if (!transA) {
                        int ai = aOff + i * lda;
                        for (int p = 0; p < k; p++) {
                            s += a[ai + p] * b[bj + p];
                        }
                    } else {
                        for (int p = 0; p < k; p++) {
                            s += a[aOff + p * lda + i] * b[bj + p];
                        }
                    }
                    c[ci + j] += s;
                }
            }
        }
    }
}
