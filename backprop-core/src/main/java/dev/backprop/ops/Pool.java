package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * Pooling with the semantics of {@code torch.nn.functional}: {@code max_pool2d} (padding is -inf,
 * dilation, ceil mode, the gradient goes to the first maximum of each window),
 * {@code avg_pool2d} ({@code count_include_pad}, {@code divisor_override}, ceil mode),
 * {@code adaptive_avg_pool2d} and the 1-D forms. Inputs are (N, C, H, W) or (C, H, W) (for 1-D,
 * (N, C, L) or (C, L)); every plane is pooled on its own, so the leading dims only count planes.
 * {@code stride} null (or empty) means the kernel size, as PyTorch's {@code stride=None}.
 */
public final class Pool {
    private Pool() {}

    /** The values of a max pooling and the int64 index of each maximum within its input plane (h · W + w). */
    public record MaxPoolResult(Tensor values, Tensor indices) {}

    // ------------------------------------------------------------------ max pooling

    /** Max pooling with a square window and stride equal to the window ({@code F.max_pool2d(x, k)}). */
    public static Tensor maxPool2d(Tensor x, int kernelSize) {
        return maxPool2d(x, new int[] {kernelSize}, null, new int[] {0}, new int[] {1}, false);
    }

    /** Max pooling with square settings. */
    public static Tensor maxPool2d(Tensor x, int kernelSize, int stride, int padding) {
        return maxPool2d(x, new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, new int[] {1}, false);
    }

    /**
     * Max pooling; each setting is {h, w} or one value for both. Out = floor or (with
     * {@code ceilMode}) ceil of (In + 2 padding - dilation (kernel - 1) - 1) / stride, plus 1.
     */
    public static Tensor maxPool2d(Tensor x, int[] kernelSize, int[] stride, int[] padding, int[] dilation,
            boolean ceilMode) {
        String op = "max_pool2d";
        return MaxPool.apply(op, x, maxPoolGeometry(op, x, kernelSize, stride, padding, dilation, ceilMode), null);
    }

    /** Max pooling that also returns where each maximum was ({@code return_indices=True}). */
    public static MaxPoolResult maxPool2dWithIndices(Tensor x, int[] kernelSize, int[] stride, int[] padding,
            int[] dilation, boolean ceilMode) {
        String op = "max_pool2d";
        Geometry g = maxPoolGeometry(op, x, kernelSize, stride, padding, dilation, ceilMode);
        int[] argmax = new int[g.planes(x) * g.outH * g.outW];
        Tensor values = MaxPool.apply(op, x, g, argmax);
        int inPlane = g.inH * g.inW;
        long[] planeIndex = new long[argmax.length];
        for (int i = 0; i < argmax.length; i++) {
            planeIndex[i] = argmax[i] < 0 ? -1 : argmax[i] % inPlane;
        }
        return new MaxPoolResult(values, Tensor.ofLongs(planeIndex, values.shape()));
    }

    private static Geometry maxPoolGeometry(String op, Tensor x, int[] kernelSize, int[] stride, int[] padding,
            int[] dilation, boolean ceilMode) {
        return Geometry.of(op, x, 2, Conv.pair(kernelSize, "kernel_size", op),
                stride == null || stride.length == 0 ? kernelSize : stride, padding, dilation, ceilMode);
    }

    /** 1-D max pooling of (N, C, L) or (C, L); {@code stride} 0 means the kernel size. */
    public static Tensor maxPool1d(Tensor x, int kernelSize, int stride, int padding, int dilation, boolean ceilMode) {
        String op = "max_pool1d";
        Geometry g = Geometry.of(op, x, 1, new int[] {1, kernelSize}, new int[] {1, stride == 0 ? kernelSize : stride},
                new int[] {0, padding}, new int[] {1, dilation}, ceilMode);
        return MaxPool.apply(op, x, g, null);
    }

    /**
     * y = max over each window;  dx[argmax] += dy, the argmax being the first maximum of the window
     * in row-major order (a NaN counts as a maximum), as PyTorch's CPU kernel
     */
    static final class MaxPool extends Node {
        /** Below this many elements per thread, pooling stays on the calling thread. */
        private static final int PARALLEL_ELEMENTS = 1 << 15;
        private int[] argmax; // per output element: flat index into the contiguous input, -1 for an all-padding window
        private final int outputPlane; // outputs per plane

        private MaxPool(String op, Tensor x, int[] argmax, int outputPlane) {
            super(op, x);
            this.argmax = argmax;
            this.outputPlane = outputPlane;
        }

        /** Pools {@code x}; the argmax of each output goes into {@code argmax} (allocated when null). */
        static Tensor apply(String op, Tensor x, Geometry g, int[] argmax) {
            Tensor xc = x.detach().contiguous();
            float[] in = xc.floatStorage();
            int base = xc.offset();
            int planes = g.planes(x);
            int inPlane = g.inH * g.inW;
            int outPlane = g.outH * g.outW;
            float[] out = new float[planes * outPlane];
            int[] arg = argmax != null ? argmax : new int[planes * outPlane];
            if (g.kH == 2 && g.kW == 2 && g.strideH == 2 && g.strideW == 2 && g.padH == 0 && g.padW == 0
                    && g.dilH == 1 && g.dilW == 1 && 2 * g.outH <= g.inH && 2 * g.outW <= g.inW) {
                // planes split over threads: each writes its own outputs
                Kernels kernels = Kernels.get();
                Kernels.parallelFor(planes, Math.max(1, PARALLEL_ELEMENTS / Math.max(1, inPlane)), (p0, p1) -> {
                    for (int p = p0; p < p1; p++) {
                        kernels.maxPool2x2(in, base, p * inPlane, g.inW, g.outH, g.outW, out, arg, p * outPlane);
                    }
                });
                Tensor y = Tensor.of(out, g.outShape(x));
                return record(op, y, needsGrad(x) ? new MaxPool(op, x, arg, outPlane) : null);
            }
            int inW = g.inW;
            int dilH = g.dilH;
            int dilW = g.dilW;
            // the kernel taps inside the input, per output row and column (padding never wins: -inf)
            int[] khLo = new int[g.outH];
            int[] khHi = new int[g.outH];
            int[] kwLo = new int[g.outW];
            int[] kwHi = new int[g.outW];
            for (int oh = 0; oh < g.outH; oh++) {
                int h0 = oh * g.strideH - g.padH;
                khLo[oh] = firstInside(h0, dilH);
                khHi[oh] = endInside(h0, dilH, g.kH, g.inH);
            }
            for (int ow = 0; ow < g.outW; ow++) {
                int w0 = ow * g.strideW - g.padW;
                kwLo[ow] = firstInside(w0, dilW);
                kwHi[ow] = endInside(w0, dilW, g.kW, inW);
            }
            int[] full = new int[g.kH * g.kW]; // offsets of every tap from the window's corner, row-major
            for (int kh = 0; kh < g.kH; kh++) {
                for (int kw = 0; kw < g.kW; kw++) {
                    full[kh * g.kW + kw] = kh * dilH * inW + kw * dilW;
                }
            }
            Taps taps = new Taps(khLo, khHi, kwLo, kwHi, full);
            int[] partial = new int[full.length];
            for (int p = 0; p < planes; p++) {
                plane(in, base, p * inPlane, p * outPlane, g, taps, partial, out, arg);
            }
            Tensor y = Tensor.of(out, g.outShape(x));
            return record(op, y, needsGrad(x) ? new MaxPool(op, x, arg, outPlane) : null);
        }

        /**
         * The kernel taps inside the input, per output row (kh in [khLo, khHi)) and per output column,
         * and the offset of every tap from a window's corner in the input.
         */
        private record Taps(int[] khLo, int[] khHi, int[] kwLo, int[] kwHi, int[] full) {}

        /**
         * One plane: out and arg from {@code o}, input elements from {@code base + planeOff}. Each window
         * is one flat loop over its taps' offsets (nested loops of 2 or 3 iterations cost twice as much)
         * with a branch-free update: on random data the branch "v > max" is mispredicted half the time.
         */
        private static void plane(float[] in, int base, int planeOff, int o, Geometry g, Taps taps, int[] partial,
                float[] out, int[] arg) {
            int inW = g.inW();
            int kW = g.kW();
            int[] full = taps.full();
            for (int oh = 0; oh < g.outH(); oh++) {
                int h0 = oh * g.strideH() - g.padH();
                int kh0 = taps.khLo()[oh];
                int kh1 = taps.khHi()[oh];
                for (int ow = 0; ow < g.outW(); ow++, o++) {
                    int w0 = ow * g.strideW() - g.padW();
                    int kw0 = taps.kwLo()[ow];
                    int kw1 = taps.kwHi()[ow];
                    int[] offsets = full;
                    int n = full.length;
                    if (kh1 - kh0 < g.kH() || kw1 - kw0 < kW) {
                        offsets = partial;
                        n = 0;
                        for (int kh = kh0; kh < kh1; kh++) {
                            for (int kw = kw0; kw < kw1; kw++) {
                                partial[n++] = full[kh * kW + kw];
                            }
                        }
                    }
                    int corner = planeOff + h0 * inW + w0;
                    int best = n == 0 ? -1 : corner + offsets[0]; // -1: the window lies in the padding
                    int maxKey = NEGATIVE_INFINITY_KEY;
                    for (int t = 0; t < n; t++) {
                        int idx = corner + offsets[t];
                        float v = in[base + idx];
                        int key = orderKey(v);
                        int take = (int) (((long) maxKey - key) >> 63); // -1 when v > max: the first maximum wins
                        best ^= (best ^ idx) & take;
                        maxKey ^= (maxKey ^ key) & take;
                        if (v != v) { // NaN is the maximum, as in PyTorch (rare: predicted)
                            best = idx;
                            maxKey = Integer.MAX_VALUE;
                        }
                    }
                    out[o] = best < 0 ? Float.NEGATIVE_INFINITY : in[base + best];
                    arg[o] = best;
                }
            }
        }

        private static final int NEGATIVE_INFINITY_KEY = orderKey(Float.NEGATIVE_INFINITY);

        /**
         * An int whose order is the float order of {@code v} for non-NaN values, with -0 equal to +0
         * (adding 0 turns -0 into +0): the IEEE bits with the magnitude bits of negatives flipped.
         */
        private static int orderKey(float v) {
            int bits = Float.floatToRawIntBits(v + 0f);
            return bits ^ ((bits >> 31) & 0x7fffffff);
        }

        @Override
        protected Tensor[] backward(Tensor gradOutput) {
            Tensor dyc = gradOutput.contiguous();
            float[] dy = dyc.floatStorage();
            int off = dyc.offset();
            float[] dx = new float[input(0).numel()];
            int[] arg = argmax;
            int outPlane = Math.max(1, outputPlane);
            int planes = arg.length / outPlane;
            // every window of a plane lies in that plane: planes split over threads touch disjoint parts of dx
            Kernels.parallelFor(planes, Math.max(1, PARALLEL_ELEMENTS / outPlane), (p0, p1) -> {
                for (int i = p0 * outPlane, end = p1 * outPlane; i < end; i++) {
                    int a = arg[i];
                    if (a >= 0) {
                        dx[a] += dy[off + i];
                    }
                }
            });
            return new Tensor[] {Tensor.of(dx, input(0).shape())};
        }

        @Override
        protected void release() {
            argmax = null;
        }
    }

    // ------------------------------------------------------------------ average pooling

    /** Average pooling with a square window and stride equal to the window ({@code F.avg_pool2d(x, k)}). */
    public static Tensor avgPool2d(Tensor x, int kernelSize) {
        return avgPool2d(x, new int[] {kernelSize}, null, new int[] {0}, false, true, 0);
    }

    /** Average pooling with square settings, padding counted in the divisor. */
    public static Tensor avgPool2d(Tensor x, int kernelSize, int stride, int padding) {
        return avgPool2d(x, new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, false, true, 0);
    }

    /**
     * Average pooling; each setting is {h, w} or one value for both. The divisor of a window is
     * {@code divisorOverride} if positive, else its size clipped to the padded input
     * ({@code countIncludePad}, PyTorch's default) or to the input itself.
     */
    public static Tensor avgPool2d(Tensor x, int[] kernelSize, int[] stride, int[] padding, boolean ceilMode,
            boolean countIncludePad, int divisorOverride) {
        String op = "avg_pool2d";
        int[] k = Conv.pair(kernelSize, "kernel_size", op);
        Geometry g = Geometry.of(op, x, 2, k, stride == null || stride.length == 0 ? k : stride, padding,
                new int[] {1}, ceilMode);
        return WindowAverage.pooling(op, x, g, countIncludePad, divisorOverride);
    }

    /** 1-D average pooling of (N, C, L) or (C, L); {@code stride} 0 means the kernel size. */
    public static Tensor avgPool1d(Tensor x, int kernelSize, int stride, int padding, boolean ceilMode,
            boolean countIncludePad) {
        String op = "avg_pool1d";
        Geometry g = Geometry.of(op, x, 1, new int[] {1, kernelSize}, new int[] {1, stride == 0 ? kernelSize : stride},
                new int[] {0, padding}, new int[] {1, 1}, ceilMode);
        return WindowAverage.pooling(op, x, g, countIncludePad, 0);
    }

    /** Adaptive average pooling to a square output ({@code F.adaptive_avg_pool2d(x, size)}). */
    public static Tensor adaptiveAvgPool2d(Tensor x, int outputSize) {
        return adaptiveAvgPool2d(x, outputSize, outputSize);
    }

    /**
     * Adaptive average pooling to outH × outW: output row i averages input rows
     * floor(i · H / outH) to ceil((i + 1) · H / outH) - 1 (bins may overlap), likewise columns.
     */
    public static Tensor adaptiveAvgPool2d(Tensor x, int outH, int outW) {
        String op = "adaptive_avg_pool2d";
        x.requireType(DType.FLOAT32, op);
        Geometry.checkRank(op, x, 2);
        if (outH < 1 || outW < 1) {
            throw new IllegalArgumentException(op + ": the output size must be positive, got (" + outH + ", " + outW
                    + ")");
        }
        int h = x.size(-2);
        int w = x.size(-1);
        if (h == 0 || w == 0) {
            throw new IllegalArgumentException(op + ": the input " + Shape.str(x.shape()) + " has an empty plane");
        }
        int[][] rows = adaptiveBins(h, outH);
        int[][] cols = adaptiveBins(w, outW);
        int[] divisor = new int[outH * outW];
        for (int i = 0; i < outH; i++) {
            for (int j = 0; j < outW; j++) {
                divisor[i * outW + j] = (rows[1][i] - rows[0][i]) * (cols[1][j] - cols[0][j]);
            }
        }
        int[] shape = x.shape();
        shape[shape.length - 2] = outH;
        shape[shape.length - 1] = outW;
        return WindowAverage.apply(op, x, h, w, rows, cols, divisor, shape);
    }

    /** {starts, ends} of PyTorch's adaptive bins: start = floor(i In / Out), end = ceil((i + 1) In / Out). */
    private static int[][] adaptiveBins(int in, int out) {
        int[][] b = new int[2][out];
        for (int i = 0; i < out; i++) {
            b[0][i] = (int) ((long) i * in / out);
            b[1][i] = (int) Math.ceilDiv((long) (i + 1) * in, out);
        }
        return b;
    }

    /**
     * y[i, j] = Σ x over rows [r0(i), r1(i)) × cols [c0(j), c1(j)) / divisor(i, j);
     * dx[window(i, j)] += dy[i, j] / divisor(i, j)
     */
    static final class WindowAverage extends Node {
        private final int inH; // the pooled planes' size (1 for 1-D pooling)
        private final int inW;
        private final int[][] rows; // {start, end} per output row: the input rows of the window, clipped to the input
        private final int[][] cols; // {start, end} per output column
        private final int[] divisor; // (outH * outW)

        private WindowAverage(String op, Tensor x, int inH, int inW, int[][] rows, int[][] cols, int[] divisor) {
            super(op, x);
            this.inH = inH;
            this.inW = inW;
            this.rows = rows;
            this.cols = cols;
            this.divisor = divisor;
        }

        /** avg_pool windows: clipped to the padded input for the divisor, to the input for the sum. */
        static Tensor pooling(String op, Tensor x, Geometry g, boolean countIncludePad, int divisorOverride) {
            int[][] r = new int[2][g.outH];
            int[][] c = new int[2][g.outW];
            int[] padded = new int[g.outH];
            int[] paddedW = new int[g.outW];
            clip(g.outH, g.strideH, g.padH, g.kH, g.inH, r, padded);
            clip(g.outW, g.strideW, g.padW, g.kW, g.inW, c, paddedW);
            int[] divisor = new int[g.outH * g.outW];
            for (int i = 0; i < g.outH; i++) {
                for (int j = 0; j < g.outW; j++) {
                    divisor[i * g.outW + j] = divisorOverride > 0 ? divisorOverride
                            : countIncludePad ? padded[i] * paddedW[j] : (r[1][i] - r[0][i]) * (c[1][j] - c[0][j]);
                }
            }
            return apply(op, x, g.inH, g.inW, r, c, divisor, g.outShape(x));
        }

        /** PyTorch's avg_pool window: start = o s - p, end = min(start + k, in + p), then clipped to [0, in). */
        private static void clip(int out, int stride, int pad, int k, int in, int[][] range, int[] paddedSize) {
            for (int o = 0; o < out; o++) {
                int start = o * stride - pad;
                int end = Math.min(start + k, in + pad);
                paddedSize[o] = end - start;
                range[0][o] = Math.max(start, 0);
                range[1][o] = Math.min(end, in);
            }
        }

        static Tensor apply(String op, Tensor x, int inH, int inW, int[][] rows, int[][] cols, int[] divisor,
                int[] outShape) {
            Tensor xc = x.detach().contiguous();
            float[] in = xc.floatStorage();
            int base = xc.offset();
            int outH = rows[0].length;
            int outW = cols[0].length;
            int inPlane = inH * inW;
            int planes = inPlane == 0 ? 0 : x.numel() / inPlane;
            float[] out = new float[planes * outH * outW];
            int o = 0;
            for (int p = 0; p < planes; p++) {
                int planeOff = base + p * inPlane;
                for (int i = 0; i < outH; i++) {
                    for (int j = 0; j < outW; j++, o++) {
                        double sum = 0;
                        for (int h = rows[0][i]; h < rows[1][i]; h++) {
                            int rowOff = planeOff + h * inW;
                            for (int w = cols[0][j]; w < cols[1][j]; w++) {
                                sum += in[rowOff + w];
                            }
                        }
                        out[o] = (float) (sum / divisor[i * outW + j]);
                    }
                }
            }
            Tensor y = Tensor.of(out, outShape);
            return record(op, y, needsGrad(x) ? new WindowAverage(op, x, inH, inW, rows, cols, divisor) : null);
        }

        @Override
        protected Tensor[] backward(Tensor gradOutput) {
            Tensor dyc = gradOutput.contiguous();
            float[] dy = dyc.floatStorage();
            int[] xs = input(0).shape();
            int outH = rows[0].length;
            int outW = cols[0].length;
            int inPlane = inH * inW;
            float[] dx = new float[input(0).numel()];
            int planes = inPlane == 0 ? 0 : dx.length / inPlane;
            int o = dyc.offset();
            for (int p = 0; p < planes; p++) {
                int planeOff = p * inPlane;
                for (int i = 0; i < outH; i++) {
                    for (int j = 0; j < outW; j++, o++) {
                        float g = dy[o] / divisor[i * outW + j];
                        for (int h = rows[0][i]; h < rows[1][i]; h++) {
                            int rowOff = planeOff + h * inW;
                            for (int w = cols[0][j]; w < cols[1][j]; w++) {
                                dx[rowOff + w] += g;
                            }
                        }
                    }
                }
            }
            return new Tensor[] {Tensor.of(dx, xs)};
        }
    }

    // ------------------------------------------------------------------ geometry

    /** Index of the first kernel tap at or after 0: the smallest k with start + k d >= 0. */
    private static int firstInside(int start, int dilation) {
        return start >= 0 ? 0 : Math.ceilDiv(-start, dilation);
    }

    /** One past the last kernel tap inside [0, size): the smallest k with start + k d >= size, at most kernel. */
    private static int endInside(int start, int dilation, int kernel, int size) {
        return Math.max(0, Math.min(kernel, Math.ceilDiv(size - start, dilation)));
    }

    /** A pooling window over the last two dims (1-D pooling is 2-D with a 1 × k window on H = 1). */
    record Geometry(int spatialDims, int inH, int inW, int kH, int kW, int strideH, int strideW, int padH, int padW,
            int dilH, int dilW, int outH, int outW) {

        /** Validates the input and settings of a pooling over {@code dims} (1 or 2) spatial dims. */
        static Geometry of(String op, Tensor x, int dims, int[] kernel, int[] stride, int[] padding, int[] dilation,
                boolean ceilMode) {
            x.requireType(DType.FLOAT32, op);
            checkRank(op, x, dims);
            int[] k = Conv.pair(kernel, "kernel_size", op);
            int[] s = Conv.pair(stride, "stride", op);
            int[] p = Conv.pair(padding, "padding", op);
            int[] d = Conv.pair(dilation, "dilation", op);
            for (int i = 0; i < 2; i++) {
                if (k[i] < 1 || s[i] < 1 || p[i] < 0 || d[i] < 1) {
                    throw new IllegalArgumentException(op + ": need kernel_size >= 1, stride >= 1, padding >= 0, "
                            + "dilation >= 1; got kernel_size " + str(k, dims) + ", stride " + str(s, dims)
                            + ", padding " + str(p, dims) + ", dilation " + str(d, dims));
                }
                if (p[i] > k[i] / 2) {
                    throw new IllegalArgumentException(op + ": padding " + str(p, dims) + " must be at most half of "
                            + "the kernel size " + str(k, dims));
                }
            }
            int inH = dims == 1 ? 1 : x.size(-2);
            int inW = x.size(-1);
            int outH = outputSize(inH, k[0], s[0], p[0], d[0], ceilMode);
            int outW = outputSize(inW, k[1], s[1], p[1], d[1], ceilMode);
            if (outH < 1 || outW < 1) {
                throw new IllegalArgumentException(op + ": the input " + Shape.str(x.shape()) + " is too small for "
                        + "kernel_size " + str(k, dims) + " (padding " + str(p, dims) + ", dilation " + str(d, dims)
                        + "): the output would be " + (dims == 1 ? String.valueOf(outW) : outH + " x " + outW));
            }
            return new Geometry(dims, inH, inW, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], outH, outW);
        }

        static void checkRank(String op, Tensor x, int dims) {
            if (x.dim() != dims + 1 && x.dim() != dims + 2) {
                String spatial = dims == 1 ? "L" : "H, W";
                throw new IllegalArgumentException(op + ": expected a " + (dims + 1) + "-D (C, " + spatial + ") or "
                        + (dims + 2) + "-D (N, C, " + spatial + ") input, got " + Shape.str(x.shape()));
            }
        }

        /**
         * PyTorch's pooling_output_shape: with ceil mode the last window must start inside the input
         * or its left padding.
         */
        static int outputSize(int in, int k, int s, int p, int d, boolean ceilMode) {
            int out = Math.floorDiv(in + 2 * p - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0), s) + 1;
            if (ceilMode && (out - 1) * s >= in + p) {
                out--;
            }
            return out;
        }

        int planes(Tensor x) {
            int plane = inH * inW;
            return plane == 0 ? 0 : x.numel() / plane;
        }

        int[] outShape(Tensor x) {
            int[] s = x.shape();
            if (spatialDims == 2) {
                s[s.length - 2] = outH;
            }
            s[s.length - 1] = outW;
            return s;
        }

        private static String str(int[] v, int dims) {
            return dims == 1 ? String.valueOf(v[1]) : Arrays.toString(v);
        }
    }
}
