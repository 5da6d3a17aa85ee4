package dev.backprop.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise kernels on the Vector API: the same formulas as {@link ScalarElementwise}, in float
 * lanes (exp and tanh from {@link VectorMath}, many times faster than {@code Math.exp} per element
 * and the same bits in every JIT tier), with the tail that does not fill a vector done by the scalar kernel. Results
 * differ from the scalar ones by float rounding only (a few units in the last place); the Adam
 * update uses the same float operations in the same order and matches the scalar one exactly.
 */
final class VectorElementwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final float C = (float) ScalarElementwise.SQRT_2_OVER_PI;
    private static final float C3 = (float) (ScalarElementwise.SQRT_2_OVER_PI * ScalarElementwise.GELU_C);
    private static final float DC = (float) (ScalarElementwise.SQRT_2_OVER_PI * 3 * ScalarElementwise.GELU_C);

    private VectorElementwise() {}

    /**
     * Σ x in float lanes, a block of at most 1024 elements at a time (so no lane sums more than 64
     * values in float), each block's lanes added in lane order into a double.
     */
    static double sum(float[] x, int off, int n) {
        double total = 0;
        int i = 0;
        int bound = S.loopBound(n);
        while (i < bound) {
            int end = Math.min(bound, i + 1024);
            FloatVector acc = FloatVector.zero(S);
            for (; i < end; i += L) {
                acc = acc.add(FloatVector.fromArray(S, x, off + i));
            }
            for (int lane = 0; lane < L; lane++) {
                total += acc.lane(lane);
            }
        }
        for (; i < n; i++) {
            total += x[off + i];
        }
        return total;
    }

    static double sumOfSquares(float[] x, int off, int n) {
        double total = 0;
        int i = 0;
        int bound = S.loopBound(n);
        while (i < bound) {
            int end = Math.min(bound, i + 1024);
            FloatVector acc = FloatVector.zero(S);
            for (; i < end; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, off + i);
                acc = v.fma(v, acc);
            }
            for (int lane = 0; lane < L; lane++) {
                total += acc.lane(lane);
            }
        }
        for (; i < n; i++) {
            total += x[off + i] * x[off + i];
        }
        return total;
    }

    /** {@link #sumOfSquares} of src, block for block the same sums, while copying src to dst. */
    static double copySumOfSquares(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        double total = 0;
        int i = 0;
        int bound = S.loopBound(n);
        while (i < bound) {
            int end = Math.min(bound, i + 1024);
            FloatVector acc = FloatVector.zero(S);
            for (; i < end; i += L) {
                FloatVector v = FloatVector.fromArray(S, src, srcOff + i);
                v.intoArray(dst, dstOff + i);
                acc = v.fma(v, acc);
            }
            for (int lane = 0; lane < L; lane++) {
                total += acc.lane(lane);
            }
        }
        for (; i < n; i++) {
            float v = src[srcOff + i];
            dst[dstOff + i] = v;
            total += v * v;
        }
        return total;
    }

    static double sumOfSquaredDifferences(float[] a, int aOff, float[] b, int bOff, int n) {
        double total = 0;
        int i = 0;
        int bound = S.loopBound(n);
        while (i < bound) {
            int end = Math.min(bound, i + 1024);
            FloatVector acc = FloatVector.zero(S);
            for (; i < end; i += L) {
                FloatVector d = FloatVector.fromArray(S, a, aOff + i).sub(FloatVector.fromArray(S, b, bOff + i));
                acc = d.fma(d, acc);
            }
            for (int lane = 0; lane < L; lane++) {
                total += acc.lane(lane);
            }
        }
        for (; i < n; i++) {
            float d = a[aOff + i] - b[bOff + i];
            total += d * d;
        }
        return total;
    }

    /** Strides 0 or 1 only. */
    static void binary(BinaryOp op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] out, int oo,
                       int n) {
        int bound = S.loopBound(n);
        int i = 0;
        if (as == 1 && bs == 1) {
            for (; i < bound; i += L) {
                apply(op, FloatVector.fromArray(S, a, ao + i), FloatVector.fromArray(S, b, bo + i))
                        .intoArray(out, oo + i);
            }
        } else if (as == 1) {
            FloatVector bv = FloatVector.broadcast(S, b[bo]);
            for (; i < bound; i += L) {
                apply(op, FloatVector.fromArray(S, a, ao + i), bv).intoArray(out, oo + i);
            }
        } else if (bs == 1) {
            FloatVector av = FloatVector.broadcast(S, a[ao]);
            for (; i < bound; i += L) {
                apply(op, av, FloatVector.fromArray(S, b, bo + i)).intoArray(out, oo + i);
            }
        }
        ScalarElementwise.binary(op, a, ao + i * as, as, b, bo + i * bs, bs, out, oo + i, n - i);
    }

    private static FloatVector apply(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
        };
    }

    static void unary(UnaryOp op, float p, float q, float[] x, int xo, float[] y, int yo, int n) {
        int bound = S.loopBound(n);
        int i = 0;
        switch (op) {
            case RELU -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, x, xo + i).lanewise(VectorOperators.MAX, 0f).intoArray(y, yo + i);
                }
            }
            case LEAKY_RELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + i);
                    v.mul(p).blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(y, yo + i);
                }
            }
            case EXP -> {
                for (; i < bound; i += L) {
                    VectorMath.exp(FloatVector.fromArray(S, x, xo + i)).intoArray(y, yo + i);
                }
            }
            case LOG -> {
                // no vector form: the Vector API's LOG gives other bits compiled than interpreted (see VectorMath)
            }
            case TANH -> {
                for (; i < bound; i += L) {
                    VectorMath.tanh(FloatVector.fromArray(S, x, xo + i)).intoArray(y, yo + i);
                }
            }
            case SIGMOID -> {
                for (; i < bound; i += L) {
                    sigmoid(FloatVector.fromArray(S, x, xo + i)).intoArray(y, yo + i);
                }
            }
            case GELU_TANH -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + i);
                    FloatVector t = geluTanh(v);
                    v.mul(0.5f).mul(t.add(1f)).intoArray(y, yo + i);
                }
            }
            case SILU -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + i);
                    v.mul(sigmoid(v)).intoArray(y, yo + i);
                }
            }
            case NEG -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, x, xo + i).neg().intoArray(y, yo + i);
                }
            }
            case AFFINE -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, x, xo + i).mul(p).add(q).intoArray(y, yo + i);
                }
            }
            case SQRT -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, x, xo + i).sqrt().intoArray(y, yo + i);
                }
            }
            case ABS -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, x, xo + i).abs().intoArray(y, yo + i);
                }
            }
        }
        ScalarElementwise.unary(op, p, q, x, xo + i, y, yo + i, n - i);
    }

    static void unaryBackward(UnaryOp op, float p, float q, float[] x, int xo, float[] y, int yo,
                              float[] dy, int go, float[] dx, int dxo, int n) {
        int bound = S.loopBound(n);
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        switch (op) {
            case RELU -> {
                for (; i < bound; i += L) {
                    VectorMask<Float> pos = FloatVector.fromArray(S, x, xo + i).compare(VectorOperators.GT, 0f);
                    FloatVector.fromArray(S, dy, go + i).mul(zero.blend(one, pos)).intoArray(dx, dxo + i);
                }
            }
            case LEAKY_RELU -> {
                FloatVector slope = FloatVector.broadcast(S, p);
                for (; i < bound; i += L) {
                    VectorMask<Float> pos = FloatVector.fromArray(S, x, xo + i).compare(VectorOperators.GT, 0f);
                    FloatVector.fromArray(S, dy, go + i).mul(slope.blend(one, pos)).intoArray(dx, dxo + i);
                }
            }
            case EXP -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, dy, go + i).mul(FloatVector.fromArray(S, y, yo + i))
                            .intoArray(dx, dxo + i);
                }
            }
            case LOG -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, dy, go + i).div(FloatVector.fromArray(S, x, xo + i))
                            .intoArray(dx, dxo + i);
                }
            }
            case TANH -> {
                for (; i < bound; i += L) {
                    FloatVector t = FloatVector.fromArray(S, y, yo + i);
                    FloatVector.fromArray(S, dy, go + i).mul(one.sub(t.mul(t))).intoArray(dx, dxo + i);
                }
            }
            case SIGMOID -> {
                for (; i < bound; i += L) {
                    FloatVector s = FloatVector.fromArray(S, y, yo + i);
                    FloatVector.fromArray(S, dy, go + i).mul(s.mul(one.sub(s))).intoArray(dx, dxo + i);
                }
            }
            case GELU_TANH -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + i);
                    FloatVector t = geluTanh(v);
                    FloatVector du = v.mul(v).mul(DC).add(C);
                    FloatVector d = t.add(1f).mul(0.5f).add(v.mul(0.5f).mul(one.sub(t.mul(t))).mul(du));
                    FloatVector.fromArray(S, dy, go + i).mul(d).intoArray(dx, dxo + i);
                }
            }
            case SILU -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + i);
                    FloatVector s = sigmoid(v);
                    FloatVector d = s.mul(v.mul(one.sub(s)).add(1f));
                    FloatVector.fromArray(S, dy, go + i).mul(d).intoArray(dx, dxo + i);
                }
            }
            case NEG -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, dy, go + i).neg().intoArray(dx, dxo + i);
                }
            }
            case AFFINE -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, dy, go + i).mul(p).intoArray(dx, dxo + i);
                }
            }
            case SQRT -> {
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, dy, go + i).mul(0.5f).div(FloatVector.fromArray(S, y, yo + i))
                            .intoArray(dx, dxo + i);
                }
            }
            case ABS -> {
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xo + i);
                    FloatVector sign = zero.blend(one, v.compare(VectorOperators.GT, 0f))
                            .blend(one.neg(), v.compare(VectorOperators.LT, 0f));
                    FloatVector.fromArray(S, dy, go + i).mul(sign).intoArray(dx, dxo + i);
                }
            }
        }
        ScalarElementwise.unaryBackward(op, p, q, x, xo + i, y, yo + i, dy, go + i, dx, dxo + i, n - i);
    }

    static void adam(AdamStep s, float[] p, int po, float[] g, int go, float[] m, float[] v, int mo, int n) {
        int bound = S.loopBound(n);
        float oneMinusBeta1 = 1 - s.beta1();
        float oneMinusBeta2 = 1 - s.beta2();
        boolean l2 = s.weightDecay() != 0 && !s.decoupled();
        boolean decoupled = s.weightDecay() != 0 && s.decoupled();
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector gi = FloatVector.fromArray(S, g, go + i);
            FloatVector pi = FloatVector.fromArray(S, p, po + i);
            if (decoupled) {
                pi = pi.mul(s.decay());
            } else if (l2) {
                gi = gi.add(pi.mul(s.weightDecay()));
            }
            FloatVector mi = FloatVector.fromArray(S, m, mo + i);
            mi = mi.add(gi.sub(mi).mul(oneMinusBeta1));
            FloatVector vi = FloatVector.fromArray(S, v, mo + i).mul(s.beta2()).add(gi.mul(oneMinusBeta2).mul(gi));
            mi.intoArray(m, mo + i);
            vi.intoArray(v, mo + i);
            FloatVector denom = vi.sqrt().div(s.bias2Sqrt()).add(s.eps());
            pi.sub(mi.mul(s.stepSize()).div(denom)).intoArray(p, po + i);
        }
        ScalarElementwise.adam(s, p, po + i, g, go + i, m, v, mo + i, n - i);
    }

    /** {@link Kernels#lstmCell} on rows [r0, r1); the columns past the last whole vector go to the scalar kernel. */
    static void lstmCell(int hidden, float[] gt, int go, float[] cp, int cpo, float[] c, int co, float[] h, int ho,
                         int r0, int r1) {
        int bound = S.loopBound(hidden);
        for (int r = r0; r < r1; r++) {
            int g = go + r * 4 * hidden;
            int s = r * hidden;
            for (int j = 0; j < bound; j += L) {
                FloatVector i = sigmoid(FloatVector.fromArray(S, gt, g + j));
                FloatVector f = sigmoid(FloatVector.fromArray(S, gt, g + hidden + j));
                FloatVector gg = VectorMath.tanh(FloatVector.fromArray(S, gt, g + 2 * hidden + j));
                FloatVector o = sigmoid(FloatVector.fromArray(S, gt, g + 3 * hidden + j));
                i.intoArray(gt, g + j);
                f.intoArray(gt, g + hidden + j);
                gg.intoArray(gt, g + 2 * hidden + j);
                o.intoArray(gt, g + 3 * hidden + j);
                FloatVector cv = f.mul(FloatVector.fromArray(S, cp, cpo + s + j)).add(i.mul(gg));
                cv.intoArray(c, co + s + j);
                o.mul(VectorMath.tanh(cv)).intoArray(h, ho + s + j);
            }
        }
        if (bound < hidden) {
            ScalarElementwise.lstmCell(hidden, gt, go, cp, cpo, c, co, h, ho, r0, r1, bound, hidden);
        }
    }

    /** {@link Kernels#lstmCellBackward} on rows [r0, r1). */
    static void lstmCellBackward(int hidden, float[] gt, int go, float[] cp, int cpo, float[] c, int co,
                                 float[] dh, int dho, float[] dc, int dco, float[] dgt, int dgo, int r0, int r1) {
        int bound = S.loopBound(hidden);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int r = r0; r < r1; r++) {
            int g = go + r * 4 * hidden;
            int dg = dgo + r * 4 * hidden;
            int s = r * hidden;
            for (int j = 0; j < bound; j += L) {
                FloatVector i = FloatVector.fromArray(S, gt, g + j);
                FloatVector f = FloatVector.fromArray(S, gt, g + hidden + j);
                FloatVector gg = FloatVector.fromArray(S, gt, g + 2 * hidden + j);
                FloatVector o = FloatVector.fromArray(S, gt, g + 3 * hidden + j);
                FloatVector tc = VectorMath.tanh(FloatVector.fromArray(S, c, co + s + j));
                FloatVector dhv = FloatVector.fromArray(S, dh, dho + s + j);
                // 1 - x² as one fused step: near saturation x² rounds to within an ulp of 1
                FloatVector dct = FloatVector.fromArray(S, dc, dco + s + j)
                        .add(dhv.mul(o).mul(tc.neg().fma(tc, one)));
                dct.mul(gg).mul(i.mul(one.sub(i))).intoArray(dgt, dg + j);
                dct.mul(FloatVector.fromArray(S, cp, cpo + s + j)).mul(f.mul(one.sub(f)))
                        .intoArray(dgt, dg + hidden + j);
                dct.mul(i).mul(gg.neg().fma(gg, one)).intoArray(dgt, dg + 2 * hidden + j);
                dhv.mul(tc).mul(o.mul(one.sub(o))).intoArray(dgt, dg + 3 * hidden + j);
                dct.mul(f).intoArray(dc, dco + s + j);
            }
        }
        if (bound < hidden) {
            ScalarElementwise.lstmCellBackward(hidden, gt, go, cp, cpo, c, co, dh, dho, dc, dco, dgt, dgo, r0, r1,
                    bound, hidden);
        }
    }

    /** {@link Kernels#gruCell} on rows [r0, r1). */
    static void gruCell(int hidden, float[] gt, int go, float[] hp, int hpo, float[] hv, int hvo, float[] h, int ho,
                        int r0, int r1) {
        int bound = S.loopBound(hidden);
        for (int r = r0; r < r1; r++) {
            int g = go + r * 3 * hidden;
            int p = hpo + r * 3 * hidden;
            int s = r * hidden;
            for (int j = 0; j < bound; j += L) {
                FloatVector rg = sigmoid(FloatVector.fromArray(S, gt, g + j).add(FloatVector.fromArray(S, hp, p + j)));
                FloatVector z = sigmoid(FloatVector.fromArray(S, gt, g + hidden + j)
                        .add(FloatVector.fromArray(S, hp, p + hidden + j)));
                FloatVector n = VectorMath.tanh(rg.fma(FloatVector.fromArray(S, hp, p + 2 * hidden + j),
                        FloatVector.fromArray(S, gt, g + 2 * hidden + j)));
                rg.intoArray(gt, g + j);
                z.intoArray(gt, g + hidden + j);
                n.intoArray(gt, g + 2 * hidden + j);
                z.fma(FloatVector.fromArray(S, hv, hvo + s + j).sub(n), n).intoArray(h, ho + s + j);
            }
        }
        if (bound < hidden) {
            ScalarElementwise.gruCell(hidden, gt, go, hp, hpo, hv, hvo, h, ho, r0, r1, bound, hidden);
        }
    }

    /** {@link Kernels#gruCellBackward} on rows [r0, r1). */
    static void gruCellBackward(int hidden, float[] gt, int go, float[] hp, int hpo, float[] hv, int hvo,
                                float[] dh, int dho, float[] dx, int dxo, float[] dhp, int dhpo, int r0, int r1) {
        int bound = S.loopBound(hidden);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int r = r0; r < r1; r++) {
            int g = go + r * 3 * hidden;
            int p = hpo + r * 3 * hidden;
            int dxr = dxo + r * 3 * hidden;
            int dpr = dhpo + r * 3 * hidden;
            int s = r * hidden;
            for (int j = 0; j < bound; j += L) {
                FloatVector rg = FloatVector.fromArray(S, gt, g + j);
                FloatVector z = FloatVector.fromArray(S, gt, g + hidden + j);
                FloatVector n = FloatVector.fromArray(S, gt, g + 2 * hidden + j);
                FloatVector dhv = FloatVector.fromArray(S, dh, dho + s + j);
                FloatVector dnPre = dhv.mul(one.sub(z)).mul(n.neg().fma(n, one));
                FloatVector drPre = dnPre.mul(FloatVector.fromArray(S, hp, p + 2 * hidden + j))
                        .mul(rg.mul(one.sub(rg)));
                FloatVector dzPre = dhv.mul(FloatVector.fromArray(S, hv, hvo + s + j).sub(n)).mul(z.mul(one.sub(z)));
                drPre.intoArray(dx, dxr + j);
                dzPre.intoArray(dx, dxr + hidden + j);
                dnPre.intoArray(dx, dxr + 2 * hidden + j);
                drPre.intoArray(dhp, dpr + j);
                dzPre.intoArray(dhp, dpr + hidden + j);
                dnPre.mul(rg).intoArray(dhp, dpr + 2 * hidden + j);
                dhv.mul(z).intoArray(dh, dho + s + j);
            }
        }
        if (bound < hidden) {
            ScalarElementwise.gruCellBackward(hidden, gt, go, hp, hpo, hv, hvo, dh, dho, dx, dxo, dhp, dhpo, r0, r1,
                    bound, hidden);
        }
    }

    private static FloatVector sigmoid(FloatVector v) {
        // 1 / (1 + exp(-x)): exp overflows to +inf for x < -88 and the quotient is then 0, as it should be
        return FloatVector.broadcast(S, 1f).div(VectorMath.exp(v.neg()).add(1f));
    }

    /** tanh(√(2/π)(x + 0.044715 x³)). */
    private static FloatVector geluTanh(FloatVector v) {
        return VectorMath.tanh(v.mul(C).add(v.mul(v).mul(v).mul(C3)));
    }
}
