package dev.backprop.kernels;

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
 * The vector row-softmax kernels against the scalar ones (the reference) on awkward sizes (1, 4,
 * 13, 207, 4098) at odd offsets, with positive, fractional and negative scales, −∞ entries and
 * in-place calls. Values agree to float rounding of the exponentials and sums.
 */
class SoftmaxParityTest {
    private static final int[] SIZES = {1, 4, 13, 16, 17, 64, 207, 4098};
    private static final float[] SCALES = {1f, 0.125f, -0.7f};
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final VectorKernels VECTOR = new VectorKernels();

    private static float[] scores(int n, Random rnd, boolean withInfinities) {
        float[] x = new float[n + 7];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * (i % 3 == 0 ? 6 : 1.5));
            if (withInfinities && i % 5 == 2) {
                x[i] = Float.NEGATIVE_INFINITY;
            }
        }
        return x;
    }

    @TestFactory
    List<DynamicTest> forwardAndBackwardMatchScalar() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int n : SIZES) {
            for (float scale : SCALES) {
                for (boolean inf : new boolean[] {false, true}) {
                    if (inf && scale < 0) {
                        continue; // −∞ · a negative scale is +∞: the row is NaN in both
                    }
                    tests.add(DynamicTest.dynamicTest("n=" + n + " scale=" + scale + (inf ? " with -inf" : ""),
                            () -> check(n, scale, inf)));
                }
            }
        }
        return tests;
    }

    private static void check(int n, float scale, boolean inf) {
        Random rnd = new Random(n * 131L + Float.floatToIntBits(scale) + (inf ? 7 : 0));
        float[] x = scores(n, rnd, inf);
        x[3] = 0.5f; // the row starts at offset 3: one finite value at least
        float[] ys = new float[n + 4];
        float[] yv = new float[n + 4];
        Arrays.fill(ys, 42f);
        Arrays.fill(yv, 42f);
        SCALAR.softmax(scale, x, 3, ys, 2, n);
        VECTOR.softmax(scale, x, 3, yv, 2, n);
        assertClose("forward", ys, yv);
        assertEquals(42f, yv[0]);
        assertEquals(42f, yv[n + 2], "nothing written past the row");
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += yv[2 + i];
        }
        assertEquals(1.0, total, 1e-5, "a row sums to 1");
        // in place gives the same values
        float[] inPlace = x.clone();
        VECTOR.softmax(scale, inPlace, 3, inPlace, 3, n);
        assertClose("in place", Arrays.copyOfRange(yv, 2, 2 + n), Arrays.copyOfRange(inPlace, 3, 3 + n));

        float[] dy = new float[n + 5];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) rnd.nextGaussian();
        }
        float[] ds = new float[n + 1];
        float[] dv = new float[n + 1];
        SCALAR.softmaxBackward(scale, ys, 2, dy, 4, ds, 1, n);
        VECTOR.softmaxBackward(scale, ys, 2, dy, 4, dv, 1, n);
        assertClose("backward", ds, dv);
        assertEquals(0f, dv[0], "nothing written before the row");
        float[] dyInPlace = dy.clone();
        VECTOR.softmaxBackward(scale, ys, 2, dyInPlace, 4, dyInPlace, 4, n);
        assertClose("backward in place", Arrays.copyOfRange(dv, 1, 1 + n), Arrays.copyOfRange(dyInPlace, 4, 4 + n));
    }

    @Test
    void aRowOfMinusInfinityIsNaNAsInPyTorch() {
        for (Kernels k : List.of(SCALAR, VECTOR)) {
            for (int n : new int[] {3, 16, 21}) {
                float[] x = new float[n];
                Arrays.fill(x, Float.NEGATIVE_INFINITY);
                float[] y = new float[n];
                k.softmax(0.5f, x, 0, y, 0, n);
                for (float v : y) {
                    assertTrue(Float.isNaN(v), k.name() + " n=" + n + ": " + Arrays.toString(y));
                }
            }
        }
    }

    @Test
    void largeScoresDoNotOverflow() {
        float[] x = {1000f, 999f, -1000f, 1000f, 0f};
        for (Kernels k : List.of(SCALAR, VECTOR)) {
            float[] y = new float[5];
            k.softmax(1f, x, 0, y, 0, 5);
            float e = (float) (1 / (2 + Math.exp(-1)));
            assertEquals(e, y[0], 1e-6f, k.name());
            assertEquals(e, y[3], 1e-6f, k.name());
            assertEquals(0f, y[2], k.name());
        }
    }

    @Test
    void emptyRowsAreLeftAlone() {
        float[] y = {5f};
        VECTOR.softmax(1f, new float[0], 0, y, 0, 0);
        VECTOR.softmaxBackward(1f, new float[0], 0, new float[0], 0, y, 0, 0);
        SCALAR.softmax(1f, new float[0], 0, y, 0, 0);
        assertEquals(5f, y[0]);
    }

    /** Within 3e-6 absolute plus 2e-6 relative (float rounding of exp and of the sums). */
    private static void assertClose(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) || Float.isNaN(a)) {
                if (Float.isNaN(e) != Float.isNaN(a)) {
                    fail(what + " at " + i + ": expected " + e + ", got " + a);
                }
                continue;
            }
            double tol = 3e-6 + 2e-6 * Math.max(Math.abs(e), Math.abs(a));
            if (Math.abs(e - a) > tol) {
                fail(what + " at " + i + ": scalar " + e + ", vector " + a + " (difference " + Math.abs(e - a)
                        + " > " + tol + ")");
            }
        }
    }
}
