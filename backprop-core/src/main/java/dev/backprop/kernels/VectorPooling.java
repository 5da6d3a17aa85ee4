package dev.backprop.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 2×2 max pooling on the Vector API: per output row, 2·L inputs of each window row are loaded and
 * split into even and odd columns (two-vector unzip), then the four taps are compared in order
 * with PyTorch's rule (take v when v > max or v is NaN), tracking the index of the winner. The
 * same values and indices as {@link ScalarPooling}, bit for bit.
 */
final class VectorPooling {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final int L = S.length();
    private static final VectorShuffle<Float> EVEN = VectorShuffle.makeUnzip(S, 0);
    private static final VectorShuffle<Float> ODD = VectorShuffle.makeUnzip(S, 1);
    private static final IntVector TWICE_LANE = IntVector.zero(I).addIndex(2);

    private VectorPooling() {}

    /** The index map of the last narrow plane shape, per thread: {inW, outH, outW} then the map. */
    private static final ThreadLocal<int[][]> MAPS = ThreadLocal.withInitial(() -> new int[][] {{-1, -1, -1}, {}});

    static void maxPool2x2(float[] in, int base, int planeOff, int inW, int outH, int outW, float[] out, int[] arg,
                           int outOff) {
        if (outW < L) {
            narrow(in, base, planeOff, inW, outH, outW, out, arg, outOff);
            return;
        }
        int bound = outW - outW % L;
        for (int oh = 0; oh < outH; oh++) {
            int row = planeOff + 2 * oh * inW;
            int o = outOff + oh * outW;
            for (int ow = 0; ow < bound; ow += L) {
                int i0 = row + 2 * ow;
                int i2 = i0 + inW;
                FloatVector a0 = FloatVector.fromArray(S, in, base + i0);
                FloatVector a1 = FloatVector.fromArray(S, in, base + i0 + L);
                FloatVector b0 = FloatVector.fromArray(S, in, base + i2);
                FloatVector b1 = FloatVector.fromArray(S, in, base + i2 + L);
                IntVector idx = TWICE_LANE.add(i0);
                FloatVector m = a0.rearrange(EVEN, a1);
                IntVector best = idx;
                FloatVector v = a0.rearrange(ODD, a1);
                VectorMask<Float> take = v.compare(VectorOperators.GT, m).or(v.test(VectorOperators.IS_NAN));
                m = m.blend(v, take);
                best = best.blend(idx.add(1), take.cast(I));
                v = b0.rearrange(EVEN, b1);
                take = v.compare(VectorOperators.GT, m).or(v.test(VectorOperators.IS_NAN));
                m = m.blend(v, take);
                best = best.blend(idx.add(inW), take.cast(I));
                v = b0.rearrange(ODD, b1);
                take = v.compare(VectorOperators.GT, m).or(v.test(VectorOperators.IS_NAN));
                m = m.blend(v, take);
                best = best.blend(idx.add(inW + 1), take.cast(I));
                m.intoArray(out, o + ow);
                best.intoArray(arg, o + ow);
            }
            ScalarPooling.row(in, base, row, inW, bound, outW, out, arg, o);
        }
    }

    /**
     * Planes narrower than a vector (W2's 14 and 7 outputs per row): L outputs at a time across
     * rows, their window corners gathered through an index map (corner of output q: 2·oh·inW + 2·ow).
     */
    private static void narrow(float[] in, int base, int planeOff, int inW, int outH, int outW, float[] out,
                               int[] arg, int outOff) {
        int n = outH * outW;
        int[] map = cornerMap(inW, outH, outW);
        int bound = n - n % L;
        int at = base + planeOff;
        for (int q = 0; q < bound; q += L) {
            IntVector idx = IntVector.fromArray(I, map, q).add(planeOff);
            FloatVector m = FloatVector.fromArray(S, in, at, map, q);
            IntVector best = idx;
            FloatVector v = FloatVector.fromArray(S, in, at + 1, map, q);
            VectorMask<Float> take = v.compare(VectorOperators.GT, m).or(v.test(VectorOperators.IS_NAN));
            m = m.blend(v, take);
            best = best.blend(idx.add(1), take.cast(I));
            v = FloatVector.fromArray(S, in, at + inW, map, q);
            take = v.compare(VectorOperators.GT, m).or(v.test(VectorOperators.IS_NAN));
            m = m.blend(v, take);
            best = best.blend(idx.add(inW), take.cast(I));
            v = FloatVector.fromArray(S, in, at + inW + 1, map, q);
            take = v.compare(VectorOperators.GT, m).or(v.test(VectorOperators.IS_NAN));
            m = m.blend(v, take);
            best = best.blend(idx.add(inW + 1), take.cast(I));
            m.intoArray(out, outOff + q);
            best.intoArray(arg, outOff + q);
        }
        for (int q = bound; q < n; q++) {
            int oh = q / outW;
            int ow = q % outW;
            ScalarPooling.row(in, base, planeOff + 2 * oh * inW, inW, ow, ow + 1, out, arg, outOff + oh * outW);
        }
    }

    private static int[] cornerMap(int inW, int outH, int outW) {
        int[][] cached = MAPS.get();
        int[] key = cached[0];
        if (key[0] != inW || key[1] != outH || key[2] != outW) {
            int[] map = new int[outH * outW];
            for (int oh = 0; oh < outH; oh++) {
                for (int ow = 0; ow < outW; ow++) {
                    map[oh * outW + ow] = 2 * oh * inW + 2 * ow;
                }
            }
            cached[0] = new int[] {inW, outH, outW};
            cached[1] = map;
        }
        return cached[1];
    }
}
