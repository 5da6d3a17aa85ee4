package dev.backprop.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD kernels on the JDK Vector API (module {@code jdk.incubator.vector}).
 *
 * <p>GEMM follows the BLIS/GotoBLAS layering: C is cut into MR×NR register tiles (8 rows × two
 * vectors), each computed by {@link #tile} as MR·2 vector accumulators updated with one FMA per
 * (row, vector) and step of k. Around it, k is cut into blocks of at most KC steps so that one
 * KC×NR panel of B stays in L1 while the MC×KC block of A streams from L2. Operands are read in
 * place when that is cheap (a row-major B, any A) and otherwise packed into reused per-thread
 * buffers; packing only moves values, it never changes the order of the arithmetic, so every
 * element of C is the same sum in the same order whatever the path, the blocking of m and n, or
 * the number of threads.
 */
public final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int L = SPECIES.length();
    /** Rows of a register tile. */
    static final int MR = 8;
    /** Columns of a register tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of one k block: a KC×NR panel of B (32 KiB at 512 bits) stays in L1. */
    static int KC = Integer.getInteger("backprop.gemm.kc", 256);
    /** Rows of one A block: MC×KC floats (128 KiB) stay in L2. A multiple of MR. */
    static int MC = Integer.getInteger("backprop.gemm.mc", 128);
    /** Columns of one packed B block: KC×NC floats (1 MiB). A multiple of NR. */
    static int NC = Integer.getInteger("backprop.gemm.nc", 1024);
    /** Below this many floating-point operations a call runs on the calling thread alone. */
    static final long PARALLEL_FLOPS = Long.getLong("backprop.gemm.parflops", 2_000_000L);
    static int PACK_A = Integer.getInteger("backprop.gemm.packa", 1 << 16);
    static int PACK_B = Integer.getInteger("backprop.gemm.packb", 1 << 16);

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /**
     * Why these kernels would not pay off here, or null. Touching {@link #SPECIES} initialises the
     * Vector API, so this also fails (with a LinkageError) when the module cannot be used.
     */
    static String unsupportedReason() {
        if (SPECIES.vectorBitSize() < 128) {
            return "the preferred vector is only " + SPECIES.vectorBitSize() + " bits";
        }
        return null;
    }

    @Override
    public String name() {
        return "vector (" + SPECIES.vectorBitSize() + "-bit)";
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
                }
            }
            return;
        }
        // A(i, p) = a[aOff + i * ars + p * acs];  B(p, j) = b[bOff + p * brs + j * bcs]
        int ars = transA ? 1 : lda;
        int acs = transA ? lda : 1;
        int brs = transB ? 1 : ldb;
        int bcs = transB ? ldb : 1;
        boolean packA = (long) m * k > PACK_A;
        boolean packB = bcs != 1 || (long) k * n > PACK_B;
        int kcStep = kStep(k);
        long flops = 2L * m * n * k;
        int threads = flops < PARALLEL_FLOPS ? 1 : KernelPool.threads();
        int tilesM = (m + MR - 1) / MR;
        int tilesN = (n + NR - 1) / NR;
        boolean splitN = tilesN >= threads && tilesN * 2 >= tilesM || tilesM < threads;
        int parts = Math.min(threads, splitN ? tilesN : tilesM);
        if (parts <= 1) {
            blocked(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, k, kcStep, accumulate, packA, packB,
                    0, m, 0, n);
            return;
        }
        KernelPool.run(parts, part -> {
            if (splitN) {
                int j0 = Math.min(n, (int) ((long) tilesN * part / parts) * NR);
                int j1 = Math.min(n, (int) ((long) tilesN * (part + 1) / parts) * NR);
                blocked(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, k, kcStep, accumulate, packA, packB,
                        0, m, j0, j1);
            } else {
                int i0 = Math.min(m, (int) ((long) tilesM * part / parts) * MR);
                int i1 = Math.min(m, (int) ((long) tilesM * (part + 1) / parts) * MR);
                blocked(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, k, kcStep, accumulate, packA, packB,
                        i0, i1, 0, n);
            }
        });
    }

    /** k blocks of equal depth, at most KC: 300 → 150 + 150 rather than 256 + 44. */
    private static int kStep(int k) {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }

    /** C[i0:i1, j0:j1] (+)= A[i0:i1, :] · B[:, j0:j1] on the calling thread. */
    private static void blocked(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                                float[] c, int cOff, int ldc, int k, int kcStep, boolean accumulate,
                                boolean packA, boolean packB, int i0, int i1, int j0, int j1) {
        Workspace ws = WORKSPACE.get();
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += kcStep) {
                int kc = Math.min(kcStep, k - pc);
                boolean add = accumulate || pc > 0;
                float[] bp = null;
                if (packB) {
                    bp = ws.packedB(kc * roundUp(nc, NR));
                    packB(b, bOff + pc * brs + jc * bcs, brs, bcs, kc, nc, bp);
                }
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    float[] ap = null;
                    if (packA) {
                        ap = ws.packedA(kc * roundUp(mc, MR));
                        packA(a, aOff + ic * ars + pc * acs, ars, acs, mc, kc, ap);
                    }
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        float[] bArr;
                        int bi;
                        int bs;
                        if (packB) {
                            bArr = bp;
                            bi = jr * kc;
                            bs = NR;
                        } else if (cols == NR) {
                            bArr = b;
                            bi = bOff + pc * brs + jc + jr;
                            bs = brs;
                        } else { // a partial panel read in place would run past the matrix
                            bArr = ws.edgeB(kc * NR);
                            bi = 0;
                            bs = NR;
                            packB(b, bOff + pc * brs + (jc + jr) * bcs, brs, bcs, kc, cols, bArr);
                        }
                        for (int ir = 0; ir < mc; ir += MR) {
                            int rows = Math.min(MR, mc - ir);
                            float[] aArr;
                            int ai;
                            int as;
                            int ac;
                            if (packA) {
                                aArr = ap;
                                ai = ir * kc;
                                as = 1;
                                ac = MR;
                            } else if (rows == MR) {
                                aArr = a;
                                ai = aOff + (ic + ir) * ars + pc * acs;
                                as = ars;
                                ac = acs;
                            } else {
                                aArr = ws.edgeA(kc * MR);
                                ai = 0;
                                as = 1;
                                ac = MR;
                                packA(a, aOff + (ic + ir) * ars + pc * acs, ars, acs, rows, kc, aArr);
                            }
                            tile(kc, aArr, ai, as, ac, bArr, bi, bs, c, cOff + (ic + ir) * ldc + jc + jr, ldc,
                                    rows, cols, add, ws.tile);
                        }
                    }
                }
            }
        }
    }

    /**
     * One MR×NR tile: C[r, j] (+)= Σ_p A(r, p) · B(p, j) over kc steps, with A(r, p) at
     * {@code a[ai + r * as + p * ac]} and B(p, j) at {@code b[bi + p * bs + j]}. Only the top-left
     * rows×cols corner is written; the operands must be readable (padded) for the whole tile.
     */
    private static void tile(int kc, float[] a, int ai, int as, int ac, float[] b, int bi, int bs,
                             float[] c, int ci, int ldc, int rows, int cols, boolean add, float[] spill) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES);
        FloatVector c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES);
        FloatVector c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES);
        FloatVector c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES);
        FloatVector c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES);
        FloatVector c51 = FloatVector.zero(SPECIES);
        FloatVector c60 = FloatVector.zero(SPECIES);
        FloatVector c61 = FloatVector.zero(SPECIES);
        FloatVector c70 = FloatVector.zero(SPECIES);
        FloatVector c71 = FloatVector.zero(SPECIES);
        for (int p = 0; p < kc; p++) {
            int ap = ai + p * ac;
            int bp = bi + p * bs;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + L);
            FloatVector x = FloatVector.broadcast(SPECIES, a[ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(SPECIES, a[ap + as]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(SPECIES, a[ap + 2 * as]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(SPECIES, a[ap + 3 * as]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(SPECIES, a[ap + 4 * as]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(SPECIES, a[ap + 5 * as]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(SPECIES, a[ap + 6 * as]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(SPECIES, a[ap + 7 * as]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        // Through a small buffer rather than straight into C: the tile's code stays small enough
        // for C2 to keep all sixteen accumulators in registers (inlining sixteen load-add-stores
        // here made it box them, 10x slower).
        c00.intoArray(spill, 0);
        c01.intoArray(spill, L);
        c10.intoArray(spill, NR);
        c11.intoArray(spill, NR + L);
        c20.intoArray(spill, 2 * NR);
        c21.intoArray(spill, 2 * NR + L);
        c30.intoArray(spill, 3 * NR);
        c31.intoArray(spill, 3 * NR + L);
        c40.intoArray(spill, 4 * NR);
        c41.intoArray(spill, 4 * NR + L);
        c50.intoArray(spill, 5 * NR);
        c51.intoArray(spill, 5 * NR + L);
        c60.intoArray(spill, 6 * NR);
        c61.intoArray(spill, 6 * NR + L);
        c70.intoArray(spill, 7 * NR);
        c71.intoArray(spill, 7 * NR + L);
        writeTile(spill, c, ci, ldc, rows, cols, add);
    }

    /** C[r, j] = t[r, j] (or C[r, j] + t[r, j] when add) for the rows×cols corner of an MR×NR tile. */
    private static void writeTile(float[] t, float[] c, int ci, int ldc, int rows, int cols, boolean add) {
        int vectorCols = cols == NR ? NR : 0;
        for (int r = 0; r < rows; r++) {
            int row = ci + r * ldc;
            int j = 0;
            for (; j < vectorCols; j += L) {
                FloatVector v = FloatVector.fromArray(SPECIES, t, r * NR + j);
                if (add) {
                    v = v.add(FloatVector.fromArray(SPECIES, c, row + j));
                }
                v.intoArray(c, row + j);
            }
            for (; j < cols; j++) {
                float s = t[r * NR + j];
                c[row + j] = add ? c[row + j] + s : s;
            }
        }
    }

    /**
     * Packs the kc×nc block B(p, j) = b[off + p * brs + j * bcs] into NR-wide panels, panel q at
     * {@code q * kc * NR}, row p of a panel at {@code p * NR}; columns past nc are zero.
     */
    private static void packB(float[] b, int off, int brs, int bcs, int kc, int nc, float[] bp) {
        for (int j = 0; j < nc; j += NR) {
            int w = Math.min(NR, nc - j);
            int base = j * kc;
            if (bcs == 1) {
                for (int p = 0; p < kc; p++) {
                    int src = off + p * brs + j;
                    int dst = base + p * NR;
                    if (w == NR) {
                        FloatVector.fromArray(SPECIES, b, src).intoArray(bp, dst);
                        FloatVector.fromArray(SPECIES, b, src + L).intoArray(bp, dst + L);
                    } else {
                        System.arraycopy(b, src, bp, dst, w);
                        java.util.Arrays.fill(bp, dst + w, dst + NR, 0f);
                    }
                }
            } else {
                for (int jj = 0; jj < w; jj++) {
                    int src = off + (j + jj) * bcs;
                    int dst = base + jj;
                    for (int p = 0; p < kc; p++) {
                        bp[dst + p * NR] = b[src + p * brs];
                    }
                }
                if (w < NR) {
                    for (int p = 0; p < kc; p++) {
                        java.util.Arrays.fill(bp, base + p * NR + w, base + (p + 1) * NR, 0f);
                    }
                }
            }
        }
    }

    /**
     * Packs the mc×kc block A(i, p) = a[off + i * ars + p * acs] into MR-tall panels, panel r at
     * {@code r * kc * MR}, column p of a panel at {@code p * MR}; rows past mc are zero.
     */
    private static void packA(float[] a, int off, int ars, int acs, int mc, int kc, float[] ap) {
        for (int i = 0; i < mc; i += MR) {
            int h = Math.min(MR, mc - i);
            int base = i * kc;
            if (ars == 1) {
                for (int p = 0; p < kc; p++) {
                    int src = off + p * acs + i;
                    int dst = base + p * MR;
                    for (int ii = 0; ii < h; ii++) {
                        ap[dst + ii] = a[src + ii];
                    }
                }
            } else {
                for (int ii = 0; ii < h; ii++) {
                    int src = off + (i + ii) * ars;
                    int dst = base + ii;
                    for (int p = 0; p < kc; p++) {
                        ap[dst + p * MR] = a[src + p * acs];
                    }
                }
            }
            if (h < MR) {
                for (int p = 0; p < kc; p++) {
                    java.util.Arrays.fill(ap, base + p * MR + h, base + (p + 1) * MR, 0f);
                }
            }
        }
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        private float[] a = new float[0];
        private float[] b = new float[0];
        private final float[] edgeA = new float[4096 * MR];
        private final float[] edgeB = new float[4096 * NR];
        final float[] tile = new float[MR * NR];

        float[] packedA(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] packedB(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }

        float[] edgeA(int size) {
            return edgeA;
        }

        float[] edgeB(int size) {
            return edgeB;
        }
    }
}
