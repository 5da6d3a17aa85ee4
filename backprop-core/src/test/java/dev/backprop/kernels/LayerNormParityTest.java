package dev.backprop.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The vector layer-norm kernels against the scalar ones (the reference, in double) on awkward row
 * sizes (1, 4, 13, 207, 4098) at odd offsets, with and without weight and bias, on rows with a
 * large offset from zero (where a one-pass variance would cancel).
 */
class LayerNormParityTest {
    private static final int[] SIZES = {1, 4, 13, 16, 128, 207, 4098};
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final VectorKernels VECTOR = new VectorKernels();

    @TestFactory
    List<DynamicTest> forwardAndBackwardMatchScalar() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int n : SIZES) {
            for (String affine : List.of("weight+bias", "weight", "bias", "none")) {
                tests.add(DynamicTest.dynamicTest("n=" + n + " " + affine, () -> check(n, affine)));
            }
        }
        return tests;
    }

    private static float[] normal(Random rnd, int n, double mean, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + std * rnd.nextGaussian());
        }
        return v;
    }

    private static void check(int n, String affine) {
        Random rnd = new Random(n * 17L + affine.hashCode());
        int rows = 3;
        float[] x = new float[5 + rows * n];
        for (int r = 0; r < rows; r++) { // row 1 sits far from zero
            float[] row = normal(rnd, n, r == 1 ? 50 : 0, r == 2 ? 3 : 1);
            System.arraycopy(row, 0, x, 5 + r * n, n);
        }
        float[] w = affine.contains("weight") ? normal(rnd, n, 1, 0.5) : null;
        float[] b = affine.contains("bias") || affine.equals("weight+bias") ? normal(rnd, n, 0, 0.5) : null;
        float eps = 1e-5f;
        float[] ys = new float[2 + rows * n];
        float[] yv = new float[2 + rows * n];
        float[] ms = new float[rows + 1];
        float[] mv = new float[rows + 1];
        float[] rs = new float[rows + 1];
        float[] rv = new float[rows + 1];
        SCALAR.layerNorm(x, 5, w, b, eps, ys, 2, ms, rs, 1, rows, n);
        VECTOR.layerNorm(x, 5, w, b, eps, yv, 2, mv, rv, 1, rows, n);
        assertEquals(0f, yv[0]);
        assertEquals(0f, mv[0]);
        assertClose("mean", ms, mv, 2e-6);
        assertClose("rstd", rs, rv, 2e-6);
        assertClose("forward", ys, yv, 1e-5);

        float[] dy = normal(rnd, 3 + rows * n, 0, 1);
        float[] dxs = new float[rows * n];
        float[] dxv = new float[rows * n];
        float[] dws = w == null ? null : normal(rnd, n, 0, 1);
        float[] dwv = dws == null ? null : dws.clone();
        float[] dbs = b == null ? null : normal(rnd, n, 0, 1);
        float[] dbv = dbs == null ? null : dbs.clone();
        SCALAR.layerNormBackward(x, 5, dy, 3, w, ms, rs, 1, dxs, 0, dws, dbs, rows, n);
        VECTOR.layerNormBackward(x, 5, dy, 3, w, ms, rs, 1, dxv, 0, dwv, dbv, rows, n);
        assertClose("dx", dxs, dxv, 2e-5);
        if (dws != null) {
            assertClose("dweight (accumulated)", dws, dwv, 1e-5);
        }
        if (dbs != null) {
            assertClose("dbias (accumulated)", dbs, dbv, 1e-5);
        }
        // dx alone, and the parameter sums alone
        float[] only = new float[rows * n];
        VECTOR.layerNormBackward(x, 5, dy, 3, w, ms, rs, 1, only, 0, null, null, rows, n);
        assertClose("dx without parameter gradients", dxv, only, 0);
        if (dws != null) {
            float[] dw2 = new float[n];
            VECTOR.layerNormBackward(x, 5, dy, 3, w, ms, rs, 1, null, 0, dw2, null, rows, n);
            float[] expected = new float[n];
            SCALAR.layerNormBackward(x, 5, dy, 3, w, ms, rs, 1, null, 0, expected, null, rows, n);
            assertClose("dweight alone", expected, dw2, 1e-5);
        }
    }

    /** Within tol·(1 + |value|) (float rounding of sums over a row and over rows). */
    private static void assertClose(String what, float[] expected, float[] actual, double tol) {
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            double bound = tol * (1 + Math.max(Math.abs(e), Math.abs(a)));
            if (!(Math.abs(e - a) <= bound)) {
                fail(what + " at " + i + ": scalar " + e + ", vector " + a + " (difference " + Math.abs(e - a)
                        + " > " + bound + ") " + Arrays.toString(Arrays.copyOf(actual, Math.min(8, actual.length))));
            }
        }
    }
}
