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
