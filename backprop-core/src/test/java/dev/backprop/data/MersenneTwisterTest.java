package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

class MersenneTwisterTest {

    @Test
    void theTenThousandthOutputOfTheDefaultSeedIsTheStandardOne() {
        // C++ [rand.predef]: the 10000th consecutive invocation of a default-constructed mt19937
        // (seed 5489) produces 4123659995
        MersenneTwister mt = new MersenneTwister(5489);
        mt.skip(9999);
        assertEquals(4123659995L, mt.nextUnsignedInt());
    }

    @Test
    void drawsWhatTorchRandintDraws() {
        // torch 1.13 (Debian python3-torch): g = torch.Generator().manual_seed(s); torch.randint(n, (k,), generator=g)
        assertArrayEquals(new int[] {32232, 12323, 77093, 81217, 18543, 102189, 19686, 16482, 17138, 35489, 109043,
                83913}, draw(new MersenneTwister(1000), 111283, 12));
        assertArrayEquals(new int[] {0, 2, 1, 1, 3, 2, 2, 4, 3, 1}, draw(new MersenneTwister(7), 5, 10));
        MersenneTwister mt = new MersenneTwister(0); // across the first twist of the state (624 outputs)
        mt.skip(700);
        assertArrayEquals(new int[] {73, 620, 507, 393, 402}, draw(mt, 1000, 5));
    }

    @Test
    void windowsAreDrawnAsNanoGptsGetBatchWithTorch() {
        long[] tokens = new long[111540];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = i;
        }
        WindowSampler windows = new WindowSampler(Tensor.ofLongs(tokens, tokens.length), 256);
        Batch b = windows.sample(12, new MersenneTwister(1000)); // randint(len - T - 1) = randint(111283)
        assertEquals(32232, b.inputs().toLongArray()[0]);
        assertEquals(12323, b.inputs().toLongArray()[256]);
        assertEquals(12323 + 1, b.targets().toLongArray()[256]);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new MersenneTwister(-1));
        assertThrows(IllegalArgumentException.class, () -> new MersenneTwister(1L << 32));
        assertThrows(IllegalArgumentException.class, () -> new MersenneTwister(1).nextBelow(0));
    }

    private static int[] draw(MersenneTwister mt, int bound, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = mt.nextBelow(bound);
        }
        return out;
    }
}
