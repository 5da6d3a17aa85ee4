package dev.backprop.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.Batch;
import dev.backprop.data.DataLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenDatasetTest {

    @Test
    void batchesArePaddedToTheirOwnLongestSequence() {
        TokenDataset d = TokenDataset.of(List.of(new int[] {1, 2}, new int[] {3, 4, 5, 6}, new int[] {7}),
                new int[] {0, 1, 2}, 0, 10);
        Batch b = d.get(new int[] {2, 0});
        assertArrayEquals(new int[] {2, 2}, b.inputs().shape());
        assertArrayEquals(new long[] {7, 0, 1, 2}, b.inputs().toLongArray());
        assertArrayEquals(new long[] {2, 0}, b.targets().toLongArray());
        assertArrayEquals(new int[] {3, 4}, d.all().inputs().shape());
        assertArrayEquals(new int[] {10}, d.inputShape());
        assertEquals(0, d.truncated());
    }

    @Test
    void longSequencesAreTruncatedAndCounted() {
        TokenDataset d = TokenDataset.of(List.of(new int[] {1, 2, 3, 4}, new int[] {5}), new int[] {0, 0}, 0, 3);
        assertEquals(1, d.truncated());
        assertArrayEquals(new int[] {1, 2, 3}, d.sequence(0));
        assertArrayEquals(new int[] {2, 3}, d.all().inputs().shape());
    }

    @Test
    void bucketedBatchesHoldTextsOfSimilarLengths() {
        java.util.Random r = new java.util.Random(3);
        List<int[]> seqs = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            seqs.add(new int[1 + r.nextInt(40)]);
        }
        TokenDataset d = TokenDataset.of(seqs, new int[100], 0, 64);
        DataLoader loader = DataLoader.builder(d).batchSize(8).seed(5).order(d.bucketed(100)).prefetch(0).build();
        int[] order = loader.order(0);
        assertArrayEquals(java.util.stream.IntStream.range(0, 100).toArray(),
                java.util.Arrays.stream(order).sorted().toArray(), "a permutation");
        assertArrayEquals(order, loader.order(0), "the same for an epoch");
        assertFalse(java.util.Arrays.equals(order, loader.order(1)), "new every epoch");
        int padded = 0;
        int shuffled = 0;
        DataLoader plain = DataLoader.builder(d).batchSize(8).seed(5).shuffle(true).prefetch(0).build();
        for (int b = 0; b < loader.numBatches(); b++) {
            padded += loader.batch(0, b).inputs().numel();
            shuffled += plain.batch(0, b).inputs().numel();
        }
        assertTrue(padded < 0.7 * shuffled, padded + " padded positions, " + shuffled + " shuffled");
        Batch last = loader.batch(0, loader.numBatches() - 1);
        assertEquals(4, last.size(), "the smaller batch stays last");
    }

    @Test
    void badInputIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenDataset.of(List.of(new int[] {1}, new int[0]), new int[] {0, 1}, 0, 5));
        assertTrue(e.getMessage().contains("sequence 1 is empty"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TokenDataset.of(List.of(new int[] {1}), new int[2], 0, 5));
        assertThrows(IllegalArgumentException.class, () -> TokenDataset.of(List.of(new int[] {1}), new int[1], -1, 5));
        CharTokenizer tok = CharTokenizer.of("ab", SpecialTokens.DEFAULT);
        e = assertThrows(IllegalArgumentException.class,
                () -> TokenDataset.encode(tok, List.of("ab", ""), new int[] {0, 1}, 5));
        assertTrue(e.getMessage().contains("text 1 (\"\") has no tokens"), e.getMessage());
    }
}
