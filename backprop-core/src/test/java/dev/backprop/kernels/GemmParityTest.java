package dev.backprop.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every GEMM implementation and every path of {@link VectorKernels} against a double-precision
 * reference, on awkward sizes (1, 4, 13, 207, 4098 one dimension at a time, and mixed shapes),
 * all four transpose combinations, with and without accumulation, on tight, offset/padded and
 * broadcast (ld = 0) layouts. The tolerance is scaled by sqrt(k) and by Σ|a·b|, the size of the
 * terms: a dropped or doubled term is far outside it.
 */
class GemmParityTest {

    /** (m, n, k): one awkward dimension at a time with the others small, then mixed shapes. */
    private static final int[][] SHAPES = shapes();

    private static int[][] shapes() {
        List<int[]> s = new ArrayList<>();
        for (int d : new int[] {1, 4, 13, 207, 4098}) {
            s.add(new int[] {d, 5, 7});
            s.add(new int[] {6, d, 5});
            s.add(new int[] {5, 6, d});
        }
        s.addAll(List.of(
                new int[] {1, 1, 1}, new int[] {17, 33, 65}, new int[] {128, 10, 256}, new int[] {3, 4098, 5},
                new int[] {33, 65, 129}, new int[] {64, 64, 32}, new int[] {32, 9, 49}, new int[] {9, 40, 300},
                new int[] {40, 70, 600}, new int[] {16, 32, 16}, new int[] {8, 64, 17}));
        return s.toArray(int[][]::new);
    }

    private enum Layout { TIGHT, PADDED, BROADCAST_A, BROADCAST_B }

    /** An implementation under test: ScalarKernels, VectorKernels as planned, or one forced path. */
    private record Impl(String name, VectorKernels.Path path, Kernels kernels) {
        boolean accepts(boolean transA, boolean transB) {
            return path != VectorKernels.Path.DOT || !transA && transB && VectorKernels.dotPathAvailable();
        }

        void gemm(Case c, float[] out) {
            if (path == null) {
                kernels.gemm(c.transA, c.transB, c.m, c.n, c.k, c.a, c.aOff, c.lda, c.b, c.bOff, c.ldb, out, c.cOff,
                        c.ldc, c.accumulate);
            } else {
                VectorKernels.gemm(path, c.transA, c.transB, c.m, c.n, c.k, c.a, c.aOff, c.lda, c.b, c.bOff, c.ldb,
                        out, c.cOff, c.ldc, c.accumulate);
            }
        }
    }

    private static final List<Impl> IMPLS = List.of(
            new Impl("scalar", null, new ScalarKernels()),
            new Impl("vector", null, new VectorKernels()),
            new Impl("vector/TILED", VectorKernels.Path.TILED, null),
            new Impl("vector/SWAPPED", VectorKernels.Path.SWAPPED, null),
            new Impl("vector/DOT", VectorKernels.Path.DOT, null));

    /** One call's operands: A is m×k (stored k×m when transA), B k×n (stored n×k when transB). */
    private record Case(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                        float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean accumulate) {

        static Case random(long seed, boolean transA, boolean transB, int m, int n, int k, Layout layout,
                           boolean accumulate) {
            Random r = new Random(seed);
            boolean padded = layout != Layout.TIGHT;
            int aRows = transA ? k : m;
            int aCols = transA ? m : k;
            int bRows = transB ? n : k;
            int bCols = transB ? k : n;
            int aOff = padded ? 3 : 0;
            int bOff = padded ? 5 : 0;
            int cOff = padded ? 7 : 0;
            int lda = layout == Layout.BROADCAST_A ? 0 : aCols + (padded ? 3 : 0);
            int ldb = layout == Layout.BROADCAST_B ? 0 : bCols + (padded ? 2 : 0);
            int ldc = n + (padded ? 4 : 0);
            float[] a = fill(r, aOff + (aRows - 1) * lda + aCols + (padded ? 2 : 0));
            float[] b = fill(r, bOff + (bRows - 1) * ldb + bCols + (padded ? 2 : 0));
            float[] c = fill(r, cOff + (m - 1) * ldc + n + (padded ? 3 : 0));
            return new Case(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
        }

        double a(int i, int p) {
            return a[aOff + (transA ? p * lda + i : i * lda + p)];
        }

        double b(int p, int j) {
            return b[bOff + (transB ? j * ldb + p : p * ldb + j)];
        }

        int at(int i, int j) {
            return cOff + i * ldc + j;
        }

        boolean inWindow(int index) {
            int rel = index - cOff;
            return rel >= 0 && rel / ldc < m && rel % ldc < n;
        }

        String describe() {
            return (transA ? "T" : "N") + (transB ? "T" : "N") + " m=" + m + " n=" + n + " k=" + k + " lda=" + lda
                    + " ldb=" + ldb + " ldc=" + ldc + " offsets=" + aOff + "/" + bOff + "/" + cOff
                    + (accumulate ? " accumulate" : "");
        }
    }

    private static float[] fill(Random r, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = r.nextFloat() * 2 - 1;
        }
        return x;
    }

    /** Checks {@code out} (C after the call, starting from {@code c.c}) against the reference. */
    private static void check(String impl, Case c, float[] out) {
        for (int idx = 0; idx < out.length; idx++) {
            if (!c.inWindow(idx) && Float.floatToRawIntBits(out[idx]) != Float.floatToRawIntBits(c.c[idx])) {
                fail(impl + ", " + c.describe() + ": wrote outside C at index " + idx);
            }
        }
        double scale = 1e-6 * Math.sqrt(Math.max(1, c.k));
        for (int i = 0; i < c.m; i++) {
            for (int j = 0; j < c.n; j++) {
                double sum = c.accumulate ? c.c[c.at(i, j)] : 0;
                double size = Math.abs(sum);
                for (int p = 0; p < c.k; p++) {
                    double t = c.a(i, p) * c.b(p, j);
                    sum += t;
                    size += Math.abs(t);
                }
                double got = out[c.at(i, j)];
                if (!(Math.abs(got - sum) <= scale * size + 1e-30)) {
                    fail(impl + ", " + c.describe() + ": C[" + i + ", " + j + "] = " + got + ", expected " + sum
                            + " (tolerance " + scale * size + ")");
                }
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyImplementationMatchesTheReference() {
        List<DynamicTest> tests = new ArrayList<>();
        long seed = 1;
        for (int[] s : SHAPES) {
            for (Layout layout : Layout.values()) {
                for (int t = 0; t < 4; t++) {
                    boolean transA = (t & 2) != 0;
                    boolean transB = (t & 1) != 0;
                    for (boolean accumulate : new boolean[] {false, true}) {
                        Case c = Case.random(seed++, transA, transB, s[0], s[1], s[2], layout, accumulate);
                        tests.add(DynamicTest.dynamicTest(layout + " " + c.describe(), () -> {
                            for (Impl impl : IMPLS) {
                                if (impl.accepts(transA, transB)) {
                                    float[] out = c.c.clone();
                                    impl.gemm(c, out);
                                    check(impl.name, c, out);
                                }
                            }
                        }));
                    }
                }
            }
        }
        return tests.stream();
    }

    /** Large enough to be split over threads (above PARALLEL_FLOPS) and to use several k blocks. */
    @TestFactory
    Stream<DynamicTest> threadedResultsAreBitIdenticalToOneThread() {
        int[][] shapes = {{300, 200, 100}, {64, 700, 300}, {1000, 37, 90}, {37, 1000, 90}, {129, 129, 600}};
        List<DynamicTest> tests = new ArrayList<>();
        long seed = 1000;
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                boolean transA = (t & 2) != 0;
                boolean transB = (t & 1) != 0;
                Case c = Case.random(seed++, transA, transB, s[0], s[1], s[2], Layout.PADDED, t == 2);
                tests.add(DynamicTest.dynamicTest(c.describe(), () -> {
                    assertTrue(2L * c.m * c.n * c.k >= VectorKernels.PARALLEL_FLOPS, "too small to be split");
                    int before = Kernels.threads();
                    try {
                        for (Impl impl : IMPLS.subList(1, IMPLS.size())) {
                            if (!impl.accepts(transA, transB)) {
                                continue;
                            }
                            Kernels.setThreads(1);
                            float[] one = c.c.clone();
                            impl.gemm(c, one);
                            check(impl.name, c, one);
                            for (int threads : new int[] {2, 3, 5}) {
                                Kernels.setThreads(threads);
                                float[] many = c.c.clone();
                                impl.gemm(c, many);
                                assertArrayEquals(one, many, impl.name + " on " + threads + " threads differs from "
                                        + "one thread: " + c.describe());
                            }
                        }
                    } finally {
                        Kernels.setThreads(before);
                    }
                }));
            }
        }
        return tests.stream();
    }

    @Test
    void emptyAndZeroDepthProducts() {
        for (Kernels k : List.of(new ScalarKernels(), new VectorKernels())) {
            float[] c = {Float.NaN, 2, 3, 4, 5, 6, 7};
            k.gemm(false, false, 2, 3, 0, new float[0], 0, 0, new float[0], 0, 3, c, 1, 3, false);
            assertArrayEquals(new float[] {Float.NaN, 0, 0, 0, 0, 0, 0}, c, k.name() + ": k = 0 sets C to zero");
            float[] d = {1, 2, 3};
            k.gemm(false, false, 1, 3, 0, new float[0], 0, 0, new float[0], 0, 3, d, 0, 3, true);
            assertArrayEquals(new float[] {1, 2, 3}, d, k.name() + ": k = 0 accumulating leaves C");
            k.gemm(false, false, 0, 3, 5, new float[0], 0, 5, new float[15], 0, 3, d, 0, 3, false);
            k.gemm(false, false, 1, 0, 5, new float[5], 0, 5, new float[0], 0, 0, d, 0, 0, false);
            assertArrayEquals(new float[] {1, 2, 3}, d, k.name() + ": m = 0 or n = 0 writes nothing");
        }
    }

    @Test
    void overwritingIgnoresWhatWasInC() {
        float[] a = {1, 2, 3, 4};
        float[] b = {5, 6, 7, 8};
        for (Kernels k : List.of(new ScalarKernels(), new VectorKernels())) {
            float[] c = {Float.NaN, Float.POSITIVE_INFINITY, -0f, 1e30f};
            k.gemm(false, false, 2, 2, 2, a, 0, 2, b, 0, 2, c, 0, 2, false);
            assertArrayEquals(new float[] {19, 22, 43, 50}, c, k.name());
        }
    }

    @Test
    void selectionHonoursTheProperty() {
        assertInstanceOf(ScalarKernels.class, KernelsHolder.select("scalar"));
        assertInstanceOf(ScalarKernels.class, KernelsHolder.select(" Scalar "));
        // the tests run with --add-modules jdk.incubator.vector
        assertNull(KernelsHolder.vectorUnavailable());
        assertInstanceOf(VectorKernels.class, KernelsHolder.select("vector"));
        assertInstanceOf(VectorKernels.class, KernelsHolder.select(null));
        assertInstanceOf(VectorKernels.class, KernelsHolder.select("auto"));
        assertInstanceOf(VectorKernels.class, KernelsHolder.select(""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelsHolder.select("gpu"));
        assertTrue(e.getMessage().contains("scalar, vector or auto"), e.getMessage());
        assertEquals("scalar", new ScalarKernels().name());
        // the kernels in use follow -Dbackprop.kernels (the scalar test run sets it)
        String forced = System.getProperty("backprop.kernels");
        assertTrue(Kernels.get().name().startsWith("scalar".equals(forced) ? "scalar" : "vector"), Kernels.get().name());
    }

    @Test
    void threadCountIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> Kernels.setThreads(0));
        assertTrue(Kernels.threads() >= 1);
    }

    @Test
    void planPicksTheExpectedPathForTheWorkloadShapes() {
        // x·Wᵀ with a narrow W (logits) reads both operands along k: dot products (on 16 lanes)
        assertEquals(VectorKernels.dotPathAvailable() ? VectorKernels.Path.DOT : VectorKernels.Path.TILED,
                plan(false, true, 128, 10, 256));
        if (VectorKernels.dotPathAvailable()) { // 16 lanes: a tile is 8 × 32
            // xᵀ·dy with a narrow dy (weight gradient of the logits layer): vectors along m
            assertEquals(VectorKernels.Path.SWAPPED, plan(true, false, 256, 10, 128));
        }
        // square products: register tiles
        assertEquals(VectorKernels.Path.TILED, plan(false, false, 512, 512, 512));
        assertEquals(VectorKernels.Path.TILED, plan(false, true, 768, 384, 128));
        assertEquals(VectorKernels.Path.TILED, plan(true, false, 784, 512, 128));
    }

    private static VectorKernels.Path plan(boolean transA, boolean transB, int m, int n, int k) {
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        return VectorKernels.plan(m, n, k, transA ? 1 : lda, transA ? lda : 1, transB ? 1 : ldb, transB ? ldb : 1);
    }

    @Test
    void referenceCheckCatchesAWrongResult() {
        Case c = Case.random(7, false, false, 5, 6, 300, Layout.PADDED, false);
        float[] out = c.c.clone();
        new VectorKernels().gemm(false, false, 5, 6, 300, c.a, c.aOff, c.lda, c.b, c.bOff, c.ldb, out, c.cOff, c.ldc,
                false);
        check("vector", c, out);
        // drop the largest of the 300 terms of C[2, 3]: the check must notice
        int largest = 0;
        for (int p = 1; p < c.k; p++) {
            if (Math.abs(c.a(2, p) * c.b(p, 3)) > Math.abs(c.a(2, largest) * c.b(largest, 3))) {
                largest = p;
            }
        }
        float[] wrong = out.clone();
        wrong[c.at(2, 3)] -= (float) (c.a(2, largest) * c.b(largest, 3));
        AssertionError e = assertThrows(AssertionError.class, () -> check("broken", c, wrong));
        assertTrue(e.getMessage().contains("C[2, 3]"), e.getMessage());
        // and a write outside the m×n window
        float[] outside = out.clone();
        outside[c.at(4, c.n)] += 1; // in the padding between rows
        assertThrows(AssertionError.class, () -> check("broken", c, outside));
    }
}
