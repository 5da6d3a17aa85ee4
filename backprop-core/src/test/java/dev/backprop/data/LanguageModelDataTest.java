package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data of the language-model recipes: random windows, stream chunks for TBPTT, the tokenizer file. */
class LanguageModelDataTest {
    @TempDir
    Path dir;

    private static Tensor arange(int n) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return Tensor.ofLongs(v, n);
    }

    @Test
    void randomWindowsAreAPureFunctionOfSeedAndIndex() {
        RandomWindows w = new RandomWindows(arange(100), 8, 50, 7);
        assertEquals(50, w.size());
        assertArrayEquals(new int[] {8}, w.inputShape());
        Batch b = w.get(new int[] {3, 0, 3});
        assertArrayEquals(new int[] {3, 8}, b.inputs().shape());
        long[] x = b.inputs().toLongArray();
        long[] y = b.targets().toLongArray();
        for (int r = 0; r < 3; r++) {
            for (int t = 0; t < 8; t++) {
                assertEquals(x[r * 8] + t, x[r * 8 + t], "a window of consecutive tokens");
                assertEquals(x[r * 8 + t] + 1, y[r * 8 + t], "targets: the next token");
            }
            assertTrue(x[r * 8] >= 0 && x[r * 8] + 8 < 100);
        }
        assertArrayEquals(b.inputs().select(0, 0).toLongArray(), b.inputs().select(0, 2).toLongArray(), "same index");
        assertEquals(new RandomWindows(arange(100), 8, 50, 7).start(3), w.start(3), "same seed, same windows");
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            starts.add(w.start(i));
        }
        assertTrue(starts.stream().distinct().count() > 30, "spread over the text: " + starts);
        int differ = 0;
        RandomWindows other = new RandomWindows(arange(100), 8, 50, 8);
        for (int i = 0; i < 50; i++) {
            differ += other.start(i) != w.start(i) ? 1 : 0;
        }
        assertTrue(differ > 30, "another seed, other windows");
        assertThrows(IndexOutOfBoundsException.class, () -> w.get(new int[] {50}));
    }

    @Test
    void streamChunksContinueEachRowFromOneBatchToTheNext() {
        // 1 + 3 streams of 20 tokens + 5 left over: chunks of 6 -> 3 chunks per stream, 2 tokens unused per stream
        StreamChunks chunks = new StreamChunks(arange(66), 3, 6);
        assertEquals(21, chunks.streamLength(), "(66 - 1) / 3");
        assertEquals(3, chunks.chunksPerStream());
        assertEquals(9, chunks.size());
        DataLoader loader = chunks.loader();
        assertEquals(3, loader.numBatches());
        List<Batch> batches = new ArrayList<>();
        loader.epoch(0).forEach(batches::add);
        assertEquals(3, batches.size());
        for (int j = 0; j < 3; j++) {
            long[] x = batches.get(j).inputs().toLongArray();
            long[] y = batches.get(j).targets().toLongArray();
            for (int s = 0; s < 3; s++) {
                assertEquals(s * 21 + j * 6, x[s * 6], "batch " + j + " row " + s + " starts chunk " + j + " of stream " + s);
                for (int t = 0; t < 6; t++) {
                    assertEquals(x[s * 6] + t, x[s * 6 + t]);
                    assertEquals(x[s * 6 + t] + 1, y[s * 6 + t]);
                }
                if (j > 0) {
                    long[] prevY = batches.get(j - 1).targets().toLongArray();
                    assertEquals(prevY[s * 6 + 5], x[s * 6], "row " + s + " of batch " + j + " continues batch "
                            + (j - 1));
                }
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new StreamChunks(arange(50), 8, 8));
        assertTrue(e.getMessage().contains("need at least 65 tokens, the sequence has 50"), e.getMessage());
    }

    @Test
    void tokenizerFileRoundTripsAndRejectsOtherFiles() throws Exception {
        CharVocab v = CharVocab.of("hello\n\"world\"\\ é\uD83D\uDE00");
        Path f = dir.resolve("tokenizer.json");
        v.save(f);
        String json = Files.readString(f).strip();
        assertTrue(json.startsWith("{\"type\":\"char\",\"chars\":\""), json);
        CharVocab back = CharVocab.load(f);
        assertEquals(v.chars(), back.chars());
        assertEquals(v.size(), back.size());
        Files.writeString(f, "{\"type\":\"bpe\",\"merges\":[]}");
        DataException e = assertThrows(DataException.class, () -> CharVocab.load(f));
        assertTrue(e.getMessage().contains("expected a character tokenizer"), e.getMessage());
        Files.writeString(f, "{\"type\":\"char\",\"chars\":\"ba\"}");
        e = assertThrows(DataException.class, () -> CharVocab.load(f));
        assertTrue(e.getMessage().contains("sorted and distinct"), e.getMessage());
        e = assertThrows(DataException.class, () -> CharVocab.load(dir.resolve("missing.json")));
        assertTrue(e.getMessage().contains("no such tokenizer file"), e.getMessage());
        assertNotEquals(0, v.size());
    }

    @Test
    void theTokenizerFileLoadsAsTheTextPackagesCharTokenizer() throws Exception {
        CharVocab v = CharVocab.of("First Citizen:\nBefore we proceed any further, hear me speak.\n");
        Path f = dir.resolve("tokenizer.json");
        v.save(f);
        dev.backprop.text.Tokenizer t = dev.backprop.text.Tokenizer.load(f);
        assertTrue(t instanceof dev.backprop.text.CharTokenizer, t.getClass().toString());
        assertEquals(v.chars(), ((dev.backprop.text.CharTokenizer) t).chars());
        String s = "hear me, Citizen";
        long[] expected = v.encode(s);
        int[] ids = t.encode(s);
        assertEquals(expected.length, ids.length);
        for (int i = 0; i < ids.length; i++) {
            assertEquals(expected[i], ids[i], "the same ids at " + i);
        }
    }
}
