package dev.backprop.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row softmax on the Vector API: the same formulas as {@link ScalarSoftmax} in float lanes, exp
 * through the Vector API's EXP. Sums are reduced by a fixed butterfly of lane swaps (not
 * reduceLanes, whose order may differ between the interpreter and compiled code), so a result
 * never depends on how the JIT got to it; the last, partial vector of a row is done under a lane
 * mask (short rows, such as the first rows of causal attention, stay vectorized). Results differ
 * from the scalar kernel's by float rounding.
 */
final class VectorSoftmax {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Butterfly levels: lane i paired with lane i ^ h (only the levels that exist at this width). */
    private static final VectorShuffle<Float> SWAP8 = L >= 16 ? VectorShuffle.fromOp(S, i -> i ^ 8) : null;
    private static final VectorShuffle<Float> SWAP4 = L >= 8 ? VectorShuffle.fromOp(S, i -> i ^ 4) : null;
    private static final VectorShuffle<Float> SWAP2 = L >= 4 ? VectorShuffle.fromOp(S, i -> i ^ 2) : null;
    private static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(S, i -> i ^ 1);

    private VectorSoftmax() {}

    /** Σ of the lanes in a fixed order: after the butterfly every lane holds the same sum. */
    static float sum(FloatVector v) {
        if (L > 16) {
            return sumWide(v);
        }
        if (L >= 16) {
            v = v.add(v.rearrange(SWAP8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(SWAP4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(SWAP2));
        }
        return v.add(v.rearrange(SWAP1)).lane(0);
    }

    /** Lanes in index order, for vectors wider than 16 lanes (none on current hardware). */
    private static float sumWide(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    static void softmax(float scale, float[] x, int xo, float[] y, int yo, int n) {
        if (n <= 0) {
            return;
        }
        int bound = S.loopBound(n);
        // scale · max(x) (or · min(x) for a negative scale) is the largest of the rounded
        // products, rounding being monotonic
        float max = (scale < 0 ? min(x, xo, n, bound) : max(x, xo, n, bound)) * scale;
        if (max == Float.NEGATIVE_INFINITY) {
            max = 0; // every value -inf: exp gives 0s and the row is NaN (0 / 0), as in PyTorch
        }
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector p = VectorMath.exp(FloatVector.fromArray(S, x, xo + i).mul(scale).sub(max));
            p.intoArray(y, yo + i);
            acc = acc.add(p);
        }
        VectorMask<Float> tail = null;
        if (i < n) { // the last, partial vector under a mask (lanes past n read and add 0)
            tail = S.indexInRange(i, n);
            FloatVector p = VectorMath.exp(FloatVector.fromArray(S, x, xo + i, tail).mul(scale).sub(max))
                    .blend(0f, tail.not());
            p.intoArray(y, yo + i, tail);
            acc = acc.add(p);
        }
        float inv = 1f / sum(acc);
        for (i = 0; i < bound; i += L) {
            FloatVector.fromArray(S, y, yo + i).mul(inv).intoArray(y, yo + i);
        }
        if (tail != null) {
            FloatVector.fromArray(S, y, yo + i, tail).mul(inv).intoArray(y, yo + i, tail);
        }
    }

    /** The largest of n values (exact: the order of a maximum does not matter). */
    private static float max(float[] x, int xo, int n, int bound) {
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += L) {
            m = m.max(FloatVector.fromArray(S, x, xo + i));
        }
        if (i < n) { // lanes past n read as -inf
            VectorMask<Float> tail = S.indexInRange(i, n);
            m = m.max(FloatVector.fromArray(S, x, xo + i, tail).blend(Float.NEGATIVE_INFINITY, tail.not()));
        }
        return m.reduceLanes(VectorOperators.MAX);
    }

    private static float min(float[] x, int xo, int n, int bound) {
        FloatVector m = FloatVector.broadcast(S, Float.POSITIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += L) {
            m = m.min(FloatVector.fromArray(S, x, xo + i));
        }
        if (i < n) {
            VectorMask<Float> tail = S.indexInRange(i, n);
            m = m.min(FloatVector.fromArray(S, x, xo + i, tail).blend(Float.POSITIVE_INFINITY, tail.not()));
        }
        return m.reduceLanes(VectorOperators.MIN);
    }

    static void softmaxBackward(float scale, float[] y, int yo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        if (n <= 0) {
            return;
        }
        int bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            acc = FloatVector.fromArray(S, dy, dyo + i).fma(FloatVector.fromArray(S, y, yo + i), acc);
        }
        VectorMask<Float> tail = null;
        if (i < n) { // masked loads read 0 past n
            tail = S.indexInRange(i, n);
            acc = FloatVector.fromArray(S, dy, dyo + i, tail).fma(FloatVector.fromArray(S, y, yo + i, tail), acc);
        }
        float dot = sum(acc);
        for (i = 0; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(S, dy, dyo + i).sub(dot);
            FloatVector.fromArray(S, y, yo + i).mul(scale).mul(g).intoArray(dx, dxo + i);
        }
        if (tail != null) {
            FloatVector g = FloatVector.fromArray(S, dy, dyo + i, tail).sub(dot);
            FloatVector.fromArray(S, y, yo + i, tail).mul(scale).mul(g).intoArray(dx, dxo + i, tail);
        }
    }
}
