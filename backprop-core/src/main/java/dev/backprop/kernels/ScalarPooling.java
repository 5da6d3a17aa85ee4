package dev.backprop.kernels;

/** The reference 2×2 max pooling kernel (see {@link Kernels#maxPool2x2}). */
final class ScalarPooling {
    private ScalarPooling() {}

    static void maxPool2x2(float[] in, int base, int planeOff, int inW, int outH, int outW, float[] out, int[] arg,
                           int outOff) {
        for (int oh = 0; oh < outH; oh++) {
            row(in, base, planeOff + 2 * oh * inW, inW, 0, outW, out, arg, outOff + oh * outW);
        }
    }

    /** Outputs [ow0, ow1) of one output row whose window rows start at {@code row} (relative to base). */
    static void row(float[] in, int base, int row, int inW, int ow0, int ow1, float[] out, int[] arg, int o) {
        for (int ow = ow0; ow < ow1; ow++) {
            int i0 = row + 2 * ow;
            int i2 = i0 + inW;
            float v0 = in[base + i0];
            float v1 = in[base + i0 + 1];
            float v2 = in[base + i2];
            float v3 = in[base + i2 + 1];
            int best;
            if (v0 != v0 || v1 != v1 || v2 != v2 || v3 != v3) { // rare: the last NaN wins
                best = v3 != v3 ? i2 + 1 : v2 != v2 ? i2 : v1 != v1 ? i0 + 1 : i0;
            } else { // branch-free: on random data "v > max" is mispredicted half the time
                int k0 = orderKey(v0);
                int take = (int) (((long) k0 - orderKey(v1)) >> 63); // -1 when v1 > v0
                int top = k0 ^ ((k0 ^ orderKey(v1)) & take);
                best = i0 ^ ((i0 ^ (i0 + 1)) & take);
                int k2 = orderKey(v2);
                take = (int) (((long) top - k2) >> 63);
                top ^= (top ^ k2) & take;
                best ^= (best ^ i2) & take;
                take = (int) (((long) top - orderKey(v3)) >> 63);
                best ^= (best ^ (i2 + 1)) & take;
            }
            out[o + ow] = in[base + best];
            arg[o + ow] = best;
        }
    }

    /**
     * An int whose order is the float order of {@code v} for non-NaN values, with -0 equal to +0
     * (adding 0 turns -0 into +0): the IEEE bits with the magnitude bits of negatives flipped.
     */
    static int orderKey(float v) {
        int bits = Float.floatToRawIntBits(v + 0f);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }
}
