package dev.backprop.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class PaddingTest {
    private static final int PAD = 0;
    private static final int BOS = 1;
    private static final int EOS = 2;

    @Test
    void padsToTheLongestOnTheRight() {
        TokenBatch b = Padding.of(PAD).batch(List.of(new int[] {5, 6, 7}, new int[] {8}, new int[] {}));
        assertEquals(3, b.batchSize());
        assertEquals(3, b.length());
        Tensor ids = b.ids();
        assertEquals(DType.INT64, ids.dtype());
        assertArrayEquals(new int[] {3, 3}, ids.shape());
        assertArrayEquals(new long[] {5, 6, 7, 8, 0, 0, 0, 0, 0}, ids.toLongArray());
        Tensor mask = b.mask();
        assertEquals(DType.FLOAT32, mask.dtype());
        assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 0, 0, 0}, mask.toFloatArray());
        assertArrayEquals(new boolean[] {false, false, false, false, true, true, true, true, true},
                b.paddingMask().toBoolArray());
        assertArrayEquals(new int[] {3, 1, 0}, b.lengths());
        assertArrayEquals(new long[] {3, 1, 0}, b.lengthsTensor().toLongArray());
        assertEquals(0, b.truncated());
        assertArrayEquals(new int[] {8}, b.row(1));
    }

    @Test
    void addsBosAndEosAndCountsTruncatedSequences() {
        Padding p = Padding.of(PAD).withBos(BOS).withEos(EOS).withMaxLength(5);
        TokenBatch b = p.batch(List.of(new int[] {5, 6, 7, 8, 9}, new int[] {5}, new int[] {5, 6, 7}, new int[] {5, 6}));
        // room for 3 tokens between bos and eos: the first sequence is cut, the third just fits
        assertEquals(5, b.length());
        assertArrayEquals(new long[] {
            1, 5, 6, 7, 2,
            1, 5, 2, 0, 0,
            1, 5, 6, 7, 2,
            1, 5, 6, 2, 0}, b.ids().toLongArray());
        assertArrayEquals(new float[] {
            1, 1, 1, 1, 1,
            1, 1, 1, 0, 0,
            1, 1, 1, 1, 1,
            1, 1, 1, 1, 0}, b.mask().toFloatArray());
        assertArrayEquals(new int[] {5, 3, 5, 4}, b.lengths());
        assertEquals(1, b.truncated());
    }

    @Test
    void aFixedLengthPadsShortBatchesToIt() {
        TokenBatch b = Padding.of(9).withMaxLength(4).batch(List.of(new int[] {1}));
        assertArrayEquals(new long[] {1, 9, 9, 9}, b.ids().toLongArray());
    }

    @Test
    void padsOnTheLeftForGeneration() {
        TokenBatch b = Padding.of(PAD).withBos(BOS).withSide(Padding.Side.LEFT)
                .batch(List.of(new int[] {5, 6}, new int[] {7}));
        assertArrayEquals(new long[] {1, 5, 6, 0, 1, 7}, b.ids().toLongArray());
        assertArrayEquals(new float[] {1, 1, 1, 0, 1, 1}, b.mask().toFloatArray());
        assertArrayEquals(new int[] {1, 7}, b.row(1));
    }

    @Test
    void emptySequencesStillGiveOneColumn() {
        TokenBatch b = Padding.of(PAD).batch(List.of(new int[0], new int[0]));
        assertEquals(1, b.length());
        assertArrayEquals(new float[] {0, 0}, b.mask().toFloatArray());
    }

    @Test
    void encodesTextsWithATokenizer() {
        CharTokenizer tok = CharTokenizer.fromText("abc", SpecialTokens.DEFAULT);
        TokenBatch b = Padding.of(tok).withBos(tok.bosId()).withEos(tok.eosId()).encode(tok, List.of("ab", "c"));
        // chars a 0, b 1, c 2; <pad> 3, <bos> 4, <eos> 5
        assertArrayEquals(new long[] {4, 0, 1, 5, 4, 2, 5, 3}, b.ids().toLongArray());
        assertEquals("ab", tok.decode(b.row(0), true));
    }

    @Test
    void refusesBadSettingsAndIds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Padding.of(CharTokenizer.fromText("abc")));
        assertTrue(e.getMessage().contains("pad id must be at least 0, got -1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Padding.of(0).withBos(1).withEos(2).withMaxLength(2));
        assertThrows(IllegalArgumentException.class, () -> Padding.of(0).batch(List.of()));
        e = assertThrows(IllegalArgumentException.class, () -> Padding.of(0).batch(List.of(new int[] {1},
                new int[] {2, -3})));
        assertTrue(e.getMessage().contains("sequence 1 has id -3 at position 1"), e.getMessage());
    }
}
