package dev.backprop.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The recurrent kernels: the vector LSTM and GRU cells (forward and backward) against the scalar one, the
 * reference, on hidden sizes 1, 4, 13, 207 and 4098 (whole vectors, tails, both) at odd offsets
 * with saturating pre-activations among the values, on one and two threads; and products with a
 * packed right operand against plain ones.
 */
class RecurrentKernelsParityTest {
    private static final int[] HIDDEN = {1, 4, 13, 207, 4098};
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final VectorKernels VECTOR = new VectorKernels();

    private static float[] values(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (i % 9) {
                case 0 -> 0f;
                case 1 -> (float) rnd.nextGaussian() * 12; // saturates σ and tanh
                case 2 -> -(float) Math.abs(rnd.nextGaussian()) * 40;
                default -> (float) rnd.nextGaussian() * scale;
            };
        }
        return v;
    }

    @TestFactory
    List<DynamicTest> lstmCellMatchesScalar() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int hidden : HIDDEN) {
            for (int rows : new int[] {1, 3, hidden < 100 ? 300 : 9}) {
                for (int threads : new int[] {1, 2}) {
                    tests.add(DynamicTest.dynamicTest("hidden=" + hidden + " rows=" + rows + " threads=" + threads,
                            () -> checkLstm(hidden, rows, threads)));
                }
            }
        }
        return tests;
    }

    private static void checkLstm(int hidden, int rows, int threads) {
        Random rnd = new Random(hidden * 31L + rows);
        int n = rows * hidden;
        int go = 3;
        int cpo = 1;
        int co = 2;
        int ho = 5;
        float[] pre = values(rnd, go + 4 * n + 2, 2f);
        float[] cPrev = values(rnd, cpo + n, 1.5f);
        float[] gs = pre.clone();
        float[] gv = pre.clone();
        float[] cs = new float[co + n + 1];
        float[] cv = new float[co + n + 1];
        float[] hs = new float[ho + n];
        float[] hv = new float[ho + n];
        SCALAR.lstmCell(rows, hidden, gs, go, cPrev, cpo, cs, co, hs, ho);
        int before = Kernels.threads();
        Kernels.setThreads(threads);
        try {
            VECTOR.lstmCell(rows, hidden, gv, go, cPrev, cpo, cv, co, hv, ho);
            assertClose("gates", gs, gv);
            assertClose("c", cs, cv);
            assertClose("h", hs, hv);
            assertEquals(pre[0], gv[0], "before the gates");
            assertEquals(pre[pre.length - 1], gv[gv.length - 1], "after the gates");

            // gradients of order 1: with |dh| of 40 the float rounding of tanh(c) near saturation,
            // amplified by dh in dh·o·(1 − tanh²c), exceeds the elementwise tolerance
            float[] dh = gaussian(rnd, 4 + n);
            float[] dcIn = gaussian(rnd, n);
            float[] dcs = dcIn.clone();
            float[] dcv = dcIn.clone();
            float[] dgs = new float[1 + 4 * n];
            float[] dgv = new float[1 + 4 * n];
            SCALAR.lstmCellBackward(rows, hidden, gs, go, cPrev, cpo, cs, co, dh, 4, dcs, 0, dgs, 1);
            VECTOR.lstmCellBackward(rows, hidden, gs, go, cPrev, cpo, cs, co, dh, 4, dcv, 0, dgv, 1);
            assertClose("d gates", dgs, dgv);
            assertClose("d cPrev", dcs, dcv);
        } finally {
            Kernels.setThreads(before);
        }
    }

    @TestFactory
    List<DynamicTest> gruCellMatchesScalar() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int hidden : HIDDEN) {
            for (int rows : new int[] {1, 3, hidden < 100 ? 300 : 9}) {
                for (int threads : new int[] {1, 2}) {
                    tests.add(DynamicTest.dynamicTest("hidden=" + hidden + " rows=" + rows + " threads=" + threads,
                            () -> checkGru(hidden, rows, threads)));
                }
            }
        }
        return tests;
    }

    private static void checkGru(int hidden, int rows, int threads) {
        Random rnd = new Random(hidden * 37L + rows);
        int n = rows * hidden;
        int go = 3;
        int hpo = 2;
        int hvo = 1;
        int ho = 5;
        float[] pre = values(rnd, go + 3 * n + 2, 2f);
        float[] hp = values(rnd, hpo + 3 * n, 2f);
        float[] hPrev = values(rnd, hvo + n, 1f);
        float[] gs = pre.clone();
        float[] gv = pre.clone();
        float[] hs = new float[ho + n];
        float[] hv = new float[ho + n];
        SCALAR.gruCell(rows, hidden, gs, go, hp, hpo, hPrev, hvo, hs, ho);
        int before = Kernels.threads();
        Kernels.setThreads(threads);
        try {
            VECTOR.gruCell(rows, hidden, gv, go, hp, hpo, hPrev, hvo, hv, ho);
            assertClose("gates", gs, gv);
            assertClose("h", hs, hv);
            assertEquals(pre[0], gv[0], "before the gates");
            assertEquals(pre[pre.length - 1], gv[gv.length - 1], "after the gates");

            float[] dhIn = gaussian(rnd, 4 + n);
            float[] dhs = dhIn.clone();
            float[] dhv = dhIn.clone();
            float[] dgs = new float[1 + 3 * n];
            float[] dgv = new float[1 + 3 * n];
            float[] dps = new float[2 + 3 * n];
            float[] dpv = new float[2 + 3 * n];
            SCALAR.gruCellBackward(rows, hidden, gs, go, hp, hpo, hPrev, hvo, dhs, 4, dgs, 1, dps, 2);
            VECTOR.gruCellBackward(rows, hidden, gs, go, hp, hpo, hPrev, hvo, dhv, 4, dgv, 1, dpv, 2);
            assertClose("d gates", dgs, dgv);
            assertClose("d hp", dps, dpv);
            assertClose("d hPrev (direct part)", dhs, dhv);
        } finally {
            Kernels.setThreads(before);
        }
    }

    @Test
    void gruCellFollowsItsFormulas() {
        // one row, hidden 1: x projections 0.5, -1, 2; hidden projections 0.25, 0.75, -0.5; hPrev 0.3
        float[] gates = {0.5f, -1f, 2f};
        float[] hp = {0.25f, 0.75f, -0.5f};
        float[] hPrev = {0.3f};
        float[] h = new float[1];
        SCALAR.gruCell(1, 1, gates, 0, hp, 0, hPrev, 0, h, 0);
        double r = 1 / (1 + Math.exp(-0.75));
        double z = 1 / (1 + Math.exp(0.25));
        double n = Math.tanh(2 + r * -0.5);
        assertEquals(r, gates[0], 1e-6);
        assertEquals(z, gates[1], 1e-6);
        assertEquals(n, gates[2], 1e-6);
        assertEquals((1 - z) * n + z * 0.3, h[0], 1e-6);
        float[] dh = {1f};
        float[] dg = new float[3];
        float[] dp = new float[3];
        SCALAR.gruCellBackward(1, 1, gates, 0, hp, 0, hPrev, 0, dh, 0, dg, 0, dp, 0);
        double dn = (1 - z) * (1 - n * n);
        assertEquals(dn * -0.5 * r * (1 - r), dg[0], 1e-6);
        assertEquals((0.3 - n) * z * (1 - z), dg[1], 1e-6);
        assertEquals(dn, dg[2], 1e-6);
        assertEquals(dg[0], dp[0]);
        assertEquals(dg[1], dp[1]);
        assertEquals(dn * r, dp[2], 1e-6);
        assertEquals(z, dh[0], 1e-6);
    }

    @Test
    void lstmCellFollowsItsFormulas() {
        // one row, hidden 1: i, f, g, o pre-activations 0.5, -1, 2, 0.25 and cPrev 0.7
        float[] gates = {0.5f, -1f, 2f, 0.25f};
        float[] cPrev = {0.7f};
        float[] c = new float[1];
        float[] h = new float[1];
        SCALAR.lstmCell(1, 1, gates, 0, cPrev, 0, c, 0, h, 0);
        double i = 1 / (1 + Math.exp(-0.5));
        double f = 1 / (1 + Math.exp(1));
        double g = Math.tanh(2);
        double o = 1 / (1 + Math.exp(-0.25));
        double cExpected = f * 0.7 + i * g;
        assertEquals(i, gates[0], 1e-6);
        assertEquals(f, gates[1], 1e-6);
        assertEquals(g, gates[2], 1e-6);
        assertEquals(o, gates[3], 1e-6);
        assertEquals(cExpected, c[0], 1e-6);
        assertEquals(o * Math.tanh(cExpected), h[0], 1e-6);
        // backward with dh = 1, dc = 0.5 against the derivative of the formulas
        float[] dc = {0.5f};
        float[] dg = new float[4];
        SCALAR.lstmCellBackward(1, 1, gates, 0, cPrev, 0, c, 0, new float[] {1f}, 0, dc, 0, dg, 0);
        double tc = Math.tanh(cExpected);
        double dct = 0.5 + o * (1 - tc * tc);
        assertEquals(dct * g * i * (1 - i), dg[0], 1e-6);
        assertEquals(dct * 0.7 * f * (1 - f), dg[1], 1e-6);
        assertEquals(dct * i * (1 - g * g), dg[2], 1e-6);
        assertEquals(tc * o * (1 - o), dg[3], 1e-6);
        assertEquals(dct * f, dc[0], 1e-6);
    }

    /** Relative 2e-6 plus absolute 3e-6, as for the other elementwise kernels. */
    private static void assertClose(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) || Float.isNaN(a) || Float.isInfinite(e) || Float.isInfinite(a)) {
                fail(what + " at " + i + ": not finite: scalar " + e + ", vector " + a);
            }
            double tol = 3e-6 + 2e-6 * Math.max(Math.abs(e), Math.abs(a));
            if (Math.abs(e - a) > tol) {
                fail(what + " at " + i + ": scalar " + e + ", vector " + a + " (difference " + Math.abs(e - a)
                        + " > " + tol + ")");
            }
        }
    }

    // ------------------------------------------------------------------ packed right operand

    @TestFactory
    List<DynamicTest> packedProductsEqualPlainOnes() {
        List<DynamicTest> tests = new ArrayList<>();
        int[][] shapes = {{32, 1024, 256}, {32, 256, 1024}, {5, 37, 300}, {1, 1, 1}, {17, 70, 513}, {64, 33, 16}};
        for (int[] s : shapes) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (boolean accumulate : new boolean[] {false, true}) {
                        String name = s[0] + "x" + s[1] + "x" + s[2] + (transA ? " Aᵀ" : "") + (transB ? " Bᵀ" : "")
                                + (accumulate ? " +=" : "");
                        tests.add(DynamicTest.dynamicTest(name, () -> checkPacked(s[0], s[1], s[2], transA, transB,
                                accumulate)));
                    }
                }
            }
        }
        return tests;
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static void checkPacked(int m, int n, int k, boolean transA, boolean transB, boolean accumulate) {
        Random rnd = new Random(m * 7919L + n * 31L + k);
        int lda = (transA ? m : k) + 3;
        int ldb = (transB ? k : n) + 1;
        int ldc = n + 2;
        float[] a = gaussian(rnd, 2 + (transA ? k : m) * lda);
        float[] b = gaussian(rnd, 5 + (transB ? n : k) * ldb);
        float[] c0 = gaussian(rnd, 1 + m * ldc);
        int before = Kernels.threads();
        try {
            for (int threads : new int[] {1, 2}) {
                Kernels.setThreads(threads);
                for (Kernels kernels : List.of(SCALAR, VECTOR)) {
                    float[] plain = c0.clone();
                    float[] packed = c0.clone();
                    kernels.gemm(transA, transB, m, n, k, a, 2, lda, b, 5, ldb, plain, 1, ldc, accumulate);
                    PackedMatrix p = kernels.pack(transB, k, n, b, 5, ldb);
                    assertEquals(k, p.rows());
                    assertEquals(n, p.cols());
                    kernels.gemm(transA, m, a, 2, lda, p, packed, 1, ldc, accumulate);
                    String what = kernels.name() + " threads=" + threads;
                    boolean tiled = kernels == SCALAR || VectorKernels.plan(m, n, k, transA ? 1 : lda, transA ? lda : 1,
                            transB ? 1 : ldb, transB ? ldb : 1) == VectorKernels.Path.TILED;
                    if (tiled) { // the same FMA chains in the same order: equal to the last bit
                        assertArrayEquals(plain, packed, what);
                    } else { // the plain product took another path: the same sums in another order
                        for (int i = 0; i < plain.length; i++) {
                            assertEquals(plain[i], packed[i], 1e-5 * k, what + " at " + i);
                        }
                    }
                }
            }
        } finally {
            Kernels.setThreads(before);
        }
    }
}
