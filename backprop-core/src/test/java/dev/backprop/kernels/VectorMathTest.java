package dev.backprop.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The arithmetic-only exp and tanh of the vector kernels against Math in double, in units in the last place. */
class VectorMathTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static float[] apply(boolean exp, float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            (exp ? VectorMath.exp(v) : VectorMath.tanh(v)).intoArray(y, i);
        }
        return y;
    }

    private static float[] sample(Random rnd, float lo, float hi) {
        float[] x = new float[S.length() * 4096];
        for (int i = 0; i < x.length; i++) {
            x[i] = lo + (hi - lo) * rnd.nextFloat();
        }
        return x;
    }

    private static double maxUlps(float[] x, float[] y, boolean exp) {
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double ref = exp ? Math.exp(x[i]) : Math.tanh(x[i]);
            float r = (float) ref;
            if (r == 0 || Float.isInfinite(r)) {
                continue;
            }
            worst = Math.max(worst, Math.abs(y[i] - ref) / Math.ulp(r));
        }
        return worst;
    }

    @Test
    void expWithinTwoUlps() {
        float[] x = sample(new Random(1), -87f, 88.5f);
        assertTrue(maxUlps(x, apply(true, x), true) <= 2, "max ulps " + maxUlps(x, apply(true, x), true));
        float[] small = sample(new Random(2), -1f, 1f);
        assertTrue(maxUlps(small, apply(true, small), true) <= 2);
    }

    @Test
    void tanhWithinThreeUlps() {
        for (float[] x : new float[][] {sample(new Random(3), -10f, 10f), sample(new Random(4), -0.7f, 0.7f),
                sample(new Random(5), -1e-3f, 1e-3f)}) {
            double u = maxUlps(x, apply(false, x), false);
            assertTrue(u <= 3, "max ulps " + u);
        }
    }

    @Test
    void specialValues() {
        float[] x = new float[S.length() * 2];
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 100f, -100f, 88.8f,
            -87.4f, 20f, -20f, 1e-30f};
        System.arraycopy(special, 0, x, 0, Math.min(special.length, x.length));
        float[] e = apply(true, x);
        float[] t = apply(false, x);
        assertTrue(Float.isNaN(e[0]) && Float.isNaN(t[0]));
        assertEquals(Float.POSITIVE_INFINITY, e[1]);
        assertEquals(1f, t[1]);
        assertEquals(0f, e[2]);
        assertEquals(-1f, t[2]);
        assertEquals(1f, e[3]);
        assertEquals(0f, t[3]);
        assertEquals(1f, e[4]);
        assertEquals(Float.POSITIVE_INFINITY, e[5]);
        assertEquals(0f, e[6]);
        assertEquals(Float.POSITIVE_INFINITY, e[7]);
        assertEquals(0f, e[8]); // below the smallest normal: flushed to zero
        assertEquals(1f, t[9]);
        assertEquals(-1f, t[10]);
        assertEquals(1e-30f, t[11]);
    }
}
