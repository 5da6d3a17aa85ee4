package dev.backprop.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The vector elementwise kernels against the scalar ones (the reference), on awkward sizes (1, 4,
 * 13, 207, 4098 and one above the threading threshold) at odd offsets, with values chosen to
 * cover each function's regions (negative, zero, large, saturating). Transcendental functions may
 * differ by float rounding: the tolerance is a few units in the last place of the result's scale.
 * The Adam update must match exactly.
 */
class ElementwiseParityTest {
    private static final int[] SIZES = {1, 4, 13, 207, 4098, 2 * VectorKernels.ELEMENTWISE_PART + 77};
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final VectorKernels VECTOR = new VectorKernels();

    private static float[] inputs(UnaryOp op, int n, Random rnd) {
        float[] x = new float[n + 5];
        for (int i = 0; i < x.length; i++) {
            float v = switch (i % 7) {
                case 0 -> 0f;
                case 1 -> (float) rnd.nextGaussian();
                case 2 -> (float) rnd.nextGaussian() * 8;
                case 3 -> -(float) rnd.nextGaussian() * 30; // saturating tanh/sigmoid, exp under/overflow
                case 4 -> (float) rnd.nextGaussian() * 1e-3f;
                default -> (float) rnd.nextGaussian() * 2;
            };
            x[i] = op == UnaryOp.LOG || op == UnaryOp.SQRT ? Math.abs(v) + 1e-3f : v;
        }
        return x;
    }

    @TestFactory
    List<DynamicTest> unaryForwardAndBackwardMatchScalar() {
        List<DynamicTest> tests = new ArrayList<>();
        for (UnaryOp op : UnaryOp.values()) {
            for (int n : SIZES) {
                tests.add(DynamicTest.dynamicTest(op + " n=" + n, () -> check(op, n)));
            }
        }
        return tests;
    }

    private static void check(UnaryOp op, int n) {
        Random rnd = new Random(n * 31L + op.ordinal());
        float p = op == UnaryOp.AFFINE ? 1.7f : 0.01f;
        float q = op == UnaryOp.AFFINE ? -0.3f : 0f;
        float[] x = inputs(op, n, rnd);
        int xo = 3;
        float[] ys = new float[n + 2];
        float[] yv = new float[n + 2];
        SCALAR.unary(op, p, q, x, xo, ys, 1, n);
        Kernels.setThreads(2);
        try {
            VECTOR.unary(op, p, q, x, xo, yv, 1, n);
        } finally {
            Kernels.setThreads(Runtime.getRuntime().availableProcessors());
        }
        assertClose(op + " forward", ys, yv, x, xo);
        float[] dy = new float[n + 4];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) rnd.nextGaussian();
        }
        float[] ds = new float[n];
        float[] dv = new float[n];
        SCALAR.unaryBackward(op, p, q, x, xo, ys, 1, dy, 2, ds, 0, n);
        VECTOR.unaryBackward(op, p, q, x, xo, ys, 1, dy, 2, dv, 0, n);
        assertClose(op + " backward", ds, dv, x, xo);
    }

    /**
     * Within 2e-6 relative (about 16 ulps: float pipelines of several rounded steps) plus 3e-6
     * absolute: the values are of order 1 and
     * some formulas cancel terms of that size (GELU's derivative near x = -3), which float lanes
     * cannot resolve better.
     */
    private static void assertClose(String what, float[] expected, float[] actual, float[] x, int xo) {
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) || Float.isNaN(a)) {
                if (Float.isNaN(e) != Float.isNaN(a)) {
                    fail(what + " at " + i + ": expected " + e + ", got " + a);
                }
                continue;
            }
            if (Float.isInfinite(e) || Float.isInfinite(a)) {
                assertEquals(e, a, what + " at " + i);
                continue;
            }
            double tol = 3e-6 + 2e-6 * Math.max(Math.abs(e), Math.abs(a));
            if (Math.abs(e - a) > tol) {
                fail(what + " at " + i + ": scalar " + e + ", vector " + a + " (difference " + Math.abs(e - a)
                        + " > " + tol + ")");
            }
        }
    }

    @Test
    void outputOutsideTheRangeIsNotTouched() {
        float[] x = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16, 17, -18, 19, -20};
        float[] y = new float[x.length + 2];
        Arrays.fill(y, 42f);
        VECTOR.unary(UnaryOp.RELU, 0, 0, x, 0, y, 1, 17);
        assertEquals(42f, y[0]);
        assertEquals(42f, y[18]);
        assertEquals(1f, y[1]);
        assertEquals(0f, y[2]);
    }

    @TestFactory
    List<DynamicTest> binaryMatchesScalarExactly() {
        List<DynamicTest> tests = new ArrayList<>();
        int[][] strides = {{1, 1}, {1, 0}, {0, 1}, {0, 0}, {2, 1}, {1, 3}};
        for (BinaryOp op : BinaryOp.values()) {
            for (int n : SIZES) {
                for (int[] st : strides) {
                    tests.add(DynamicTest.dynamicTest(op + " n=" + n + " strides " + st[0] + "," + st[1], () -> {
                        Random rnd = new Random(n + op.ordinal());
                        float[] a = randn(rnd, 3 * n + 5);
                        float[] b = randn(rnd, 3 * n + 5);
                        b[4] = 0f; // division by zero: the same infinity or NaN on both sides
                        float[] expected = new float[n + 1];
                        float[] actual = new float[n + 1];
                        SCALAR.binary(op, a, 2, st[0], b, 4, st[1], expected, 1, n);
                        VECTOR.binary(op, a, 2, st[0], b, 4, st[1], actual, 1, n);
                        assertArrayEquals(expected, actual);
                        for (int i = 0; i < n; i++) {
                            assertEquals(op.apply(a[2 + i * st[0]], b[4 + i * st[1]]), actual[1 + i]);
                        }
                    }));
                }
            }
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> sumMatchesScalar() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int n : SIZES) {
            tests.add(DynamicTest.dynamicTest("sum n=" + n, () -> {
                Random rnd = new Random(n);
                float[] x = randn(rnd, n + 3);
                double abs = 0;
                for (int i = 2; i < n + 2; i++) {
                    abs += Math.abs(x[i]);
                }
                double expected = SCALAR.sum(x, 2, n);
                double actual = VECTOR.sum(x, 2, n);
                // float lanes: each partial sum rounds at most 64 times to float precision
                assertEquals(expected, actual, 1e-6 + 64 * 0x1p-24 * abs, "sum of " + n);
                assertEquals(actual, VECTOR.sum(x, 2, n)); // the same on every call
            }));
        }
        tests.add(DynamicTest.dynamicTest("sum of nothing", () -> assertEquals(0.0, VECTOR.sum(new float[3], 1, 0))));
        return tests;
    }

    @TestFactory
    List<DynamicTest> sumOfSquaresMatchesScalar() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int n : SIZES) {
            tests.add(DynamicTest.dynamicTest("sum of squares n=" + n, () -> {
                float[] x = randn(new Random(n + 7), n + 3);
                double expected = SCALAR.sumOfSquares(x, 2, n);
                double actual = VECTOR.sumOfSquares(x, 2, n);
                // all terms are positive: float lanes over blocks of 1024 lose at most ~64 ulps relative
                assertEquals(expected, actual, 1e-9 + 64 * 0x1p-24 * expected, "sum of squares of " + n);
                assertEquals(actual, VECTOR.sumOfSquares(x, 2, n)); // the same on every call
            }));
        }
        for (int n : SIZES) {
            tests.add(DynamicTest.dynamicTest("sum of squared differences n=" + n, () -> {
                float[] a = randn(new Random(n + 11), n + 3);
                float[] b = randn(new Random(n + 13), n + 1);
                double expected = SCALAR.sumOfSquaredDifferences(a, 2, b, 1, n);
                double actual = VECTOR.sumOfSquaredDifferences(a, 2, b, 1, n);
                assertEquals(expected, actual, 1e-9 + 64 * 0x1p-24 * expected, "n=" + n);
                assertEquals(0.0, VECTOR.sumOfSquaredDifferences(a, 2, a, 2, n));
            }));
        }
        for (int n : SIZES) {
            tests.add(DynamicTest.dynamicTest("copy with sum of squares n=" + n, () -> {
                float[] x = randn(new Random(n + 17), n + 3);
                for (Kernels k : new Kernels[] {SCALAR, VECTOR}) {
                    float[] copy = new float[n + 5];
                    double s = k.copySumOfSquares(x, 2, copy, 4, n);
                    assertEquals(k.sumOfSquares(x, 2, n), s, k.name() + " n=" + n); // bit for bit
                    assertArrayEquals(Arrays.copyOfRange(x, 2, 2 + n),
                            Arrays.copyOfRange(copy, 4, 4 + n), k.name());
                    assertEquals(0f, copy[3]);
                    assertEquals(0f, copy[4 + n]);
                }
            }));
        }
        tests.add(DynamicTest.dynamicTest("squares overflow in float (as torch's float32 norm), NaN stays NaN", () -> {
            float[] big = new float[40];
            big[3] = 3e20f;
            assertEquals(Double.POSITIVE_INFINITY, SCALAR.sumOfSquares(big, 0, 40));
            assertEquals(Double.POSITIVE_INFINITY, VECTOR.sumOfSquares(big, 0, 40));
            big[3] = 1e18f; // its square is still a float
            assertEquals(SCALAR.sumOfSquares(big, 0, 40), VECTOR.sumOfSquares(big, 0, 40), 1e36 * 1e-6);
            float[] nan = new float[40];
            nan[33] = Float.NaN;
            assertTrue(Double.isNaN(VECTOR.sumOfSquares(nan, 0, 40)) && Double.isNaN(SCALAR.sumOfSquares(nan, 0, 40)));
        }));
        return tests;
    }

    @TestFactory
    List<DynamicTest> adamMatchesScalarExactly() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int n : SIZES) {
            for (String mode : List.of("plain", "l2", "decoupled")) {
                tests.add(DynamicTest.dynamicTest("adam " + mode + " n=" + n, () -> {
                    Random rnd = new Random(n);
                    float wd = mode.equals("plain") ? 0f : 0.1f;
                    AdamStep s = new AdamStep(0.9f, 0.99f, 1e-8f, wd, mode.equals("decoupled"), 1e-3f / 0.19f,
                            (float) Math.sqrt(1 - 0.99 * 0.99), 1 - 1e-3f * wd);
                    float[] p = randn(rnd, n + 2);
                    float[] g = randn(rnd, n + 1);
                    float[] m = randn(rnd, n);
                    float[] v = randn(rnd, n);
                    for (int i = 0; i < n; i++) {
                        v[i] = Math.abs(v[i]);
                    }
                    float[] p2 = p.clone();
                    float[] m2 = m.clone();
                    float[] v2 = v.clone();
                    for (int t = 0; t < 3; t++) {
                        SCALAR.adam(s, p, 2, g, 1, m, v, n);
                        VECTOR.adam(s, p2, 2, g, 1, m2, v2, n);
                    }
                    assertArrayEquals(p, p2);
                    assertArrayEquals(m, m2);
                    assertArrayEquals(v, v2);
                }));
            }
        }
        return tests;
    }

    private static float[] randn(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
