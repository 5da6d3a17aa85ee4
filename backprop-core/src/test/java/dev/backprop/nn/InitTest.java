package dev.backprop.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Each initialiser's distribution on large tensors: mean, standard deviation and bounds. */
class InitTest {
    private static final Generator GEN = new Generator(99);

    private static double[] stats(Tensor t) {
        float[] v = t.toFloatArray();
        double mean = 0;
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (float f : v) {
            mean += f;
            min = Math.min(min, f);
            max = Math.max(max, f);
        }
        mean /= v.length;
        double var = 0;
        for (float f : v) {
            var += (f - mean) * (f - mean);
        }
        return new double[] {mean, Math.sqrt(var / v.length), min, max};
    }

    private static void assertUniform(Tensor t, double bound) {
        double[] s = stats(t);
        assertEquals(0, s[0], bound * 0.02, "mean");
        assertEquals(bound / Math.sqrt(3), s[1], bound / Math.sqrt(3) * 0.02, "std of U(-b, b) is b/sqrt(3)");
        assertTrue(s[2] >= -bound && s[3] <= bound, "within bounds");
        assertTrue(s[2] < -0.99 * bound && s[3] > 0.99 * bound, "reaches the bounds");
    }

    private static void assertNormal(Tensor t, double mean, double std) {
        double[] s = stats(t);
        assertEquals(mean, s[0], std * 0.02, "mean");
        assertEquals(std, s[1], std * 0.02, "std");
    }

    @Test
    void xavier() {
        Tensor w = Tensor.zeros(300, 500);
        assertUniform(Init.xavierUniform(w, 1.0, GEN), Math.sqrt(6.0 / 800));
        assertNormal(Init.xavierNormal(w, 2.0, GEN), 0, 2 * Math.sqrt(2.0 / 800));
    }

    @Test
    void kaimingWithModesAndGains() {
        Tensor w = Tensor.zeros(200, 50, 3, 3); // fan_in 450, fan_out 1800
        assertUniform(Init.kaimingUniform(w, 0, Init.FanMode.FAN_IN, Init.Nonlinearity.RELU, GEN),
                Math.sqrt(2) * Math.sqrt(3.0 / 450));
        assertNormal(Init.kaimingNormal(w, 0, Init.FanMode.FAN_OUT, Init.Nonlinearity.RELU, GEN), 0,
                Math.sqrt(2.0 / 1800));
        assertNormal(Init.kaimingNormal(w, 0.2, Init.FanMode.FAN_IN, Init.Nonlinearity.LEAKY_RELU, GEN), 0,
                Math.sqrt(2.0 / (1 + 0.04)) / Math.sqrt(450));
        assertEquals(5.0 / 3, Init.gain(Init.Nonlinearity.TANH, 0), 1e-12);
    }

    @Test
    void linearDefaultMatchesPyTorch() {
        Linear l = new Linear(400, 300);
        assertUniform(l.weight(), 1 / Math.sqrt(400)); // kaiming_uniform(a=sqrt(5)) gives 1/sqrt(fan_in)
        double[] b = stats(l.bias());
        assertTrue(b[2] >= -1 / Math.sqrt(400) && b[3] <= 1 / Math.sqrt(400));
    }

    @Test
    void normalUniformConstants() {
        Tensor t = Tensor.zeros(1000, 100);
        assertNormal(Init.normal(t, 0.5, 0.02, GEN), 0.5, 0.02);
        double[] u = stats(Init.uniform(t, -2, 3, GEN));
        assertEquals(0.5, u[0], 0.05);
        assertTrue(u[2] >= -2 && u[3] < 3);
        assertEquals(1f, stats(Init.ones(t))[0]);
        assertEquals(0f, stats(Init.zeros(t))[3]);
    }

    @Test
    void orthogonalRowsOrColumnsAreOrthonormal() {
        for (int[] shape : new int[][] {{64, 32}, {32, 64}, {16, 4, 2, 2}}) {
            Tensor w = Init.orthogonal(Tensor.zeros(shape), 1.0, GEN);
            Tensor m = w.reshape(shape[0], -1);
            Tensor gram = m.size(0) >= m.size(1) ? m.t().matmul(m) : m.matmul(m.t());
            int n = gram.size(0);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    assertEquals(i == j ? 1 : 0, gram.get(i, j), 1e-4, "gram[" + i + "," + j + "]");
                }
            }
        }
        assertNormal(Init.orthogonal(Tensor.zeros(500, 500), 1.0, GEN), 0, 1 / Math.sqrt(500));
    }
}
