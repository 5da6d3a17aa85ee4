package dev.backprop.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD kernels on the JDK Vector API (module {@code jdk.incubator.vector}).
 *
 * <p>GEMM has three paths, chosen per call from the shape and layout alone (never from the thread
 * count, so results do not depend on it):
 * <ul>
 * <li>{@link Path#TILED}, the BLIS/GotoBLAS layering: C is cut into MR×NR register tiles (8 rows
 * × two vectors), each computed by {@link #tile} in 16 vector accumulators with one FMA per (row,
 * vector) and step of k. Around it, k is cut into blocks of at most KC steps so that a KC×NR panel
 * of B stays in L1 while the rows of A stream from L2. A is read in place whatever its layout
 * (its elements are broadcast one at a time); B is read in place when its rows are contiguous and
 * the problem small, and otherwise packed into NR-wide panels in a reused per-thread buffer.
 * <li>{@link Path#SWAPPED}: the same on Cᵀ = Bᵀ·Aᵀ, whose vectors run along m, for narrow outputs
 * such as (256×128)·(128×10) whose n would fill a third of a tile.
 * <li>{@link Path#DOT}: C[i, j] as dot products along k, 4×4 outputs at a time, when rows of A
 * and columns of B are both contiguous (x·Wᵀ): nothing to pack, and no waste on narrow outputs.
 * </ul>
 * On the tiled paths each element of C is one FMA chain over k in order (starting from C when
 * accumulating); on the dot path, 16 lane-wise FMA chains summed by a fixed butterfly, then the
 * scalar tail of k. Packing only moves values and blocking over m and n never splits a sum, so
 * results do not depend on the blocking or the number of threads; they differ from
 * {@link ScalarKernels} by rounding. Threads split C into bands ({@link KernelPool}).
 */
public final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int L = SPECIES.length();
    /** The 16×16 transposes (packing) and 16-way reductions (dot path) are written for 16 lanes. */
    private static final boolean LANES16 = L == 16;

    /** Rows of a register tile. */
    static final int MR = 8;
    /** Columns of a register tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of one k block: a KC×NR panel of B (32 KiB at 512 bits) stays in L1. */
    static final int KC = 256;
    /** Rows of A per pass over a packed B block: MC×KC floats of A (128 KiB) stay in L2. */
    static final int MC = 128;
    /** Columns of one packed B block: KC×NC floats (1 MiB). A multiple of NR. */
    static final int NC = 1024;
    /**
     * Below this many floating-point operations (about 30 µs on one core) a call runs on the
     * calling thread alone: handing a part to a parked worker costs several microseconds.
     */
    static final long PARALLEL_FLOPS = 4_000_000L;
    /**
     * A row-major B is read in place unless it is large (a packed copy is friendlier to caches
     * and TLB) and enough rows of A reuse it to pay for the copy.
     */
    static final int PACK_B_ROWS = 4 * MR;
    static final int PACK_B_ELEMENTS = 1 << 16;
    /** Rows of B kept hot in the dot path while all rows of A pass: 256 KiB. */
    static final int DOT_B_FLOATS = 1 << 16;
    /** Costs in vector-FMA slots for {@link #plan}: per register tile and k block, ... */
    private static final double TILE_OVERHEAD = 100;
    /** ... per element of C written across its rows (the swapped path), ... */
    private static final double TRANSPOSED_WRITE = 4;
    /** ... per packed element (16×16 transposes, else scalar moves), ... */
    private static final double PACK_COST = LANES16 ? 1 : 2;
    /** ... and per dot tile: its reduction, and a factor on its FMAs (two loads per FMA pair). */
    private static final double DOT_OVERHEAD = 120;
    private static final double DOT_FACTOR = 1.3;

    /** How one call is computed; package-private so the tests can force each. */
    enum Path { TILED, SWAPPED, DOT }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** Lane indices for {@code selectFrom}: the 16×16 transpose and the 16-way butterfly reduction. */
    private static final float[] TRANSPOSE_INDEX = butterflyIndex(false);
    private static final float[] REDUCE_INDEX = butterflyIndex(true);
    /** Where a tile that overwrites C starts its accumulators. */
    private static final float[] ZEROS = new float[NR];

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

    /** Whether {@link Path#DOT} exists here: its reduction is written for 16 lanes (AVX-512). */
    static boolean dotPathAvailable() {
        return LANES16;
    }

    @Override
    public String name() {
        return "vector (" + SPECIES.vectorBitSize() + "-bit)";
    }

    /**
     * Recurrent cells split over threads from this many gate values per thread: a cell costs
     * several transcendental functions per value, and in a recurrent layer it runs between two
     * parallel products, so that a worker left idle meanwhile would be slow to wake for the next.
     */
    static final int CELL_PART = 1 << 12;

    /** Elementwise calls below this many elements per thread stay on the calling thread. */
    static final int ELEMENTWISE_PART = 1 << 15;

    @Override
    public void binary(BinaryOp op, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride,
                       float[] out, int outOff, int n) {
        if ((aStride | bStride) >>> 1 != 0) { // a stride other than 0 or 1: no vector form
            ScalarElementwise.binary(op, a, aOff, aStride, b, bOff, bStride, out, outOff, n);
            return;
        }
        KernelPool.forRange(n, ELEMENTWISE_PART, 64, (from, to) -> VectorElementwise.binary(op, a,
                aOff + from * aStride, aStride, b, bOff + from * bStride, bStride, out, outOff + from, to - from));
    }

    @Override
    public void maxPool2x2(float[] in, int base, int planeOff, int inW, int outH, int outW, float[] out, int[] arg,
                           int outOff) {
        VectorPooling.maxPool2x2(in, base, planeOff, inW, outH, outW, out, arg, outOff);
    }

    @Override
    public double sum(float[] x, int off, int n) {
        return VectorElementwise.sum(x, off, n);
    }

    @Override
    public double sumOfSquares(float[] x, int off, int n) {
        return VectorElementwise.sumOfSquares(x, off, n);
    }

    @Override
    public double copySumOfSquares(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        return VectorElementwise.copySumOfSquares(src, srcOff, dst, dstOff, n);
    }

    @Override
    public double sumOfSquaredDifferences(float[] a, int aOff, float[] b, int bOff, int n) {
        return VectorElementwise.sumOfSquaredDifferences(a, aOff, b, bOff, n);
    }

    @Override
    public void unary(UnaryOp op, float p, float q, float[] x, int xOff, float[] y, int yOff, int n) {
        KernelPool.forRange(n, ELEMENTWISE_PART, 64,
                (from, to) -> VectorElementwise.unary(op, p, q, x, xOff + from, y, yOff + from, to - from));
    }

    @Override
    public void unaryBackward(UnaryOp op, float p, float q, float[] x, int xOff, float[] y, int yOff,
                              float[] dy, int dyOff, float[] dx, int dxOff, int n) {
        KernelPool.forRange(n, ELEMENTWISE_PART, 64, (from, to) -> VectorElementwise.unaryBackward(op, p, q, x,
                xOff + from, y, yOff + from, dy, dyOff + from, dx, dxOff + from, to - from));
    }

    @Override
    public void adam(AdamStep step, float[] p, int pOff, float[] g, int gOff, float[] m, float[] v, int n) {
        KernelPool.forRange(n, ELEMENTWISE_PART, 64, (from, to) -> VectorElementwise.adam(step, p, pOff + from, g,
                gOff + from, m, v, from, to - from));
    }

    @Override
    public void lstmCell(int rows, int hidden, float[] gates, int gOff, float[] cPrev, int cPrevOff,
                         float[] c, int cOff, float[] h, int hOff) {
        KernelPool.forRange(rows, Math.max(1, CELL_PART / (4 * hidden)), 1, (from, to) ->
                VectorElementwise.lstmCell(hidden, gates, gOff, cPrev, cPrevOff, c, cOff, h, hOff, from, to));
    }

    @Override
    public void lstmCellBackward(int rows, int hidden, float[] gates, int gOff, float[] cPrev, int cPrevOff,
                                 float[] c, int cOff, float[] dh, int dhOff, float[] dc, int dcOff,
                                 float[] dGates, int dGatesOff) {
        KernelPool.forRange(rows, Math.max(1, CELL_PART / (4 * hidden)), 1, (from, to) ->
                VectorElementwise.lstmCellBackward(hidden, gates, gOff, cPrev, cPrevOff, c, cOff, dh, dhOff, dc,
                        dcOff, dGates, dGatesOff, from, to));
    }

    @Override
    public void gruCell(int rows, int hidden, float[] gates, int gOff, float[] hp, int hpOff, float[] hPrev,
                        int hPrevOff, float[] h, int hOff) {
        KernelPool.forRange(rows, Math.max(1, CELL_PART / (3 * hidden)), 1, (from, to) ->
                VectorElementwise.gruCell(hidden, gates, gOff, hp, hpOff, hPrev, hPrevOff, h, hOff, from, to));
    }

    @Override
    public void gruCellBackward(int rows, int hidden, float[] gates, int gOff, float[] hp, int hpOff, float[] hPrev,
                                int hPrevOff, float[] dh, int dhOff, float[] dGates, int dGatesOff, float[] dHp,
                                int dHpOff) {
        KernelPool.forRange(rows, Math.max(1, CELL_PART / (3 * hidden)), 1, (from, to) ->
                VectorElementwise.gruCellBackward(hidden, gates, gOff, hp, hpOff, hPrev, hPrevOff, dh, dhOff,
                        dGates, dGatesOff, dHp, dHpOff, from, to));
    }

    @Override
    public void softmax(float scale, float[] x, int xOff, float[] y, int yOff, int n) {
        VectorSoftmax.softmax(scale, x, xOff, y, yOff, n);
    }

    @Override
    public void softmaxBackward(float scale, float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff,
                                int n) {
        VectorSoftmax.softmaxBackward(scale, y, yOff, dy, dyOff, dx, dxOff, n);
    }

    @Override
    public void layerNorm(float[] x, int xOff, float[] w, float[] b, float eps, float[] y, int yOff,
                          float[] mean, float[] rstd, int statOff, int rows, int n) {
        VectorLayerNorm.forward(x, xOff, w, b, eps, y, yOff, mean, rstd, statOff, rows, n);
    }

    @Override
    public void layerNormBackward(float[] x, int xOff, float[] dy, int dyOff, float[] w, float[] mean, float[] rstd,
                                  int statOff, float[] dx, int dxOff, float[] dw, float[] db, int rows, int n) {
        VectorLayerNorm.backward(x, xOff, dy, dyOff, w, mean, rstd, statOff, dx, dxOff, dw, db, rows, n);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(null, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** {@link #gemm} on a given path, or the planned one when {@code forced} is null. */
    static void gemm(Path forced, boolean transA, boolean transB, int m, int n, int k,
                     float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
                }
            }
            return;
        }
        // A(i, p) = a[aOff + i * ars + p * acs];  B(p, j) = b[bOff + p * brs + j * bcs]
        int ars = transA ? 1 : lda;
        int acs = transA ? lda : 1;
        int brs = transB ? 1 : ldb;
        int bcs = transB ? ldb : 1;
        Path path = forced != null ? forced : plan(m, n, k, ars, acs, brs, bcs);
        Problem problem = switch (path) {
            case TILED -> new Problem(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, 1, m, n, k, accumulate,
                    packB(m, n, k, bcs), false, null);
            // Cᵀ = Bᵀ·Aᵀ: Bᵀ(j, p) = B(p, j), Aᵀ(p, i) = A(i, p), Cᵀ(j, i) at c[cOff + j + i * ldc]
            case SWAPPED -> new Problem(b, bOff, bcs, brs, a, aOff, acs, ars, c, cOff, 1, ldc, n, m, k, accumulate,
                    packB(n, m, k, ars), false, null);
            case DOT -> {
                if (acs != 1 || brs != 1 || !LANES16) {
                    throw new IllegalArgumentException("the dot path needs 16 lanes, and contiguous rows of A and "
                            + "columns of B");
                }
                yield new Problem(a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, 1, m, n, k, accumulate,
                        false, true, null);
            }
        };
        long flops = 2L * m * n * k;
        problem.run(flops < PARALLEL_FLOPS ? 1 : KernelPool.threads());
    }

    /**
     * Packs all of B once, in the layout {@link #blocked} packs one block of it into: for each k
     * block (of {@link #kStep} rows, from row pc) the NR-wide panels of all n columns, the block
     * at {@code pc * roundUp(n, NR)}, panel q at {@code q * kc * NR} in it, columns past n zero.
     */
    @Override
    public PackedMatrix pack(boolean transB, int k, int n, float[] b, int bOff, int ldb) {
        int brs = transB ? 1 : ldb;
        int bcs = transB ? ldb : 1;
        int padded = roundUp(n, NR);
        float[] packed = new float[Math.max(1, k * padded)];
        int kcStep = kStep(Math.max(1, k));
        for (int pc = 0; pc < k; pc += kcStep) {
            int kc = Math.min(kcStep, k - pc);
            packB(b, bOff + pc * brs, brs, bcs, kc, n, packed, pc * padded);
        }
        return new PackedMatrix(transB, k, n, b, bOff, ldb, packed);
    }

    @Override
    public void gemm(boolean transA, int m, float[] a, int aOff, int lda, PackedMatrix b,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        int n = b.n;
        int k = b.k;
        if (b.packed == null || m <= 0 || n <= 0 || k <= 0) {
            Kernels.super.gemm(transA, m, a, aOff, lda, b, c, cOff, ldc, accumulate);
            return;
        }
        Problem problem = new Problem(a, aOff, transA ? 1 : lda, transA ? lda : 1, null, 0, 0, 0, c, cOff, ldc, 1,
                m, n, k, accumulate, true, false, b.packed);
        long flops = 2L * m * n * k;
        problem.run(flops < PARALLEL_FLOPS ? 1 : KernelPool.threads());
    }

    /**
     * The cheapest path by a small cost model in vector-FMA slots, fitted to measurements on
     * AVX-512: every register tile costs its FMAs (padded to the full tile) plus a fixed overhead
     * per k block; packing costs per element; the swapped path also pays for writing C across its
     * rows, and is only considered for outputs at most one vector wide; a dot tile costs its FMAs
     * (slower, being load-bound), the scalar tail of k and its reduction.
     */
    static Path plan(int m, int n, int k, int ars, int acs, int brs, int bcs) {
        int kBlocks = tiles(k, KC);
        double tileCost = 2.0 * MR * k + TILE_OVERHEAD * kBlocks;
        double tiled = (double) tiles(m, MR) * tiles(n, NR) * tileCost + (bcs != 1 ? PACK_COST * k * n : 0);
        double swapped = Double.POSITIVE_INFINITY;
        if (n <= L) { // otherwise its strided writes of C and its streaming of B cost more than it saves
            swapped = (double) tiles(n, MR) * tiles(m, NR) * (tileCost + TRANSPOSED_WRITE * MR * NR * kBlocks)
                    + (ars != 1 ? PACK_COST * k * m : 0);
        }
        double dot = Double.POSITIVE_INFINITY;
        if (LANES16 && acs == 1 && brs == 1 && k >= L) {
            dot = (double) tiles(m, 4) * tiles(n, 4) * (DOT_FACTOR * 16.0 * (k / L) + 16.0 * (k % L) + DOT_OVERHEAD);
        }
        if (dot < tiled && dot < swapped) {
            return Path.DOT;
        }
        return swapped < tiled ? Path.SWAPPED : Path.TILED;
    }

    private static boolean packB(int m, int n, int k, int bcs) {
        return bcs != 1 || m >= PACK_B_ROWS && (long) k * n >= PACK_B_ELEMENTS;
    }

    private static int tiles(int size, int tile) {
        return (size + tile - 1) / tile;
    }

    private static int roundUp(int x, int multiple) {
        return tiles(x, multiple) * multiple;
    }

    /**
     * C(i, j) (+)= Σ_p A(i, p) · B(p, j) with A(i, p) = a[aOff + i * ars + p * acs],
     * B(p, j) = b[bOff + p * brs + j * bcs] and C(i, j) = c[cOff + i * crs + j * ccs].
     */
    private record Problem(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                           float[] c, int cOff, int crs, int ccs, int m, int n, int k, boolean accumulate,
                           boolean packB, boolean dot, float[] prepacked) {

        /**
         * Splits C into at most {@code threads} bands of whole tiles, along n when it has enough
         * tiles, else along m, each computed entirely by one thread.
         */
        void run(int threads) {
            int rowTile = dot ? 4 : MR;
            int colTile = dot ? 4 : NR;
            int tilesM = tiles(m, rowTile);
            int tilesN = tiles(n, colTile);
            boolean alongN = tilesN >= threads && tilesN * colTile >= tilesM * rowTile || tilesM < threads;
            int bands = Math.min(threads, alongN ? tilesN : tilesM);
            if (bands <= 1) {
                compute(0, m, 0, n);
                return;
            }
            KernelPool.run(bands, band -> {
                if (alongN) {
                    int j0 = Math.min(n, (int) ((long) tilesN * band / bands) * colTile);
                    int j1 = Math.min(n, (int) ((long) tilesN * (band + 1) / bands) * colTile);
                    compute(0, m, j0, j1);
                } else {
                    int i0 = Math.min(m, (int) ((long) tilesM * band / bands) * rowTile);
                    int i1 = Math.min(m, (int) ((long) tilesM * (band + 1) / bands) * rowTile);
                    compute(i0, i1, 0, n);
                }
            });
        }

        void compute(int i0, int i1, int j0, int j1) {
            if (dot) {
                dots(this, i0, i1, j0, j1);
            } else {
                blocked(this, i0, i1, j0, j1);
            }
        }
    }

    /** k blocks of equal depth, at most KC: 300 → 150 + 150 rather than 256 + 44. */
    private static int kStep(int k) {
        int blocks = tiles(k, KC);
        return tiles(k, blocks);
    }

    /** The tiled path for C[i0:i1, j0:j1] on the calling thread. */
    private static void blocked(Problem g, int i0, int i1, int j0, int j1) {
        Workspace ws = WORKSPACE.get();
        float[] a = g.a;
        float[] b = g.b;
        int ars = g.ars;
        int acs = g.acs;
        int brs = g.brs;
        int bcs = g.bcs;
        int k = g.k;
        int kcStep = kStep(k);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += kcStep) {
                int kc = Math.min(kcStep, k - pc);
                boolean add = g.accumulate || pc > 0;
                float[] bp = null;
                int bBase = 0; // where the panels of this block start in bp
                if (g.prepacked != null) { // all of B packed by pack(): the block's panels in place
                    bp = g.prepacked;
                    bBase = pc * roundUp(g.n, NR) + jc * kc; // jc is a multiple of NR
                } else if (g.packB) {
                    bp = ws.packedB(kc * roundUp(nc, NR));
                    packB(b, g.bOff + pc * brs + jc * bcs, brs, bcs, kc, nc, bp);
                }
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    int edgeRows = mc % MR; // a partial last row panel read in place would run past A: pack it
                    float[] edgeA = null;
                    if (edgeRows > 0) {
                        edgeA = ws.edgeA(kc);
                        packA(a, g.aOff + (ic + mc - edgeRows) * ars + pc * acs, ars, acs, edgeRows, kc, edgeA);
                    }
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        float[] bArr = bp;
                        int bi = bBase + jr * kc;
                        int bs = NR;
                        if (!g.packB) {
                            if (cols == NR) {
                                bArr = b;
                                bi = g.bOff + pc * brs + jc + jr;
                                bs = brs;
                            } else { // a partial panel read in place would run past the matrix
                                bArr = ws.edgeB(kc);
                                bi = 0;
                                packB(b, g.bOff + pc * brs + (jc + jr) * bcs, brs, bcs, kc, cols, bArr);
                            }
                        }
                        for (int ir = 0; ir < mc; ir += MR) {
                            int rows = Math.min(MR, mc - ir);
                            float[] aArr = a;
                            int ai = g.aOff + (ic + ir) * ars + pc * acs;
                            int as = ars;
                            int ac = acs;
                            if (rows < MR) {
                                aArr = edgeA;
                                ai = 0;
                                as = 1;
                                ac = MR;
                            }
                            int ci = g.cOff + (ic + ir) * g.crs + (jc + jr) * g.ccs;
                            if (rows == MR && cols == NR && g.ccs == 1) {
                                tile(kc, aArr, ai, as, ac, bArr, bi, bs, g.c, ci, g.crs, add);
                            } else { // through a full-size buffer: C has no room for a whole tile, or is strided
                                float[] t = ws.tile;
                                if (add) {
                                    copyTile(g.c, ci, g.crs, g.ccs, t, 0, NR, 1, rows, cols);
                                }
                                tile(kc, aArr, ai, as, ac, bArr, bi, bs, t, 0, NR, add);
                                copyTile(t, 0, NR, 1, g.c, ci, g.crs, g.ccs, rows, cols);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * One MR×NR tile over kc steps: C(r, j) = [C(r, j) if add] + Σ_p A(r, p) · B(p, j), with
     * A(r, p) at {@code a[ai + r * as + p * ac]}, B(p, j) at {@code b[bi + p * bs + j]} and C(r, j)
     * at {@code c[di + r * ld + j]}, all of them readable for the whole tile.
     *
     * <p>The accumulators start from C, or from a row of zeros when not adding (whatever C held is
     * then ignored), which makes each element one FMA chain over all of k. The choice is made on
     * the array and index to load from, never between two vector values: a choice such as
     * {@code v = add ? v.add(...) : v} makes C2 box the accumulators, ten times slower.
     */
    private static void tile(int kc, float[] a, int ai, int as, int ac, float[] b, int bi, int bs,
                             float[] c, int di, int ld, boolean add) {
        float[] from = add ? c : ZEROS;
        int fi = add ? di : 0;
        int fld = add ? ld : 0;
        FloatVector c00 = FloatVector.fromArray(SPECIES, from, fi);
        FloatVector c01 = FloatVector.fromArray(SPECIES, from, fi + L);
        FloatVector c10 = FloatVector.fromArray(SPECIES, from, fi + fld);
        FloatVector c11 = FloatVector.fromArray(SPECIES, from, fi + fld + L);
        FloatVector c20 = FloatVector.fromArray(SPECIES, from, fi + 2 * fld);
        FloatVector c21 = FloatVector.fromArray(SPECIES, from, fi + 2 * fld + L);
        FloatVector c30 = FloatVector.fromArray(SPECIES, from, fi + 3 * fld);
        FloatVector c31 = FloatVector.fromArray(SPECIES, from, fi + 3 * fld + L);
        FloatVector c40 = FloatVector.fromArray(SPECIES, from, fi + 4 * fld);
        FloatVector c41 = FloatVector.fromArray(SPECIES, from, fi + 4 * fld + L);
        FloatVector c50 = FloatVector.fromArray(SPECIES, from, fi + 5 * fld);
        FloatVector c51 = FloatVector.fromArray(SPECIES, from, fi + 5 * fld + L);
        FloatVector c60 = FloatVector.fromArray(SPECIES, from, fi + 6 * fld);
        FloatVector c61 = FloatVector.fromArray(SPECIES, from, fi + 6 * fld + L);
        FloatVector c70 = FloatVector.fromArray(SPECIES, from, fi + 7 * fld);
        FloatVector c71 = FloatVector.fromArray(SPECIES, from, fi + 7 * fld + L);
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
        c00.intoArray(c, di);
        c01.intoArray(c, di + L);
        c10.intoArray(c, di + ld);
        c11.intoArray(c, di + ld + L);
        c20.intoArray(c, di + 2 * ld);
        c21.intoArray(c, di + 2 * ld + L);
        c30.intoArray(c, di + 3 * ld);
        c31.intoArray(c, di + 3 * ld + L);
        c40.intoArray(c, di + 4 * ld);
        c41.intoArray(c, di + 4 * ld + L);
        c50.intoArray(c, di + 5 * ld);
        c51.intoArray(c, di + 5 * ld + L);
        c60.intoArray(c, di + 6 * ld);
        c61.intoArray(c, di + 6 * ld + L);
        c70.intoArray(c, di + 7 * ld);
        c71.intoArray(c, di + 7 * ld + L);
    }

    /**
     * dst(r, j) = src(r, j) for the rows×cols corner of a tile, element (r, j) of a matrix at
     * {@code off + r * rowStride + j * colStride}.
     */
    private static void copyTile(float[] src, int s, int srs, int scs, float[] dst, int d, int drs, int dcs,
                                 int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                dst[d + r * drs + j * dcs] = src[s + r * srs + j * scs];
            }
        }
    }

    /** The dot path for C[i0:i1, j0:j1]: A(i, ·) and B(·, j) are contiguous along k. */
    private static void dots(Problem g, int i0, int i1, int j0, int j1) {
        float[] out = WORKSPACE.get().tile;
        float[] a = g.a;
        float[] b = g.b;
        float[] c = g.c;
        int k = g.k;
        int lda = g.ars;
        int ldb = g.bcs;
        int band = Math.max(4, DOT_B_FLOATS / k / 4 * 4); // columns of C whose B stays in L2 over all rows
        for (int jc = j0; jc < j1; jc += band) {
            int jEnd = Math.min(j1, jc + band);
            for (int i = i0; i < i1; i += 4) {
                int rows = Math.min(4, i1 - i);
                // rows past the end repeat the last one: computed, never written
                int a0 = g.aOff + i * lda;
                int a1 = g.aOff + (i + Math.min(1, rows - 1)) * lda;
                int a2 = g.aOff + (i + Math.min(2, rows - 1)) * lda;
                int a3 = g.aOff + (i + Math.min(3, rows - 1)) * lda;
                for (int j = jc; j < jEnd; j += 4) {
                    int cols = Math.min(4, jEnd - j);
                    int b0 = g.bOff + j * ldb;
                    int b1 = g.bOff + (j + Math.min(1, cols - 1)) * ldb;
                    int b2 = g.bOff + (j + Math.min(2, cols - 1)) * ldb;
                    int b3 = g.bOff + (j + Math.min(3, cols - 1)) * ldb;
                    dotTile(k, a, a0, a1, a2, a3, b, b0, b1, b2, b3, out);
                    for (int r = 0; r < rows; r++) {
                        int ci = g.cOff + (i + r) * g.crs + j;
                        for (int q = 0; q < cols; q++) {
                            c[ci + q] = g.accumulate ? c[ci + q] + out[r * 4 + q] : out[r * 4 + q];
                        }
                    }
                }
            }
        }
    }

    /**
     * out[r * 4 + q] = Σ_p a[a_r + p] · b[b_q + p] for r, q in 0..3: 16 vector accumulators over
     * the vector part of k, reduced by a fixed butterfly (not reduceLanes, whose order may differ
     * between the interpreter and compiled code), then the scalar tail of k.
     */
    private static void dotTile(int k, float[] a, int a0, int a1, int a2, int a3,
                                float[] b, int b0, int b1, int b2, int b3, float[] out) {
        FloatVector s00 = FloatVector.zero(SPECIES);
        FloatVector s01 = FloatVector.zero(SPECIES);
        FloatVector s02 = FloatVector.zero(SPECIES);
        FloatVector s03 = FloatVector.zero(SPECIES);
        FloatVector s10 = FloatVector.zero(SPECIES);
        FloatVector s11 = FloatVector.zero(SPECIES);
        FloatVector s12 = FloatVector.zero(SPECIES);
        FloatVector s13 = FloatVector.zero(SPECIES);
        FloatVector s20 = FloatVector.zero(SPECIES);
        FloatVector s21 = FloatVector.zero(SPECIES);
        FloatVector s22 = FloatVector.zero(SPECIES);
        FloatVector s23 = FloatVector.zero(SPECIES);
        FloatVector s30 = FloatVector.zero(SPECIES);
        FloatVector s31 = FloatVector.zero(SPECIES);
        FloatVector s32 = FloatVector.zero(SPECIES);
        FloatVector s33 = FloatVector.zero(SPECIES);
        int bound = SPECIES.loopBound(k);
        for (int p = 0; p < bound; p += L) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, a, a0 + p);
            FloatVector x1 = FloatVector.fromArray(SPECIES, a, a1 + p);
            FloatVector x2 = FloatVector.fromArray(SPECIES, a, a2 + p);
            FloatVector x3 = FloatVector.fromArray(SPECIES, a, a3 + p);
            FloatVector y0 = FloatVector.fromArray(SPECIES, b, b0 + p);
            FloatVector y1 = FloatVector.fromArray(SPECIES, b, b1 + p);
            FloatVector y2 = FloatVector.fromArray(SPECIES, b, b2 + p);
            FloatVector y3 = FloatVector.fromArray(SPECIES, b, b3 + p);
            s00 = x0.fma(y0, s00);
            s01 = x0.fma(y1, s01);
            s02 = x0.fma(y2, s02);
            s03 = x0.fma(y3, s03);
            s10 = x1.fma(y0, s10);
            s11 = x1.fma(y1, s11);
            s12 = x1.fma(y2, s12);
            s13 = x1.fma(y3, s13);
            s20 = x2.fma(y0, s20);
            s21 = x2.fma(y1, s21);
            s22 = x2.fma(y2, s22);
            s23 = x2.fma(y3, s23);
            s30 = x3.fma(y0, s30);
            s31 = x3.fma(y1, s31);
            s32 = x3.fma(y2, s32);
            s33 = x3.fma(y3, s33);
        }
        // Butterfly: each level adds the two halves of every group of lanes while packing two
        // vectors' groups into one; after four levels lane r * 4 + q holds the sum of s_rq.
        FloatVector lo = FloatVector.fromArray(SPECIES, REDUCE_INDEX, 0);
        FloatVector hi = FloatVector.fromArray(SPECIES, REDUCE_INDEX, L);
        FloatVector z0 = lo.selectFrom(s00, s01).add(hi.selectFrom(s00, s01));
        FloatVector z1 = lo.selectFrom(s02, s03).add(hi.selectFrom(s02, s03));
        FloatVector z2 = lo.selectFrom(s10, s11).add(hi.selectFrom(s10, s11));
        FloatVector z3 = lo.selectFrom(s12, s13).add(hi.selectFrom(s12, s13));
        FloatVector z4 = lo.selectFrom(s20, s21).add(hi.selectFrom(s20, s21));
        FloatVector z5 = lo.selectFrom(s22, s23).add(hi.selectFrom(s22, s23));
        FloatVector z6 = lo.selectFrom(s30, s31).add(hi.selectFrom(s30, s31));
        FloatVector z7 = lo.selectFrom(s32, s33).add(hi.selectFrom(s32, s33));
        lo = FloatVector.fromArray(SPECIES, REDUCE_INDEX, 2 * L);
        hi = FloatVector.fromArray(SPECIES, REDUCE_INDEX, 3 * L);
        z0 = lo.selectFrom(z0, z1).add(hi.selectFrom(z0, z1));
        z1 = lo.selectFrom(z2, z3).add(hi.selectFrom(z2, z3));
        z2 = lo.selectFrom(z4, z5).add(hi.selectFrom(z4, z5));
        z3 = lo.selectFrom(z6, z7).add(hi.selectFrom(z6, z7));
        lo = FloatVector.fromArray(SPECIES, REDUCE_INDEX, 4 * L);
        hi = FloatVector.fromArray(SPECIES, REDUCE_INDEX, 5 * L);
        z0 = lo.selectFrom(z0, z1).add(hi.selectFrom(z0, z1));
        z1 = lo.selectFrom(z2, z3).add(hi.selectFrom(z2, z3));
        lo = FloatVector.fromArray(SPECIES, REDUCE_INDEX, 6 * L);
        hi = FloatVector.fromArray(SPECIES, REDUCE_INDEX, 7 * L);
        lo.selectFrom(z0, z1).add(hi.selectFrom(z0, z1)).intoArray(out, 0);
        if (bound < k) {
            out[0] += tailDot(a, a0, b, b0, bound, k);
            out[1] += tailDot(a, a0, b, b1, bound, k);
            out[2] += tailDot(a, a0, b, b2, bound, k);
            out[3] += tailDot(a, a0, b, b3, bound, k);
            out[4] += tailDot(a, a1, b, b0, bound, k);
            out[5] += tailDot(a, a1, b, b1, bound, k);
            out[6] += tailDot(a, a1, b, b2, bound, k);
            out[7] += tailDot(a, a1, b, b3, bound, k);
            out[8] += tailDot(a, a2, b, b0, bound, k);
            out[9] += tailDot(a, a2, b, b1, bound, k);
            out[10] += tailDot(a, a2, b, b2, bound, k);
            out[11] += tailDot(a, a2, b, b3, bound, k);
            out[12] += tailDot(a, a3, b, b0, bound, k);
            out[13] += tailDot(a, a3, b, b1, bound, k);
            out[14] += tailDot(a, a3, b, b2, bound, k);
            out[15] += tailDot(a, a3, b, b3, bound, k);
        }
    }

    /** Σ a[ai + p] · b[bi + p] for p in [from, to), in order. */
    private static float tailDot(float[] a, int ai, float[] b, int bi, int from, int to) {
        float s = 0f;
        for (int p = from; p < to; p++) {
            s = Math.fma(a[ai + p], b[bi + p], s);
        }
        return s;
    }

    /**
     * selectFrom indices for four butterfly levels over 16 lanes, two vectors (lo, hi) per level.
     * A level takes vectors x and y whose lanes form groups of w (one group per accumulator) and
     * returns lo(x, y) and hi(x, y) whose lanes form twice as many groups of w/2: the groups of x,
     * then those of y, lo holding each group's first half and hi its second. As a reduction
     * ({@code reduce}) lo + hi halves every group; as a transpose it is one stage of swapping
     * off-diagonal blocks, pairing row r with row r + w/2 instead.
     */
    private static float[] butterflyIndex(boolean reduce) {
        float[] index = new float[8 * 16];
        int level = 0;
        for (int w = 16; w >= 2; w /= 2, level++) {
            int h = w / 2;
            for (int i = 0; i < 16; i++) {
                int lo;
                int hi;
                if (reduce) {
                    int groups = 16 / w; // groups per input vector
                    int group = i / h;
                    int from = group < groups ? 0 : 16;
                    lo = from + (group % groups) * w + i % h;
                    hi = lo + h;
                } else { // transpose stage: lanes pos < h of each 2h block come from x, the rest from y
                    int block = i / (2 * h);
                    int pos = i % (2 * h);
                    lo = pos < h ? block * 2 * h + pos : 16 + block * 2 * h + pos - h;
                    hi = lo + h;
                }
                index[2 * level * 16 + i] = lo;
                index[(2 * level + 1) * 16 + i] = hi;
            }
        }
        return index;
    }

    /**
     * Packs the kc×nc block B(p, j) = b[off + p * brs + j * bcs] into NR-wide panels, panel q at
     * {@code q * kc * NR}, row p of a panel at {@code p * NR}; columns past nc are zero.
     */
    private static void packB(float[] b, int off, int brs, int bcs, int kc, int nc, float[] bp) {
        packB(b, off, brs, bcs, kc, nc, bp, 0);
    }

    /** {@link #packB(float[], int, int, int, int, int, float[])} into {@code bp} from {@code bpOff}. */
    private static void packB(float[] b, int off, int brs, int bcs, int kc, int nc, float[] bp, int bpOff) {
        for (int j = 0; j < nc; j += NR) {
            int w = Math.min(NR, nc - j);
            int base = bpOff + j * kc;
            if (bcs == 1) {
                for (int p = 0; p < kc; p++) {
                    int src = off + p * brs + j;
                    int dst = base + p * NR;
                    if (w == NR) {
                        FloatVector.fromArray(SPECIES, b, src).intoArray(bp, dst);
                        FloatVector.fromArray(SPECIES, b, src + L).intoArray(bp, dst + L);
                    } else {
                        System.arraycopy(b, src, bp, dst, w);
                        Arrays.fill(bp, dst + w, dst + NR, 0f);
                    }
                }
                continue;
            }
            int jj = 0;
            if (LANES16 && brs == 1) { // B stored transposed: 16×16 blocks through registers
                for (; jj + L <= w; jj += L) {
                    int p = transposeBlocks(b, off + (j + jj) * bcs, bcs, kc, bp, base + jj);
                    for (int col = jj; col < jj + L; col++) {
                        for (int q = p; q < kc; q++) {
                            bp[base + q * NR + col] = b[off + (j + col) * bcs + q];
                        }
                    }
                }
            }
            for (; jj < w; jj++) {
                int src = off + (j + jj) * bcs;
                for (int p = 0; p < kc; p++) {
                    bp[base + p * NR + jj] = b[src + p * brs];
                }
            }
            if (w < NR) {
                for (int p = 0; p < kc; p++) {
                    Arrays.fill(bp, base + p * NR + w, base + (p + 1) * NR, 0f);
                }
            }
        }
    }

    /**
     * dst[d + p * NR + r] = src[s + r * ld + p] for r in 0..15 and p over whole blocks of 16 below
     * kc, through 16×16 in-register transposes (four stages of two-vector selects); returns the
     * first p not done.
     */
    private static int transposeBlocks(float[] src, int s, int ld, int kc, float[] dst, int d) {
        FloatVector i0 = FloatVector.fromArray(SPECIES, TRANSPOSE_INDEX, 0);
        FloatVector i1 = FloatVector.fromArray(SPECIES, TRANSPOSE_INDEX, L);
        FloatVector i2 = FloatVector.fromArray(SPECIES, TRANSPOSE_INDEX, 2 * L);
        FloatVector i3 = FloatVector.fromArray(SPECIES, TRANSPOSE_INDEX, 3 * L);
        FloatVector i4 = FloatVector.fromArray(SPECIES, TRANSPOSE_INDEX, 4 * L);
        FloatVector i5 = FloatVector.fromArray(SPECIES, TRANSPOSE_INDEX, 5 * L);
        FloatVector i6 = FloatVector.fromArray(SPECIES, TRANSPOSE_INDEX, 6 * L);
        FloatVector i7 = FloatVector.fromArray(SPECIES, TRANSPOSE_INDEX, 7 * L);
        int bound = SPECIES.loopBound(kc);
        for (int p = 0; p < bound; p += L) {
            int at = s + p;
            FloatVector r0 = FloatVector.fromArray(SPECIES, src, at);
            FloatVector r1 = FloatVector.fromArray(SPECIES, src, at + ld);
            FloatVector r2 = FloatVector.fromArray(SPECIES, src, at + 2 * ld);
            FloatVector r3 = FloatVector.fromArray(SPECIES, src, at + 3 * ld);
            FloatVector r4 = FloatVector.fromArray(SPECIES, src, at + 4 * ld);
            FloatVector r5 = FloatVector.fromArray(SPECIES, src, at + 5 * ld);
            FloatVector r6 = FloatVector.fromArray(SPECIES, src, at + 6 * ld);
            FloatVector r7 = FloatVector.fromArray(SPECIES, src, at + 7 * ld);
            FloatVector r8 = FloatVector.fromArray(SPECIES, src, at + 8 * ld);
            FloatVector r9 = FloatVector.fromArray(SPECIES, src, at + 9 * ld);
            FloatVector r10 = FloatVector.fromArray(SPECIES, src, at + 10 * ld);
            FloatVector r11 = FloatVector.fromArray(SPECIES, src, at + 11 * ld);
            FloatVector r12 = FloatVector.fromArray(SPECIES, src, at + 12 * ld);
            FloatVector r13 = FloatVector.fromArray(SPECIES, src, at + 13 * ld);
            FloatVector r14 = FloatVector.fromArray(SPECIES, src, at + 14 * ld);
            FloatVector r15 = FloatVector.fromArray(SPECIES, src, at + 15 * ld);
            // swap the off-diagonal 8×8 blocks: rows r and r + 8
            FloatVector t0 = i0.selectFrom(r0, r8);
            FloatVector t8 = i1.selectFrom(r0, r8);
            FloatVector t1 = i0.selectFrom(r1, r9);
            FloatVector t9 = i1.selectFrom(r1, r9);
            FloatVector t2 = i0.selectFrom(r2, r10);
            FloatVector t10 = i1.selectFrom(r2, r10);
            FloatVector t3 = i0.selectFrom(r3, r11);
            FloatVector t11 = i1.selectFrom(r3, r11);
            FloatVector t4 = i0.selectFrom(r4, r12);
            FloatVector t12 = i1.selectFrom(r4, r12);
            FloatVector t5 = i0.selectFrom(r5, r13);
            FloatVector t13 = i1.selectFrom(r5, r13);
            FloatVector t6 = i0.selectFrom(r6, r14);
            FloatVector t14 = i1.selectFrom(r6, r14);
            FloatVector t7 = i0.selectFrom(r7, r15);
            FloatVector t15 = i1.selectFrom(r7, r15);
            // then 4×4 blocks within each half: rows r and r + 4
            r0 = i2.selectFrom(t0, t4);
            r4 = i3.selectFrom(t0, t4);
            r1 = i2.selectFrom(t1, t5);
            r5 = i3.selectFrom(t1, t5);
            r2 = i2.selectFrom(t2, t6);
            r6 = i3.selectFrom(t2, t6);
            r3 = i2.selectFrom(t3, t7);
            r7 = i3.selectFrom(t3, t7);
            r8 = i2.selectFrom(t8, t12);
            r12 = i3.selectFrom(t8, t12);
            r9 = i2.selectFrom(t9, t13);
            r13 = i3.selectFrom(t9, t13);
            r10 = i2.selectFrom(t10, t14);
            r14 = i3.selectFrom(t10, t14);
            r11 = i2.selectFrom(t11, t15);
            r15 = i3.selectFrom(t11, t15);
            // 2×2 blocks: rows r and r + 2
            t0 = i4.selectFrom(r0, r2);
            t2 = i5.selectFrom(r0, r2);
            t1 = i4.selectFrom(r1, r3);
            t3 = i5.selectFrom(r1, r3);
            t4 = i4.selectFrom(r4, r6);
            t6 = i5.selectFrom(r4, r6);
            t5 = i4.selectFrom(r5, r7);
            t7 = i5.selectFrom(r5, r7);
            t8 = i4.selectFrom(r8, r10);
            t10 = i5.selectFrom(r8, r10);
            t9 = i4.selectFrom(r9, r11);
            t11 = i5.selectFrom(r9, r11);
            t12 = i4.selectFrom(r12, r14);
            t14 = i5.selectFrom(r12, r14);
            t13 = i4.selectFrom(r13, r15);
            t15 = i5.selectFrom(r13, r15);
            // single elements: rows r and r + 1
            int at2 = d + p * NR;
            i6.selectFrom(t0, t1).intoArray(dst, at2);
            i7.selectFrom(t0, t1).intoArray(dst, at2 + NR);
            i6.selectFrom(t2, t3).intoArray(dst, at2 + 2 * NR);
            i7.selectFrom(t2, t3).intoArray(dst, at2 + 3 * NR);
            i6.selectFrom(t4, t5).intoArray(dst, at2 + 4 * NR);
            i7.selectFrom(t4, t5).intoArray(dst, at2 + 5 * NR);
            i6.selectFrom(t6, t7).intoArray(dst, at2 + 6 * NR);
            i7.selectFrom(t6, t7).intoArray(dst, at2 + 7 * NR);
            i6.selectFrom(t8, t9).intoArray(dst, at2 + 8 * NR);
            i7.selectFrom(t8, t9).intoArray(dst, at2 + 9 * NR);
            i6.selectFrom(t10, t11).intoArray(dst, at2 + 10 * NR);
            i7.selectFrom(t10, t11).intoArray(dst, at2 + 11 * NR);
            i6.selectFrom(t12, t13).intoArray(dst, at2 + 12 * NR);
            i7.selectFrom(t12, t13).intoArray(dst, at2 + 13 * NR);
            i6.selectFrom(t14, t15).intoArray(dst, at2 + 14 * NR);
            i7.selectFrom(t14, t15).intoArray(dst, at2 + 15 * NR);
        }
        return bound;
    }

    /**
     * Packs the rows×kc block A(i, p) = a[off + i * ars + p * acs] (rows ≤ MR) into one MR-tall
     * panel, column p at {@code p * MR}; rows past {@code rows} are zero.
     */
    private static void packA(float[] a, int off, int ars, int acs, int rows, int kc, float[] ap) {
        for (int p = 0; p < kc; p++) {
            int src = off + p * acs;
            int dst = p * MR;
            for (int i = 0; i < MR; i++) {
                ap[dst + i] = i < rows ? a[src + i * ars] : 0f;
            }
        }
    }

    /** Per-thread buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        private float[] b = new float[0];
        private float[] edgeA = new float[0];
        private float[] edgeB = new float[0];
        final float[] tile = new float[MR * NR];

        float[] packedB(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }

        /** An MR×kc panel for the last, partial rows of A. */
        float[] edgeA(int kc) {
            if (edgeA.length < kc * MR) {
                edgeA = new float[kc * MR];
            }
            return edgeA;
        }

        /** A kc×NR panel for the last, partial columns of B. */
        float[] edgeB(int kc) {
            if (edgeB.length < kc * NR) {
                edgeB = new float[kc * NR];
            }
            return edgeB;
        }
    }
}
