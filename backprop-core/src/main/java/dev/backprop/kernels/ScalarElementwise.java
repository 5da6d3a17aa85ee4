package dev.backprop.kernels;

/**
 * The reference elementwise kernels: one plain loop per function, values computed in double and
 * rounded once to float (so they agree with PyTorch's float results to the last bit or two).
 */
final class ScalarElementwise {
    static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    static final double GELU_C = 0.044715;

    private ScalarElementwise() {}

    static void binary(BinaryOp op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] out, int oo,
                       int n) {
        switch (op) {
            case ADD -> {
                for (int i = 0; i < n; i++) {
                    out[oo + i] = a[ao + i * as] + b[bo + i * bs];
                }
            }
            case SUB -> {
                for (int i = 0; i < n; i++) {
                    out[oo + i] = a[ao + i * as] - b[bo + i * bs];
                }
            }
            case MUL -> {
                for (int i = 0; i < n; i++) {
                    out[oo + i] = a[ao + i * as] * b[bo + i * bs];
                }
            }
            case DIV -> {
                for (int i = 0; i < n; i++) {
                    out[oo + i] = a[ao + i * as] / b[bo + i * bs];
                }
            }
        }
    }

    static void unary(UnaryOp op, float p, float q, float[] x, int xo, float[] y, int yo, int n) {
        switch (op) {
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = Math.max(x[xo + i], 0f);
                }
            }
            case LEAKY_RELU -> {
                for (int i = 0; i < n; i++) {
                    float v = x[xo + i];
                    y[yo + i] = v > 0 ? v : (float) ((double) p * v);
                }
            }
            case EXP -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = (float) Math.exp(x[xo + i]);
                }
            }
            case LOG -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = (float) Math.log(x[xo + i]);
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = (float) Math.tanh(x[xo + i]);
                }
            }
            case SIGMOID -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = (float) sigmoid(x[xo + i]);
                }
            }
            case GELU_TANH -> {
                for (int i = 0; i < n; i++) {
                    double v = x[xo + i];
                    y[yo + i] = (float) (0.5 * v * (1 + Math.tanh(geluU(v))));
                }
            }
            case SILU -> {
                for (int i = 0; i < n; i++) {
                    double v = x[xo + i];
                    y[yo + i] = (float) (v * sigmoid(v));
                }
            }
            case NEG -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = -x[xo + i];
                }
            }
            case AFFINE -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = (float) ((double) p * x[xo + i] + q);
                }
            }
            case SQRT -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = (float) Math.sqrt(x[xo + i]);
                }
            }
            case ABS -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = Math.abs(x[xo + i]);
                }
            }
        }
    }

    static void unaryBackward(UnaryOp op, float p, float q, float[] x, int xo, float[] y, int yo,
                              float[] dy, int go, float[] dx, int dxo, int n) {
        switch (op) {
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = dy[go + i] * (x[xo + i] > 0 ? 1f : 0f);
                }
            }
            case LEAKY_RELU -> {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = (float) (dy[go + i] * (x[xo + i] > 0 ? 1.0 : p));
                }
            }
            case EXP -> {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = dy[go + i] * y[yo + i];
                }
            }
            case LOG -> {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = (float) (dy[go + i] * (1.0 / x[xo + i]));
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    double t = y[yo + i];
                    dx[dxo + i] = (float) (dy[go + i] * (1 - t * t));
                }
            }
            case SIGMOID -> {
                for (int i = 0; i < n; i++) {
                    double s = y[yo + i];
                    dx[dxo + i] = (float) (dy[go + i] * (s * (1 - s)));
                }
            }
            case GELU_TANH -> {
                for (int i = 0; i < n; i++) {
                    double v = x[xo + i];
                    double t = Math.tanh(geluU(v));
                    double du = SQRT_2_OVER_PI * (1 + 3 * GELU_C * v * v);
                    dx[dxo + i] = (float) (dy[go + i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du));
                }
            }
            case SILU -> {
                for (int i = 0; i < n; i++) {
                    double v = x[xo + i];
                    double s = sigmoid(v);
                    dx[dxo + i] = (float) (dy[go + i] * (s * (1 + v * (1 - s))));
                }
            }
            case NEG -> {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = -dy[go + i];
                }
            }
            case AFFINE -> {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = (float) (dy[go + i] * (double) p);
                }
            }
            case SQRT -> {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = (float) (dy[go + i] * (0.5 / y[yo + i]));
                }
            }
            case ABS -> {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = dy[go + i] * Math.signum(x[xo + i]);
                }
            }
        }
    }

    static void adam(AdamStep s, float[] p, int po, float[] g, int go, float[] m, float[] v, int mo, int n) {
        float oneMinusBeta1 = 1 - s.beta1();
        float oneMinusBeta2 = 1 - s.beta2();
        for (int i = 0; i < n; i++) {
            float gi = g[go + i];
            if (s.weightDecay() != 0) {
                if (s.decoupled()) {
                    p[po + i] *= s.decay();
                } else {
                    gi += s.weightDecay() * p[po + i];
                }
            }
            int j = mo + i;
            m[j] += (gi - m[j]) * oneMinusBeta1; // lerp, as PyTorch
            v[j] = s.beta2() * v[j] + oneMinusBeta2 * gi * gi;
            float denom = (float) Math.sqrt(v[j]) / s.bias2Sqrt() + s.eps();
            p[po + i] -= s.stepSize() * m[j] / denom;
        }
    }

    /**
     * The LSTM cell on rows [r0, r1) of {@code rows}, columns [j0, j1) of each gate block: see
     * {@link Kernels#lstmCell}. Gate activations are rounded to float before c and h use them (as
     * they are saved), and h uses the float c, so backward sees exactly the values forward used.
     */
    static void lstmCell(int hidden, float[] gates, int go, float[] cPrev, int cpo, float[] c, int co,
                         float[] h, int ho, int r0, int r1, int j0, int j1) {
        for (int r = r0; r < r1; r++) {
            int g = go + r * 4 * hidden;
            int s = r * hidden;
            for (int j = j0; j < j1; j++) {
                float i = (float) sigmoid(gates[g + j]);
                float f = (float) sigmoid(gates[g + hidden + j]);
                float gg = (float) Math.tanh(gates[g + 2 * hidden + j]);
                float o = (float) sigmoid(gates[g + 3 * hidden + j]);
                gates[g + j] = i;
                gates[g + hidden + j] = f;
                gates[g + 2 * hidden + j] = gg;
                gates[g + 3 * hidden + j] = o;
                float cv = (float) ((double) f * cPrev[cpo + s + j] + (double) i * gg);
                c[co + s + j] = cv;
                h[ho + s + j] = (float) (o * Math.tanh(cv));
            }
        }
    }

    /** The LSTM cell's backward on rows [r0, r1), columns [j0, j1): see {@link Kernels#lstmCellBackward}. */
    static void lstmCellBackward(int hidden, float[] gates, int go, float[] cPrev, int cpo, float[] c, int co,
                                 float[] dh, int dho, float[] dc, int dco, float[] dGates, int dgo,
                                 int r0, int r1, int j0, int j1) {
        for (int r = r0; r < r1; r++) {
            int g = go + r * 4 * hidden;
            int dg = dgo + r * 4 * hidden;
            int s = r * hidden;
            for (int j = j0; j < j1; j++) {
                double i = gates[g + j];
                double f = gates[g + hidden + j];
                double gg = gates[g + 2 * hidden + j];
                double o = gates[g + 3 * hidden + j];
                double tc = Math.tanh(c[co + s + j]);
                double dhv = dh[dho + s + j];
                double dct = dc[dco + s + j] + dhv * o * (1 - tc * tc);
                dGates[dg + j] = (float) (dct * gg * i * (1 - i));
                dGates[dg + hidden + j] = (float) (dct * cPrev[cpo + s + j] * f * (1 - f));
                dGates[dg + 2 * hidden + j] = (float) (dct * i * (1 - gg * gg));
                dGates[dg + 3 * hidden + j] = (float) (dhv * tc * o * (1 - o));
                dc[dco + s + j] = (float) (dct * f);
            }
        }
    }

    /** The GRU cell on rows [r0, r1), columns [j0, j1) of each gate block: see {@link Kernels#gruCell}. */
    static void gruCell(int hidden, float[] gates, int go, float[] hp, int hpo, float[] hPrev, int hvo,
                        float[] h, int ho, int r0, int r1, int j0, int j1) {
        for (int r = r0; r < r1; r++) {
            int g = go + r * 3 * hidden;
            int p = hpo + r * 3 * hidden;
            int s = r * hidden;
            for (int j = j0; j < j1; j++) {
                float rg = (float) sigmoid((double) gates[g + j] + hp[p + j]);
                float z = (float) sigmoid((double) gates[g + hidden + j] + hp[p + hidden + j]);
                float n = (float) Math.tanh(gates[g + 2 * hidden + j] + (double) rg * hp[p + 2 * hidden + j]);
                gates[g + j] = rg;
                gates[g + hidden + j] = z;
                gates[g + 2 * hidden + j] = n;
                h[ho + s + j] = (float) (n + (double) z * (hPrev[hvo + s + j] - (double) n));
            }
        }
    }

    /** The GRU cell's backward on rows [r0, r1), columns [j0, j1): see {@link Kernels#gruCellBackward}. */
    static void gruCellBackward(int hidden, float[] gates, int go, float[] hp, int hpo, float[] hPrev, int hvo,
                                float[] dh, int dho, float[] dx, int dxo, float[] dhp, int dhpo,
                                int r0, int r1, int j0, int j1) {
        for (int r = r0; r < r1; r++) {
            int g = go + r * 3 * hidden;
            int p = hpo + r * 3 * hidden;
            int dxr = dxo + r * 3 * hidden;
            int dpr = dhpo + r * 3 * hidden;
            int s = r * hidden;
            for (int j = j0; j < j1; j++) {
                double rg = gates[g + j];
                double z = gates[g + hidden + j];
                double n = gates[g + 2 * hidden + j];
                double dhv = dh[dho + s + j];
                double dnPre = dhv * (1 - z) * (1 - n * n);
                double drPre = dnPre * hp[p + 2 * hidden + j] * rg * (1 - rg);
                double dzPre = dhv * (hPrev[hvo + s + j] - n) * z * (1 - z);
                dx[dxr + j] = (float) drPre;
                dx[dxr + hidden + j] = (float) dzPre;
                dx[dxr + 2 * hidden + j] = (float) dnPre;
                dhp[dpr + j] = (float) drPre;
                dhp[dpr + hidden + j] = (float) dzPre;
                dhp[dpr + 2 * hidden + j] = (float) (dnPre * rg);
                dh[dho + s + j] = (float) (dhv * z);
            }
        }
    }

    static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x); // never overflows for x < 0
        return e / (1 + e);
    }

    static double geluU(double x) {
        return SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
    }
}
