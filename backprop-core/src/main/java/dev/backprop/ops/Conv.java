package dev.backprop.ops;

import dev.backprop.autograd.Node;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * Convolutions with the semantics and argument order of {@code torch.nn.functional.conv1d},
 * {@code conv2d} and {@code conv_transpose2d}: zero padding, stride, dilation, groups, optional
 * bias, batched (N, C, ...) or unbatched (C, ...) inputs.
 *
 * <p>Method: im2col + GEMM. For each sample and group the receptive fields of the input are laid
 * out as the columns of a (C/groups · kH · kW) × (outH · outW) matrix, and the convolution is one
 * matrix product with the weight viewed as (O/groups) × (C/groups · kH · kW). The transposed
 * convolution is the adjoint of that map: its forward is the convolution's input gradient and its
 * input gradient is a convolution. {@code conv1d} is {@code conv2d} with H = 1. The column buffer
 * is recomputed in backward rather than kept, as PyTorch does.
 */
public final class Conv {
    private Conv() {}

    // ------------------------------------------------------------------ public API

    /**
     * 1-D convolution: {@code x} (N, C, L) or (C, L), {@code weight} (O, C/groups, K), {@code bias}
     * (O) or null; result (N, O, Lout) with Lout = (L + 2 padding - dilation (K - 1) - 1) / stride + 1.
     */
    public static Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation,
            int groups) {
        int[] s = {stride};
        int[] p = {padding};
        int[] d = {dilation};
        Spec spec = Spec.check("conv1d", false, x, weight, bias, s, p, d, new int[] {0}, groups);
        Tensor x4 = (spec.unbatched ? x.unsqueeze(0) : x).unsqueeze(2);
        Tensor y = Convolution.apply("conv1d", x4, weight.unsqueeze(2), bias, new int[] {1, stride},
                new int[] {0, padding}, new int[] {1, dilation}, groups, 1, spec.out[0]);
        y = y.squeeze(2);
        return spec.unbatched ? y.squeeze(0) : y;
    }

    /** {@link #conv2d(Tensor, Tensor, Tensor, int[], int[], int[], int)} with stride 1, no padding, no dilation. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias) {
        return conv2d(x, weight, bias, 1, 0, 1, 1);
    }

    /** {@link #conv2d(Tensor, Tensor, Tensor, int[], int[], int[], int)} with square settings. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation,
            int groups) {
        return conv2d(x, weight, bias, new int[] {stride}, new int[] {padding}, new int[] {dilation}, groups);
    }

    /**
     * 2-D convolution: {@code x} (N, C, H, W) or (C, H, W), {@code weight} (O, C/groups, kH, kW),
     * {@code bias} (O) or null. {@code stride}, {@code padding}, {@code dilation} are {h, w} or one
     * value for both. Result (N, O, Hout, Wout), Hout = (H + 2 pH - dH (kH - 1) - 1) / sH + 1.
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation,
            int groups) {
        int[] s = pair(stride, "stride", "conv2d");
        int[] p = pair(padding, "padding", "conv2d");
        int[] d = pair(dilation, "dilation", "conv2d");
        Spec spec = Spec.check("conv2d", false, x, weight, bias, s, p, d, new int[] {0, 0}, groups);
        Tensor y = Convolution.apply("conv2d", spec.unbatched ? x.unsqueeze(0) : x, weight, bias, s, p, d, groups,
                spec.out[0], spec.out[1]);
        return spec.unbatched ? y.squeeze(0) : y;
    }

    /** {@link #convTranspose2d(Tensor, Tensor, Tensor, int[], int[], int[], int, int[])} with square settings. */
    public static Tensor convTranspose2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int outputPadding, int groups, int dilation) {
        return convTranspose2d(x, weight, bias, new int[] {stride}, new int[] {padding}, new int[] {outputPadding},
                groups, new int[] {dilation});
    }

    /**
     * 2-D transposed convolution (the gradient of conv2d with respect to its input), argument order
     * as {@code torch.nn.functional.conv_transpose2d}: {@code x} (N, Cin, H, W) or (Cin, H, W),
     * {@code weight} (Cin, Cout/groups, kH, kW), {@code bias} (Cout) or null. Result (N, Cout, Hout,
     * Wout), Hout = (H - 1) sH - 2 pH + dH (kH - 1) + outputPaddingH + 1; {@code outputPadding} must
     * be smaller than the stride or the dilation.
     */
    public static Tensor convTranspose2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding,
            int[] outputPadding, int groups, int[] dilation) {
        String op = "conv_transpose2d";
        int[] s = pair(stride, "stride", op);
        int[] p = pair(padding, "padding", op);
        int[] op2 = pair(outputPadding, "output_padding", op);
        int[] d = pair(dilation, "dilation", op);
        Spec spec = Spec.check(op, true, x, weight, bias, s, p, d, op2, groups);
        Tensor y = TransposedConvolution.apply(spec.unbatched ? x.unsqueeze(0) : x, weight, bias, s, p, d, groups,
                spec.out[0], spec.out[1]);
        return spec.unbatched ? y.squeeze(0) : y;
    }

    // ------------------------------------------------------------------ nodes

    /**
     * y[n, g] = W[g] · im2col(x[n, g]) + b;  dW[g] = Σₙ dy[n, g] · im2col(x[n, g])ᵀ;
     * dx[n, g] = col2im(W[g]ᵀ · dy[n, g]);  db = Σ dy over (N, Hout, Wout)
     */
    static final class Convolution extends Node {
        private final Window win; // one group's geometry: C/groups input planes -> (outH, outW)
        private final int groups;

        private Convolution(String op, Tensor x, Tensor w, Tensor b, Window win, int groups) {
            super(op, x, w, b);
            this.win = win;
            this.groups = groups;
        }

        /** x (N, C, H, W) and w (O, C/groups, kH, kW), already validated. */
        static Tensor apply(String op, Tensor x, Tensor w, Tensor b, int[] stride, int[] padding, int[] dilation,
                int groups, int outH, int outW) {
            int[] xs = x.shape();
            int[] ws = w.shape();
            int n = xs[0];
            int o = ws[0];
            Window win = new Window(xs[1] / groups, xs[2], xs[3], ws[2], ws[3], stride[0], stride[1], padding[0],
                    padding[1], dilation[0], dilation[1], outH, outW);
            Tensor xc = x.detach().contiguous();
            Tensor wc = w.detach().contiguous();
            float[] xd = xc.floatStorage();
            float[] wd = wc.floatStorage();
            int og = o / groups;
            int rows = win.rows();
            int cols = win.cols();
            int inPlane = win.inH * win.inW;
            float[] out = new float[n * o * cols]; // (N, O, outH, outW)
            Kernels k = Kernels.get();
            // samples split over threads (each writes its own output planes); per sample and group,
            // one im2col into a per-thread buffer that stays in cache, then one GEMM
            Kernels.parallelFor(n, 1, (s0, s1) -> {
                float[] buf = win.isIdentity() ? null : Workspace.get(0, rows * cols);
                for (int s = s0; s < s1; s++) {
                    for (int g = 0; g < groups; g++) {
                        int xOff = xc.offset() + (s * xs[1] + g * win.channels) * inPlane;
                        float[] colData = xd;
                        int colOff = xOff;
                        if (buf != null) {
                            win.im2col(xd, xOff, buf);
                            colData = buf;
                            colOff = 0;
                        }
                        k.gemm(false, false, og, cols, rows, wd, wc.offset() + g * og * rows, rows, colData, colOff,
                                cols, out, (s * o + g * og) * cols, cols, false);
                    }
                }
            });
            addBias(out, n, o, cols, b);
            Tensor y = Tensor.of(out, n, o, outH, outW);
            return record(op, y, needsGrad(x, w, b) ? new Convolution(op, x, w, b, win, groups) : null);
        }

        @Override
        protected Tensor[] backward(Tensor gradOutput) {
            Tensor dyc = gradOutput.contiguous();
            float[] dy = dyc.floatStorage();
            int[] xs = input(0).shape();
            int n = xs[0];
            int c = xs[1];
            int o = input(1).size(0);
            int og = o / groups;
            int rows = win.rows();
            int cols = win.cols();
            int inPlane = win.inH * win.inW;
            boolean needX = needsInputGrad(0);
            boolean needW = needsInputGrad(1);
            Tensor xc = needW ? input(0).detach().contiguous() : null;
            Tensor wc = needX ? input(1).detach().contiguous() : null;
            float[] dx = needX ? new float[n * c * inPlane] : null;
            float[] dw = needW ? new float[o * rows] : null;
            Kernels k = Kernels.get();
            if (needX) { // dx[s] = col2im(W[g]ᵀ · dy[s]): samples split over threads, each writes its own planes
                Kernels.parallelFor(n, 1, (s0, s1) -> {
                    float[] buf = win.isIdentity() ? null : Workspace.get(0, rows * cols);
                    for (int s = s0; s < s1; s++) {
                        for (int g = 0; g < groups; g++) {
                            int dyOff = dyc.offset() + (s * o + g * og) * cols;
                            int imageOff = (s * c + g * win.channels) * inPlane;
                            int wOff = wc.offset() + g * og * rows;
                            if (buf == null) {
                                k.gemm(true, false, rows, cols, og, wc.floatStorage(), wOff, rows, dy, dyOff, cols, dx,
                                        imageOff, cols, false);
                            } else {
                                k.gemm(true, false, rows, cols, og, wc.floatStorage(), wOff, rows, dy, dyOff, cols,
                                        buf, 0, cols, false);
                                win.col2im(buf, dx, imageOff);
                            }
                        }
                    }
                });
            }
            if (needW) {
                // dW = Σ_s dy[s] · im2col(x[s])ᵀ, summed within fixed chunks of samples (one chunk per task,
                // in sample order), then the chunk sums added in chunk order: the same bits on any number
                // of threads
                int chunks = (n + DW_CHUNK - 1) / DW_CHUNK;
                float[][] partial = new float[chunks][];
                Kernels.parallelFor(chunks, 1, (c0, c1) -> {
                    float[] buf = win.isIdentity() ? null : Workspace.get(0, rows * cols);
                    for (int ch = c0; ch < c1; ch++) {
                        float[] acc = ch == 0 ? dw : new float[o * rows];
                        for (int s = ch * DW_CHUNK; s < Math.min(n, (ch + 1) * DW_CHUNK); s++) {
                            for (int g = 0; g < groups; g++) {
                                int dyOff = dyc.offset() + (s * o + g * og) * cols;
                                float[] colData = xc.floatStorage();
                                int colOff = xc.offset() + (s * c + g * win.channels) * inPlane;
                                if (buf != null) {
                                    win.im2col(colData, colOff, buf);
                                    colData = buf;
                                    colOff = 0;
                                }
                                k.gemm(false, true, og, rows, cols, dy, dyOff, cols, colData, colOff, cols, acc,
                                        g * og * rows, rows, true);
                            }
                        }
                        partial[ch] = acc;
                    }
                });
                for (int ch = 1; ch < chunks; ch++) {
                    k.binary(dev.backprop.kernels.BinaryOp.ADD, dw, 0, 1, partial[ch], 0, 1, dw, 0, o * rows);
                }
            }
            return new Tensor[] {
                needX ? Tensor.of(dx, xs) : null,
                needW ? Tensor.of(dw, input(1).shape()) : null,
                needsInputGrad(2) ? Tensor.of(biasGrad(dy, dyc.offset(), n, o, cols), o) : null};
        }
    }

    /**
     * y[n, g] = col2im(W[g]ᵀ · x[n, g]) + b;  dx[n, g] = W[g] · im2col(dy[n, g]);
     * dW[g] = Σₙ x[n, g] · im2col(dy[n, g])ᵀ;  db = Σ dy over (N, Hout, Wout)
     */
    /** Samples per partial sum of a convolution's weight gradient (fixed, so results do not depend on threads). */
    static final int DW_CHUNK = 16;

    static final class TransposedConvolution extends Node {
        private final Window win; // one group's geometry, as the adjoint convolution's: (outH, outW) -> (H, W)
        private final int groups;

        private TransposedConvolution(Tensor x, Tensor w, Tensor b, Window win, int groups) {
            super("conv_transpose2d", x, w, b);
            this.win = win;
            this.groups = groups;
        }

        /** x (N, Cin, H, W) and w (Cin, Cout/groups, kH, kW), already validated. */
        static Tensor apply(Tensor x, Tensor w, Tensor b, int[] stride, int[] padding, int[] dilation, int groups,
                int outH, int outW) {
            int[] xs = x.shape();
            int[] ws = w.shape();
            int n = xs[0];
            int cin = xs[1];
            int cing = cin / groups;
            int cout = ws[1] * groups;
            Window win = new Window(ws[1], outH, outW, ws[2], ws[3], stride[0], stride[1], padding[0], padding[1],
                    dilation[0], dilation[1], xs[2], xs[3]);
            Tensor xc = x.detach().contiguous();
            Tensor wc = w.detach().contiguous();
            int rows = win.rows(); // Cout/groups · kH · kW
            int cols = win.cols(); // H · W
            int outPlane = outH * outW;
            float[] out = new float[n * cout * outPlane]; // (N, Cout, outH, outW)
            float[] buf = win.isIdentity() ? null : new float[rows * cols];
            Kernels k = Kernels.get();
            for (int s = 0; s < n; s++) {
                for (int g = 0; g < groups; g++) {
                    int xOff = xc.offset() + (s * cin + g * cing) * cols;
                    int wOff = wc.offset() + g * cing * rows;
                    int outOff = (s * cout + g * win.channels) * outPlane;
                    if (buf == null) {
                        k.gemm(true, false, rows, cols, cing, wc.floatStorage(), wOff, rows, xc.floatStorage(), xOff,
                                cols, out, outOff, cols, false);
                    } else {
                        k.gemm(true, false, rows, cols, cing, wc.floatStorage(), wOff, rows, xc.floatStorage(), xOff,
                                cols, buf, 0, cols, false);
                        win.col2im(buf, out, outOff);
                    }
                }
            }
            addBias(out, n, cout, outPlane, b);
            Tensor y = Tensor.of(out, n, cout, outH, outW);
            return record("conv_transpose2d", y, needsGrad(x, w, b) ? new TransposedConvolution(x, w, b, win, groups)
                    : null);
        }

        @Override
        protected Tensor[] backward(Tensor gradOutput) {
            Tensor dyc = gradOutput.contiguous();
            float[] dy = dyc.floatStorage();
            int[] xs = input(0).shape();
            int n = xs[0];
            int cin = xs[1];
            int cing = cin / groups;
            int cout = win.channels * groups;
            int rows = win.rows();
            int cols = win.cols();
            int outPlane = win.inH * win.inW;
            boolean needX = needsInputGrad(0);
            boolean needW = needsInputGrad(1);
            Tensor xc = needW ? input(0).detach().contiguous() : null;
            Tensor wc = needX ? input(1).detach().contiguous() : null;
            float[] dx = needX ? new float[n * cin * cols] : null;
            float[] dw = needW ? new float[cin * rows] : null;
            float[] buf = win.isIdentity() || !(needX || needW) ? null : new float[rows * cols];
            Kernels k = Kernels.get();
            if (needX || needW) {
                for (int s = 0; s < n; s++) {
                    for (int g = 0; g < groups; g++) {
                        float[] colData = dy;
                        int colOff = dyc.offset() + (s * cout + g * win.channels) * outPlane;
                        if (buf != null) {
                            win.im2col(dy, colOff, buf);
                            colData = buf;
                            colOff = 0;
                        }
                        int xOff = (s * cin + g * cing) * cols;
                        if (needX) { // dx = W[g] · im2col(dy)
                            k.gemm(false, false, cing, cols, rows, wc.floatStorage(), wc.offset() + g * cing * rows,
                                    rows, colData, colOff, cols, dx, xOff, cols, false);
                        }
                        if (needW) { // dW[g] += x · im2col(dy)ᵀ
                            k.gemm(false, true, cing, rows, cols, xc.floatStorage(), xc.offset() + xOff, cols, colData,
                                    colOff, cols, dw, g * cing * rows, rows, true);
                        }
                    }
                }
            }
            return new Tensor[] {
                needX ? Tensor.of(dx, xs) : null,
                needW ? Tensor.of(dw, input(1).shape()) : null,
                needsInputGrad(2) ? Tensor.of(biasGrad(dy, dyc.offset(), n, cout, outPlane), cout) : null};
        }
    }

    // ------------------------------------------------------------------ im2col geometry

    /**
     * One group's convolution geometry: {@code channels} input planes of inH × inW, a kH × kW
     * kernel with stride, zero padding and dilation, giving outH × outW positions. im2col lays the
     * receptive fields out as a (channels · kH · kW) × (outH · outW) matrix; col2im adds such a
     * matrix back onto the planes (its adjoint).
     */
    record Window(int channels, int inH, int inW, int kH, int kW, int strideH, int strideW, int padH, int padW,
            int dilH, int dilW, int outH, int outW) {

        int rows() {
            return channels * kH * kW;
        }

        int cols() {
            return outH * outW;
        }

        /** A 1×1 kernel over the whole plane: the column matrix is the input itself. */
        boolean isIdentity() {
            return kH == 1 && kW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0 && outH == inH
                    && outW == inW;
        }

        /** cols (rows × cols) = receptive fields of the planes at {@code image[imageOff...]}, zeros for padding. */
        void im2col(float[] image, int imageOff, float[] cols) {
            walk(image, imageOff, cols, true);
        }

        /**
         * image[imageOff...] += the column matrix folded back onto the planes (overlaps add up). The
         * entries of {@code cols} that fall in the padding may be overwritten (cols is scratch).
         */
        void col2im(float[] cols, float[] image, int imageOff) {
            walk(image, imageOff, cols, false);
        }

        /**
         * One row of the column matrix when stride is 1 and the output is as wide as the input ("same"
         * padding along W): the valid pixels of all output rows form one contiguous run of the plane
         * (shifted by {@code shiftW}), so it moves with one copy (or one vector add) instead of one
         * per output row. The copy also carries the neighbours that fall in the padding columns;
         * im2col then writes zeros there, and col2im first zeros those entries of {@code cols}, which
         * are gradients of padding (its {@code cols} is scratch).
         */
        private void sameWidthRow(float[] image, int planeOff, float[] cols, int dst, int shiftH, int shiftW,
                                  int owLo, int owHi, boolean toCols) {
            int ohLo = Math.min(outH, Math.max(0, -shiftH));
            int ohHi = Math.max(ohLo, Math.min(outH, inH - shiftH));
            if (toCols) {
                Arrays.fill(cols, dst, dst + ohLo * outW, 0f);
                Arrays.fill(cols, dst + ohHi * outW, dst + outH * outW, 0f);
            }
            if (ohHi == ohLo) {
                return;
            }
            if (owHi == owLo) {
                if (toCols) {
                    Arrays.fill(cols, dst + ohLo * outW, dst + ohHi * outW, 0f);
                }
                return;
            }
            if (!toCols) {
                zeroPaddingColumns(cols, dst, ohLo, ohHi, owLo, owHi);
            }
            int first = dst + ohLo * outW + owLo;
            int src = planeOff + (ohLo + shiftH) * inW + shiftW + owLo;
            int count = (ohHi - ohLo - 1) * outW + (owHi - owLo);
            if (toCols) {
                System.arraycopy(image, src, cols, first, count);
                zeroPaddingColumns(cols, dst, ohLo, ohHi, owLo, owHi);
            } else {
                Kernels.get().binary(dev.backprop.kernels.BinaryOp.ADD, image, src, 1, cols, first, 1, image, src,
                        count);
            }
        }

        private void zeroPaddingColumns(float[] cols, int dst, int ohLo, int ohHi, int owLo, int owHi) {
            if (owLo == 0 && owHi == outW) {
                return;
            }
            if (owLo + outW - owHi == 1) { // the usual 3×3 "same" case: one padding column, left or right
                int col = owLo == 1 ? 0 : outW - 1;
                for (int d = dst + ohLo * outW + col, end = dst + ohHi * outW; d < end; d += outW) {
                    cols[d] = 0f;
                }
                return;
            }
            for (int oh = ohLo; oh < ohHi; oh++) {
                int d = dst + oh * outW;
                for (int ow = 0; ow < owLo; ow++) {
                    cols[d + ow] = 0f;
                }
                for (int ow = owHi; ow < outW; ow++) {
                    cols[d + ow] = 0f;
                }
            }
        }

        private void walk(float[] image, int imageOff, float[] cols, boolean toCols) {
            int plane = inH * inW;
            int row = 0;
            for (int c = 0; c < channels; c++) {
                int planeOff = imageOff + c * plane;
                for (int kh = 0; kh < kH; kh++) {
                    for (int kw = 0; kw < kW; kw++, row++) {
                        int shiftW = kw * dilW - padW; // iw = ow * strideW + shiftW
                        int owLo = Math.min(outW, Math.max(0, Math.ceilDiv(-shiftW, strideW)));
                        int owHi = Math.max(owLo, Math.min(outW, Math.ceilDiv(inW - shiftW, strideW)));
                        int dst = row * outH * outW;
                        if (strideH == 1 && strideW == 1 && outW == inW) {
                            sameWidthRow(image, planeOff, cols, dst, kh * dilH - padH, shiftW, owLo, owHi, toCols);
                            continue;
                        }
                        for (int oh = 0; oh < outH; oh++, dst += outW) {
                            int ih = oh * strideH - padH + kh * dilH;
                            boolean inside = ih >= 0 && ih < inH;
                            if (toCols) {
                                if (!inside) {
                                    Arrays.fill(cols, dst, dst + outW, 0f);
                                    continue;
                                }
                                Arrays.fill(cols, dst, dst + owLo, 0f);
                                Arrays.fill(cols, dst + owHi, dst + outW, 0f);
                            } else if (!inside) {
                                continue;
                            }
                            int src = planeOff + ih * inW + shiftW;
                            if (toCols) {
                                if (strideW == 1) {
                                    System.arraycopy(image, src + owLo, cols, dst + owLo, owHi - owLo);
                                } else {
                                    for (int ow = owLo; ow < owHi; ow++) {
                                        cols[dst + ow] = image[src + ow * strideW];
                                    }
                                }
                            } else {
                                for (int ow = owLo; ow < owHi; ow++) {
                                    image[src + ow * strideW] += cols[dst + ow];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ bias

    /** out[n, c, :] += b[c] over (N, C, plane). */
    private static void addBias(float[] out, int n, int c, int plane, Tensor b) {
        if (b == null) {
            return;
        }
        float[] bias = b.toFloatArray();
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int off = (s * c + ch) * plane;
                float v = bias[ch];
                for (int i = 0; i < plane; i++) {
                    out[off + i] += v;
                }
            }
        }
    }

    /** db[c] = Σ dy[n, c, :] (accumulated in double). */
    private static float[] biasGrad(float[] dy, int off, int n, int c, int plane) {
        double[] sum = new double[c];
        Kernels kernels = Kernels.get();
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                sum[ch] += kernels.sum(dy, off + (s * c + ch) * plane, plane);
            }
        }
        float[] out = new float[c];
        for (int ch = 0; ch < c; ch++) {
            out[ch] = (float) sum[ch];
        }
        return out;
    }

    // ------------------------------------------------------------------ validation

    /** {h, w} from one value (both) or two. */
    static int[] pair(int[] v, String what, String op) {
        if (v == null || v.length < 1 || v.length > 2) {
            throw new IllegalArgumentException(op + ": " + what + " needs one value or two (h, w), got "
                    + (v == null ? "null" : Arrays.toString(v)));
        }
        return v.length == 1 ? new int[] {v[0], v[0]} : v.clone();
    }

    /** The checked arguments of one convolution call and its output's spatial size. */
    private record Spec(boolean unbatched, int[] out) {

        /**
         * Validates a convolution with {@code stride.length} spatial dims; every failure names the
         * op, what was expected and the shapes given.
         */
        static Spec check(String op, boolean transposed, Tensor x, Tensor w, Tensor b, int[] stride, int[] padding,
                int[] dilation, int[] outputPadding, int groups) {
            int d = stride.length;
            x.requireType(DType.FLOAT32, op);
            w.requireType(DType.FLOAT32, op);
            String spatial = d == 1 ? "L" : "H, W";
            if (x.dim() != d + 1 && x.dim() != d + 2) {
                throw new IllegalArgumentException(op + ": expected a " + (d + 1) + "-D (C, " + spatial + ") or "
                        + (d + 2) + "-D (N, C, " + spatial + ") input, got " + Shape.str(x.shape()));
            }
            String kernel = d == 1 ? "kW" : "kH, kW";
            if (w.dim() != d + 2) {
                throw new IllegalArgumentException(op + ": expected a " + (d + 2) + "-D weight "
                        + (transposed ? "(in_channels, out_channels/groups, " : "(out_channels, in_channels/groups, ")
                        + kernel + "), got " + Shape.str(w.shape()));
            }
            if (groups < 1) {
                throw new IllegalArgumentException(op + ": groups must be positive, got " + groups);
            }
            for (int i = 0; i < d; i++) {
                if (stride[i] < 1 || dilation[i] < 1 || padding[i] < 0 || outputPadding[i] < 0) {
                    throw new IllegalArgumentException(op + ": need stride >= 1, dilation >= 1, padding >= 0"
                            + (transposed ? ", output_padding >= 0" : "") + "; got stride " + Arrays.toString(stride)
                            + ", padding " + Arrays.toString(padding) + ", dilation " + Arrays.toString(dilation)
                            + (transposed ? ", output_padding " + Arrays.toString(outputPadding) : ""));
                }
                if (transposed && outputPadding[i] >= Math.max(stride[i], dilation[i])) {
                    throw new IllegalArgumentException(op + ": output_padding " + Arrays.toString(outputPadding)
                            + " must be smaller than either the stride " + Arrays.toString(stride)
                            + " or the dilation " + Arrays.toString(dilation));
                }
            }
            boolean unbatched = x.dim() == d + 1;
            int[] xs = x.shape();
            int[] ws = w.shape();
            int channels = xs[unbatched ? 0 : 1];
            int outChannels;
            if (!transposed) {
                outChannels = ws[0];
                if (outChannels % groups != 0) {
                    throw new IllegalArgumentException(op + ": out_channels " + outChannels + " (weight "
                            + Shape.str(ws) + ") is not divisible by groups " + groups);
                }
                if (channels != ws[1] * groups) {
                    throw new IllegalArgumentException(op + ": the input " + Shape.str(xs) + " has " + channels
                            + " channels, the weight " + Shape.str(ws) + " expects " + ws[1] * groups
                            + " (weight.shape[1] " + ws[1] + " x groups " + groups + ")");
                }
            } else {
                outChannels = ws[1] * groups;
                if (channels != ws[0]) {
                    throw new IllegalArgumentException(op + ": the input " + Shape.str(xs) + " has " + channels
                            + " channels, the weight " + Shape.str(ws) + " expects " + ws[0] + " (weight.shape[0])");
                }
                if (channels % groups != 0) {
                    throw new IllegalArgumentException(op + ": in_channels " + channels + " is not divisible by groups "
                            + groups);
                }
            }
            if (b != null) {
                b.requireType(DType.FLOAT32, op);
                if (b.dim() != 1 || b.size(0) != outChannels) {
                    throw new IllegalArgumentException(op + ": expected a bias of shape [" + outChannels
                            + "] (out_channels), got " + Shape.str(b.shape()));
                }
            }
            int[] out = new int[d];
            int first = unbatched ? 1 : 2;
            for (int i = 0; i < d; i++) {
                int in = xs[first + i];
                int k = ws[2 + i];
                int effective = dilation[i] * (k - 1) + 1;
                if (!transposed) {
                    int padded = in + 2 * padding[i];
                    if (effective > padded || k == 0) {
                        throw new IllegalArgumentException(op + ": the kernel " + Shape.str(Arrays.copyOfRange(ws, 2,
                                2 + d)) + " (dilation " + Arrays.toString(dilation) + ") is larger than the padded "
                                + "input: spatial dim " + i + " has size " + in + " + 2 x padding " + padding[i] + " = "
                                + padded + " < effective kernel size " + effective + " (input " + Shape.str(xs) + ")");
                    }
                    out[i] = (padded - effective) / stride[i] + 1;
                } else {
                    out[i] = (in - 1) * stride[i] - 2 * padding[i] + effective + outputPadding[i];
                    if (out[i] <= 0) {
                        throw new IllegalArgumentException(op + ": the output would have size " + out[i]
                                + " in spatial dim " + i + " (input " + Shape.str(xs) + ", weight " + Shape.str(ws)
                                + ", stride " + Arrays.toString(stride) + ", padding " + Arrays.toString(padding)
                                + "); use less padding");
                    }
                }
            }
            return new Spec(unbatched, out);
        }
    }
}
