package dev.backprop.nn;

import dev.backprop.autograd.GradMode;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Weight initialisers with {@code torch.nn.init}'s formulas; each fills a tensor in place
 * (without recording) and returns it. Every method has a form taking a {@link Generator} and one
 * using {@link Generator#defaultGenerator()} (seed it with {@code manualSeed} for reproducible
 * models). Fan-in and fan-out follow PyTorch: for a weight of shape (out, in, k...) fan-in is
 * in × prod(k) and fan-out is out × prod(k).
 */
public final class Init {
    private Init() {}

    /** The nonlinearities {@link #gain} knows, with PyTorch's names. */
    public enum Nonlinearity { LINEAR, CONV, SIGMOID, TANH, RELU, LEAKY_RELU, SELU }

    /** Which fan the kaiming initialisers preserve. */
    public enum FanMode { FAN_IN, FAN_OUT }

    /** {@code torch.nn.init.calculate_gain}: the recommended gain for a nonlinearity. */
    public static double gain(Nonlinearity nonlinearity, double negativeSlope) {
        return switch (nonlinearity) {
            case LINEAR, CONV, SIGMOID -> 1.0;
            case TANH -> 5.0 / 3;
            case RELU -> Math.sqrt(2.0);
            case LEAKY_RELU -> Math.sqrt(2.0 / (1 + negativeSlope * negativeSlope));
            case SELU -> 3.0 / 4;
        };
    }

    /** {fan_in, fan_out} of a weight tensor with at least 2 dimensions. */
    public static int[] fans(Tensor t) {
        int[] s = t.shape();
        if (s.length < 2) {
            throw new IllegalArgumentException("fan in and fan out need a tensor with at least 2 dimensions, got "
                    + Shape.str(s));
        }
        int receptive = 1;
        for (int i = 2; i < s.length; i++) {
            receptive *= s[i];
        }
        return new int[] {s[1] * receptive, s[0] * receptive};
    }

    /** Uniform in [low, high). */
    public static Tensor uniform(Tensor t, double low, double high, Generator gen) {
        float[] v = new float[t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (low + (high - low) * gen.nextDouble());
        }
        return fill(t, v);
    }

    public static Tensor uniform(Tensor t, double low, double high) {
        return uniform(t, low, high, Generator.defaultGenerator());
    }

    /** Normal with the given mean and standard deviation. */
    public static Tensor normal(Tensor t, double mean, double std, Generator gen) {
        float[] v = new float[t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * gen.nextGaussian());
        }
        return fill(t, v);
    }

    public static Tensor normal(Tensor t, double mean, double std) {
        return normal(t, mean, std, Generator.defaultGenerator());
    }

    public static Tensor constant(Tensor t, float value) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return t.fill(value);
        }
    }

    public static Tensor zeros(Tensor t) {
        return constant(t, 0f);
    }

    public static Tensor ones(Tensor t) {
        return constant(t, 1f);
    }

    /** Glorot uniform: U(-a, a), a = gain · sqrt(6 / (fan_in + fan_out)). */
    public static Tensor xavierUniform(Tensor t, double gain, Generator gen) {
        int[] f = fans(t);
        double a = gain * Math.sqrt(6.0 / (f[0] + f[1]));
        return uniform(t, -a, a, gen);
    }

    public static Tensor xavierUniform(Tensor t) {
        return xavierUniform(t, 1.0, Generator.defaultGenerator());
    }

    /** Glorot normal: N(0, std²), std = gain · sqrt(2 / (fan_in + fan_out)). */
    public static Tensor xavierNormal(Tensor t, double gain, Generator gen) {
        int[] f = fans(t);
        return normal(t, 0, gain * Math.sqrt(2.0 / (f[0] + f[1])), gen);
    }

    public static Tensor xavierNormal(Tensor t) {
        return xavierNormal(t, 1.0, Generator.defaultGenerator());
    }

    /** He uniform: U(-b, b), b = gain · sqrt(3 / fan), gain from the nonlinearity and {@code a} (its negative slope). */
    public static Tensor kaimingUniform(Tensor t, double a, FanMode mode, Nonlinearity nonlinearity, Generator gen) {
        double std = gain(nonlinearity, a) / Math.sqrt(fan(t, mode));
        double bound = Math.sqrt(3.0) * std;
        return uniform(t, -bound, bound, gen);
    }

    /** He uniform for ReLU, fan-in mode (PyTorch's defaults). */
    public static Tensor kaimingUniform(Tensor t) {
        return kaimingUniform(t, 0, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, Generator.defaultGenerator());
    }

    /** He normal: N(0, std²), std = gain / sqrt(fan). */
    public static Tensor kaimingNormal(Tensor t, double a, FanMode mode, Nonlinearity nonlinearity, Generator gen) {
        return normal(t, 0, gain(nonlinearity, a) / Math.sqrt(fan(t, mode)), gen);
    }

    public static Tensor kaimingNormal(Tensor t) {
        return kaimingNormal(t, 0, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, Generator.defaultGenerator());
    }

    /**
     * PyTorch's default for {@code nn.Linear} and the convolutions ({@code reset_parameters}):
     * kaiming uniform with a = sqrt(5) for the weight, which is U(±1/sqrt(fan_in)), and
     * U(±1/sqrt(fan_in)) for the bias (may be null), fan_in from the weight's shape.
     */
    public static void linearDefault(Tensor weight, Tensor bias, Generator gen) {
        kaimingUniform(weight, Math.sqrt(5), FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, gen);
        if (bias != null) {
            int fanIn = fans(weight)[0];
            double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
            uniform(bias, -bound, bound, gen);
        }
    }

    private static int fan(Tensor t, FanMode mode) {
        int[] f = fans(t);
        int fan = mode == FanMode.FAN_IN ? f[0] : f[1];
        if (fan == 0) {
            throw new IllegalArgumentException("cannot initialise a tensor with zero fan " + Shape.str(t.shape()));
        }
        return fan;
    }

    /**
     * A (semi-)orthogonal matrix scaled by {@code gain}, as {@code torch.nn.init.orthogonal_}: the
     * tensor is viewed as rows × (numel / rows); QR of a normal matrix with the signs of R's
     * diagonal folded in, so the distribution is uniform over orthogonal matrices.
     */
    public static Tensor orthogonal(Tensor t, double gain, Generator gen) {
        int[] s = t.shape();
        if (s.length < 2) {
            throw new IllegalArgumentException("orthogonal: needs at least 2 dimensions, got " + Shape.str(s));
        }
        int rows = s[0];
        int cols = t.numel() / rows;
        boolean transpose = rows < cols;
        int m = transpose ? cols : rows; // tall: m >= n
        int n = transpose ? rows : cols;
        double[][] a = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                a[i][j] = gen.nextGaussian();
            }
        }
        // modified Gram-Schmidt: Q (m x n) with orthonormal columns, R's diagonal signs applied
        for (int j = 0; j < n; j++) {
            for (int k = 0; k < j; k++) {
                double dot = 0;
                for (int i = 0; i < m; i++) {
                    dot += a[i][k] * a[i][j];
                }
                for (int i = 0; i < m; i++) {
                    a[i][j] -= dot * a[i][k];
                }
            }
            double norm = 0;
            for (int i = 0; i < m; i++) {
                norm += a[i][j] * a[i][j];
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < m; i++) {
                a[i][j] /= norm; // Gram-Schmidt's R diagonal is positive: Q is already sign-corrected
            }
        }
        float[] v = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                v[r * cols + c] = (float) (gain * (transpose ? a[c][r] : a[r][c]));
            }
        }
        return fill(t, v);
    }

    public static Tensor orthogonal(Tensor t) {
        return orthogonal(t, 1.0, Generator.defaultGenerator());
    }

    private static Tensor fill(Tensor t, float[] values) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return t.copyFrom(Tensor.of(values, t.shape()));
        }
    }
}
