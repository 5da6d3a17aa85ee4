package dev.backprop.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The vector 2×2 max pooling kernel against the scalar one: the same values and indices, bit for
 * bit, on awkward widths (1, 4, 13, 207 and more outputs per row, odd input widths), with ties,
 * signed zeros, infinities and NaNs in the windows.
 */
class PoolingParityTest {
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final VectorKernels VECTOR = new VectorKernels();

    @TestFactory
    List<DynamicTest> vectorMatchesScalar() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int outW : new int[] {1, 4, 13, 16, 17, 207, 4098}) {
            for (int extra : new int[] {0, 1}) {
                int inW = 2 * outW + extra;
                tests.add(DynamicTest.dynamicTest("outW=" + outW + " inW=" + inW, () -> check(outW, inW)));
            }
        }
        return tests;
    }

    private static void check(int outW, int inW) {
        Random rnd = new Random(outW * 7L + inW);
        int outH = 3;
        int inH = 2 * outH + 1;
        int base = 5;
        int planeOff = 2;
        float[] in = new float[base + planeOff + inH * inW + 3];
        for (int i = 0; i < in.length; i++) {
            in[i] = switch (rnd.nextInt(12)) {
                case 0 -> Float.NaN;
                case 1 -> 0f;
                case 2 -> -0f;
                case 3 -> Float.NEGATIVE_INFINITY;
                case 4 -> 1f; // ties
                default -> (float) rnd.nextGaussian();
            };
        }
        float[] outS = new float[outH * outW + 1];
        float[] outV = new float[outH * outW + 1];
        int[] argS = new int[outS.length];
        int[] argV = new int[outS.length];
        SCALAR.maxPool2x2(in, base, planeOff, inW, outH, outW, outS, argS, 1);
        VECTOR.maxPool2x2(in, base, planeOff, inW, outH, outW, outV, argV, 1);
        assertArrayEquals(argS, argV);
        for (int i = 0; i < outS.length; i++) {
            assertEquals(Float.floatToRawIntBits(outS[i]), Float.floatToRawIntBits(outV[i]), "output " + i);
        }
    }

    @Test
    void scalarFollowsPyTorchsRule() {
        // window [[1, 3], [3, NaN]] -> NaN at index 3; [[2, 2], [1, 0]] -> the first 2
        float[] in = {1, 3, 2, 2, 3, Float.NaN, 1, 0};
        float[] out = new float[2];
        int[] arg = new int[2];
        SCALAR.maxPool2x2(in, 0, 0, 4, 1, 2, out, arg, 0);
        assertEquals(5, arg[0]);
        assertEquals(Float.NaN, out[0]);
        assertEquals(2, arg[1]);
        assertEquals(2f, out[1]);
    }
}
