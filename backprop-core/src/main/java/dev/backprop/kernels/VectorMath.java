package dev.backprop.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh on float vectors from plain IEEE arithmetic (add, multiply, fused multiply-add,
 * bit moves): the same bits whether the JIT has compiled the caller or not. The Vector API's own
 * {@code EXP} and {@code TANH} call a vector math library once compiled but fall back to
 * {@code Math} per lane before that, and the two differ in the last bit, which would make results
 * depend on when the compiler got to the code (and so on timing and thread count).
 *
 * <p>exp: Cody–Waite reduction x = k·ln2 + r with |r| ≤ ln2/2 and the degree-6 polynomial of
 * Cephes' expf (about 1 ulp), scaled by 2^k in two halves; results below the smallest normal float (x < −87.3) are 0, above
 * the largest (x > 88.72) infinite. tanh: Cephes' odd polynomial for |x| < 0.625, else
 * 1 − 2/(e^{2|x|} + 1) with the sign of x (within 2 ulps).
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float MAX_X = 88.7228317f;
    private static final float MIN_X = -87.3365448f;
    /** 1.5 · 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND = 12582912f;

    private VectorMath() {}

    static FloatVector exp(FloatVector x) {
        VectorMask<Float> over = x.compare(VectorOperators.GT, MAX_X);
        VectorMask<Float> under = x.compare(VectorOperators.LT, MIN_X);
        FloatVector xc = x.max(MIN_X).min(MAX_X); // NaN stays NaN (MIN and MAX propagate it)
        FloatVector k = xc.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = k.fma(FloatVector.broadcast(S, -LN2_LO), k.fma(FloatVector.broadcast(S, -LN2_HI), xc)); // r = x - k ln2, ln2 in two parts
        FloatVector p = FloatVector.broadcast(S, 1.9875691500e-4f)
                .fma(r, FloatVector.broadcast(S, 1.3981999507e-3f))
                .fma(r, FloatVector.broadcast(S, 8.3334519073e-3f))
                .fma(r, FloatVector.broadcast(S, 4.1665795894e-2f))
                .fma(r, FloatVector.broadcast(S, 1.6666665459e-1f))
                .fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
        p = p.fma(r.mul(r), r).add(1f);
        // 2^k from exponent bits, in two halves so that each stays a normal float (k runs from -126 to 128)
        IntVector ki = (IntVector) k.convert(VectorOperators.F2I, 0);
        IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
        IntVector k2 = ki.sub(k1);
        FloatVector y = p.mul(k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        y = y.blend(Float.POSITIVE_INFINITY, over);
        return y.blend(0f, under);
    }

    static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        // large |x|: 1 - 2/(e^{2|x|} + 1), saturating to exactly 1 from |x| ≈ 9 (e^{2|x|} capped below overflow)
        FloatVector e = exp(ax.min(44f).mul(2f));
        FloatVector big = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(e.add(1f)));
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        // small |x|: x + x·z·P(z), z = x²
        FloatVector z = x.mul(x);
        FloatVector p = FloatVector.broadcast(S, -5.70498872745e-3f)
                .fma(z, FloatVector.broadcast(S, 2.06390887954e-2f))
                .fma(z, FloatVector.broadcast(S, -5.37397155531e-2f))
                .fma(z, FloatVector.broadcast(S, 1.33314422036e-1f))
                .fma(z, FloatVector.broadcast(S, -3.33332819422e-1f));
        FloatVector small = p.mul(z).fma(x, x);
        return small.blend(big, ax.compare(VectorOperators.GE, 0.625f).or(x.test(VectorOperators.IS_NAN)));
    }
}
