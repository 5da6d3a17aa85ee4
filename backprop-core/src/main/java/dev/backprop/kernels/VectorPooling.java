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

    static void maxPool2x2(float[] in, int base, int planeOff, int inW, int outH, int outW, float[] out, int[] arg,
                           int outOff) {
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
}
