package dev.backprop.kernels;

/**
 * Array-level math kernels on {@code float[]} plus offsets, kept apart from autograd. There is a
 * plain scalar implementation ({@link ScalarKernels}), the readable reference; faster
 * implementations slot in behind this interface and are chosen once at start-up.
 *
 * <p>Matrices are row-major: element (i, j) of an r×c matrix with leading dimension {@code ld}
 * lies at {@code off + i * ld + j}.
 */
public interface Kernels {

    /**
     * {@code C = op(A) · op(B)} (or {@code C += ...} when {@code accumulate}), where op(A) is m×k
     * and op(B) is k×n. With {@code transA}, A is stored k×m and read transposed; likewise B
     * (stored n×k) with {@code transB}. No transposed copy is made.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb,
              float[] c, int cOff, int ldc, boolean accumulate);

    /**
     * Prepares B (k×n; stored n×k and read transposed when {@code transB}) as the right operand of
     * many products by {@link #gemm(boolean, int, float[], int, int, PackedMatrix, float[], int, int, boolean)}.
     * The default keeps a reference to B: implementations that copy B into their own layout
     * (panels) for every product do it here once.
     */
    default PackedMatrix pack(boolean transB, int k, int n, float[] b, int bOff, int ldb) {
        return new PackedMatrix(transB, k, n, b, bOff, ldb, null);
    }

    /**
     * {@code C = op(A) · B} (or {@code C += ...}) with B prepared by {@link #pack}: the same
     * result as {@link #gemm} on B's source, without copying B again.
     */
    default void gemm(boolean transA, int m, float[] a, int aOff, int lda, PackedMatrix b,
                      float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(transA, b.transposed, m, b.n, b.k, a, aOff, lda, b.source, b.offset, b.ld, c, cOff, ldc, accumulate);
    }

    /** {@code y[yOff + i] = op(x[xOff + i])} for i in [0, n); {@code p} and {@code q} are the function's parameters. */
    void unary(UnaryOp op, float p, float q, float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * {@code dx[dxOff + i] = dy[dyOff + i] · op'(x[xOff + i])} for i in [0, n), where {@code y} holds
     * the forward values {@code op(x)} (some derivatives are cheaper from them).
     */
    void unaryBackward(UnaryOp op, float p, float q, float[] x, int xOff, float[] y, int yOff,
                       float[] dy, int dyOff, float[] dx, int dxOff, int n);

    /**
     * One Adam/AdamW update of {@code n} parameters {@code p[pOff..]} from gradients {@code g[gOff..]},
     * with first and second moments {@code m[0..n)} and {@code v[0..n)} (see {@link AdamStep}).
     */
    void adam(AdamStep step, float[] p, int pOff, float[] g, int gOff, float[] m, float[] v, int n);

    /**
     * One LSTM time step for {@code rows} rows, in PyTorch's gate order i, f, g, o. Row r of
     * {@code gates} ({@code 4 * hidden} floats at {@code gOff + r * 4 * hidden}) holds the
     * pre-activations and is overwritten with the activations σ(i), σ(f), tanh(g), σ(o); then
     * {@code c = f * cPrev + i * g} and {@code h = o * tanh(c)}, rows of {@code hidden} floats at
     * {@code off + r * hidden} in {@code cPrev}, {@code c} and {@code h}.
     */
    void lstmCell(int rows, int hidden, float[] gates, int gOff, float[] cPrev, int cPrevOff,
                  float[] c, int cOff, float[] h, int hOff);

    /**
     * The backward of {@link #lstmCell} for one time step, from the activations it left in
     * {@code gates}, the previous and new cell states and the gradient {@code dh} of h. {@code dc}
     * holds the gradient of c coming from later steps and is overwritten with that of cPrev;
     * {@code dGates} receives the gradient of the pre-activations (same layout as {@code gates}):
     * <pre>
     * dc' = dc + dh·o·(1 − tanh²c)     d_i = dc'·g·i(1 − i)    d_f = dc'·cPrev·f(1 − f)
     * d_g = dc'·i·(1 − g²)             d_o = dh·tanh(c)·o(1 − o)    dcPrev = dc'·f
     * </pre>
     */
    void lstmCellBackward(int rows, int hidden, float[] gates, int gOff, float[] cPrev, int cPrevOff,
                          float[] c, int cOff, float[] dh, int dhOff, float[] dc, int dcOff,
                          float[] dGates, int dGatesOff);

    /**
     * One GRU time step for {@code rows} rows, in PyTorch's gate order r, z, n. Row r of
     * {@code gates} ({@code 3 * hidden} floats at {@code gOff + r * 3 * hidden}) holds the input
     * projection {@code x W_ihᵀ + b_ih} and is overwritten with the activations r, z, n; row r of
     * {@code hp} (same layout) holds {@code h W_hhᵀ + b_hh}:
     * <pre>
     * r = σ(x_r + hp_r)    z = σ(x_z + hp_z)    n = tanh(x_n + r·hp_n)    h = (1 − z)·n + z·hPrev
     * </pre>
     */
    void gruCell(int rows, int hidden, float[] gates, int gOff, float[] hp, int hpOff, float[] hPrev, int hPrevOff,
                 float[] h, int hOff);

    /**
     * The backward of {@link #gruCell} for one time step, from the activations it left in
     * {@code gates}, {@code hp} and the previous state. {@code dh} holds the gradient of h and is
     * overwritten with its direct part in the gradient of hPrev, {@code dh·z} (the part through
     * W_hh is {@code dHp · W_hh}); {@code dGates} receives the gradient of the input projection and
     * {@code dHp} that of {@code hp} (they differ in the n block only: {@code dHp_n = dGates_n·r}):
     * <pre>
     * dn' = dh·(1 − z)·(1 − n²)    dr' = dn'·hp_n·r(1 − r)    dz' = dh·(hPrev − n)·z(1 − z)
     * </pre>
     */
    void gruCellBackward(int rows, int hidden, float[] gates, int gOff, float[] hp, int hpOff, float[] hPrev,
                         int hPrevOff, float[] dh, int dhOff, float[] dGates, int dGatesOff, float[] dHp, int dHpOff);

    /**
     * {@code out[outOff + i] = a[aOff + i·aStride] op b[bOff + i·bStride]} for i in [0, n). A stride of
     * 0 repeats one value (broadcasting). Every implementation gives the same bits: one IEEE
     * operation per element.
     */
    void binary(BinaryOp op, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride,
                float[] out, int outOff, int n);

    /**
     * Softmax of one row: {@code y[yOff + i] = exp(s_i − max s) / Σ_j exp(s_j − max s)} with
     * {@code s_i = scale · x[xOff + i]}, for i in [0, n). {@code x} and {@code y} may be the same
     * range (in place). A row whose values are all −∞ gives NaN, as PyTorch's softmax does.
     */
    void softmax(float scale, float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * The gradient through {@link #softmax}: {@code dx[dxOff + i] = scale · y_i · (dy_i − Σ_j dy_j · y_j)}
     * for i in [0, n), where {@code y} holds the softmax output. {@code dx} may be the same range
     * as {@code dy} (in place).
     */
    void softmaxBackward(float scale, float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int n);

    /**
     * Layer normalisation of {@code rows} rows of {@code n} values, row r at {@code x[xOff + r·n]}:
     * mean, biased variance, {@code rstd = 1/√(var + eps)} and
     * {@code y = (x − mean) · rstd · w + b} at {@code y[yOff + r·n]} ({@code w} and {@code b}: n
     * values, or null for none); the row's mean and rstd go to {@code mean[statOff + r]} and
     * {@code rstd[statOff + r]}. The variance is taken about the mean (two passes).
     */
    void layerNorm(float[] x, int xOff, float[] w, float[] b, float eps, float[] y, int yOff,
                   float[] mean, float[] rstd, int statOff, int rows, int n);

    /**
     * The gradient through {@link #layerNorm} for the same rows, from {@code dy}: with
     * {@code x̂ = (x − mean) · rstd} and {@code g = dy · w} (dy when w is null),
     * {@code dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))} at {@code dx[dxOff + r·n]}, and
     * {@code dw[j] += Σ_r dy · x̂}, {@code db[j] += Σ_r dy}. Each of dx, dw, db may be null.
     */
    void layerNormBackward(float[] x, int xOff, float[] dy, int dyOff, float[] w, float[] mean, float[] rstd,
                           int statOff, float[] dx, int dxOff, float[] dw, float[] db, int rows, int n);

    /**
     * Max pooling of one plane with a 2×2 window and stride 2: for each output (oh, ow) of
     * {@code outH × outW}, the four inputs at {@code base + planeOff + (2oh + dh)·inW + 2ow + dw}
     * taken in the order (0,0), (0,1), (1,0), (1,1) with PyTorch's rule "take v when v > max or v
     * is NaN" (the first maximum and the last NaN win). The value goes to
     * {@code out[outOff + oh·outW + ow]} and its index relative to {@code base} to {@code arg} at
     * the same place. Needs {@code 2·outH} rows of at least {@code 2·outW} values.
     */
    void maxPool2x2(float[] in, int base, int planeOff, int inW, int outH, int outW, float[] out, int[] arg,
                    int outOff);

    /**
     * Σ x[off + i] for i in [0, n), in double. The scalar kernels add in order; the vector kernels
     * add in float lanes of a vector, then the lanes in a fixed order in double: the same result
     * on every call and thread count, within float rounding of the ordered sum.
     */
    double sum(float[] x, int off, int n);

    /**
     * Σ x[off + i]² for i in [0, n), each square in float (so a value above about 1.8e19 gives
     * +Inf, as torch's float32 norms do), summed in double (gradient and weight norms): the scalar kernels in
     * order, the vector kernels in float lanes over blocks of 1024 elements, each block's lanes added
     * in double in a fixed order — deterministic, within float rounding of the ordered sum.
     */
    double sumOfSquares(float[] x, int off, int n);

    /**
     * Σ (a[aOff + i] − b[bOff + i])² for i in [0, n), each difference and square in float, summed
     * in double as {@link #sumOfSquares} (the size of an update: weights after minus before).
     */
    double sumOfSquaredDifferences(float[] a, int aOff, float[] b, int bOff, int n);

    /**
     * Copies {@code src[srcOff .. srcOff+n)} to {@code dst[dstOff ..)} and returns Σ src[i]² summed
     * as {@link #sumOfSquares} (the same value, bit for bit): a weight snapshot and its norm in one
     * pass over memory.
     */
    double copySumOfSquares(float[] src, int srcOff, float[] dst, int dstOff, int n);

    /** A short name for logs and the command line, such as {@code scalar} or {@code vector (512-bit)}. */
    default String name() {
        return getClass().getSimpleName();
    }

    /**
     * The implementation in use, chosen once at start-up: {@link VectorKernels} when the
     * {@code jdk.incubator.vector} module is present, else {@link ScalarKernels} (with one log line
     * saying how to enable SIMD). {@code -Dbackprop.kernels=scalar} or {@code =vector} forces one.
     */
    static Kernels get() {
        return KernelsHolder.INSTANCE;
    }

    /**
     * Sets how many threads one large kernel call may use (the caller plus shared workers); the
     * default is {@code -Dbackprop.threads}, else the number of available processors. Results do
     * not depend on it: each part of an output is computed by one thread in a fixed order.
     */
    static void setThreads(int threads) {
        KernelPool.setThreads(threads);
    }

    /** How many threads one large kernel call may use. */
    static int threads() {
        return KernelPool.threads();
    }

    /** A range [from, to) of a loop split over threads by {@link #parallelFor}. */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over [0, n), split into one contiguous range per kernel thread when each
     * gets at least {@code minPerPart} iterations; otherwise on the calling thread. The body must
     * write disjoint outputs for disjoint ranges, so that the split cannot change a result.
     */
    static void parallelFor(int n, int minPerPart, Range body) {
        KernelPool.forRange(n, minPerPart, 1, body);
    }
}

final class KernelsHolder {
    static final String PROPERTY = "backprop.kernels";
    static final Kernels INSTANCE = select(System.getProperty(PROPERTY));

    private KernelsHolder() {}

    /**
     * The implementation for a value of {@code -Dbackprop.kernels}: {@code null}, empty or
     * {@code auto} picks the vector kernels when they can run, {@code scalar} and {@code vector}
     * force one (forcing vector without the module is an error).
     */
    static Kernels select(String property) {
        String choice = property == null ? "auto" : property.trim().toLowerCase(java.util.Locale.ROOT);
        switch (choice) {
            case "", "auto" -> {
                String missing = vectorUnavailable();
                if (missing == null) {
                    return new VectorKernels();
                }
                org.slf4j.LoggerFactory.getLogger(Kernels.class).warn("SIMD kernels are off ({}), using the scalar "
                        + "ones (matrix products 20-40x slower): run java with --add-modules jdk.incubator.vector",
                        missing);
                return new ScalarKernels();
            }
            case "scalar" -> {
                return new ScalarKernels();
            }
            case "vector" -> {
                String missing = vectorUnavailable();
                if (missing != null) {
                    throw new IllegalStateException("-D" + PROPERTY + "=vector, but the vector kernels cannot run ("
                            + missing + "): run java with --add-modules jdk.incubator.vector");
                }
                return new VectorKernels();
            }
            default -> throw new IllegalArgumentException("-D" + PROPERTY + ": expected scalar, vector or auto, got '"
                    + property + "'");
        }
    }

    /** Why the vector kernels cannot run here, or null when they can. */
    static String vectorUnavailable() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "module jdk.incubator.vector is not loaded";
        }
        try {
            return VectorKernels.unsupportedReason();
        } catch (LinkageError e) {
            return "the Vector API failed to load: " + e;
        }
    }
}
