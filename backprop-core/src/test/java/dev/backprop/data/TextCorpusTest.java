package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextCorpusTest {
    @TempDir
    Path dir;

    @Test
    void vocabularyIsTheSortedDistinctCharacters() {
        CharVocab v = CharVocab.of("hello, world");
        assertEquals(" ,dehlorw", v.chars());
        assertEquals(9, v.size());
        assertEquals(0, v.id(' '));
        assertEquals(-1, v.id('z'));
        assertEquals("w", v.symbol(8));
        long[] ids = v.encode("lower");
        assertArrayEquals(new long[] {5, 6, 8, 3, 7}, ids);
        assertEquals("lower", v.decode(ids));
        assertEquals("hello", v.decode(v.encodeTensor("hello").reshape(1, 5)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.encode("held!"));
        assertTrue(e.getMessage().contains("'!' (U+0021) at index 4 is not in the vocabulary of 9"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> v.decode(new long[] {9}));
    }

    @Test
    void charactersAreCodePointsNotBytesOrUtf16Units() {
        String text = "a\u00e9\uD83D\uDE00b"; // a, e-acute (2 bytes), an emoji (4 bytes, 2 UTF-16 units), b
        TextCorpus c = TextCorpus.of(text, 0.5);
        assertEquals(4, c.length());
        assertEquals(4, c.vocab().size());
        assertEquals(2, c.trainLength());
        assertEquals("a\u00e9", c.vocab().decode(c.train()));
        assertEquals("\uD83D\uDE00b", c.vocab().decode(c.val()));
        assertEquals(text, c.vocab().decode(c.tokens()));
    }

    @Test
    void splitsTheFirstNinetyPercentForTraining() throws IOException {
        Path p = dir.resolve("t.txt");
        String text = "abcdefghij".repeat(7) + "xyz"; // 73 characters
        Files.writeString(p, text, StandardCharsets.UTF_8);
        TextCorpus c = TextCorpus.read(p);
        assertEquals(73, c.length());
        assertEquals(65, c.trainLength(), "(int) (0.9 * 73)");
        assertEquals(text.substring(0, 65), c.vocab().decode(c.train()));
        assertEquals(text.substring(65), c.vocab().decode(c.val()));
        assertEquals(13, c.vocab().size(), "the vocabulary covers the validation text too");
        assertEquals(text, c.text());
    }

    @Test
    void invalidUtf8NamesTheByteOffset() throws IOException {
        Path p = dir.resolve("bad.txt");
        Files.write(p, new byte[] {'a', 'b', (byte) 0xC3, '(', 'c'});
        DataException e = assertThrows(DataException.class, () -> TextCorpus.read(p));
        assertTrue(e.getMessage().startsWith(p + ": invalid UTF-8 at byte offset 2 (bytes 0xC3"), e.getMessage());

        Path cut = dir.resolve("cut.txt");
        Files.write(cut, new byte[] {'a', (byte) 0xE2, (byte) 0x82}); // a euro sign cut short
        DataException c = assertThrows(DataException.class, () -> TextCorpus.read(cut));
        assertTrue(c.getMessage().contains("invalid UTF-8 at byte offset 1"), c.getMessage());

        Path overlong = dir.resolve("overlong.txt");
        Files.write(overlong, new byte[] {'x', 'y', 'z', (byte) 0xC0, (byte) 0xAF}); // an overlong '/'
        assertTrue(assertThrows(DataException.class, () -> TextCorpus.read(overlong)).getMessage()
                .contains("byte offset 3"));

        Path missing = dir.resolve("missing.txt");
        assertTrue(assertThrows(DataException.class, () -> TextCorpus.read(missing)).getMessage()
                .contains("no such file"));
    }

    @Test
    void windowsHaveNextTokenTargets() {
        TextCorpus c = TextCorpus.of("the quick brown fox jumps over the lazy dog", 0.8);
        WindowSampler w = c.trainWindows(8);
        assertEquals(c.trainLength() - 8, w.numWindows());
        Batch b = w.sample(16, new Generator(3));
        assertArrayEquals(new int[] {16, 8}, b.inputs().shape());
        assertArrayEquals(new int[] {16, 8}, b.targets().shape());
        String train = c.text().substring(0, c.trainLength());
        for (int i = 0; i < 16; i++) {
            String in = c.vocab().decode(b.inputs().select(0, i).contiguous());
            String out = c.vocab().decode(b.targets().select(0, i).contiguous());
            int at = train.indexOf(in);
            assertTrue(at >= 0, "window \"" + in + "\" comes from the training text");
            assertEquals(in.substring(1), out.substring(0, 7), "targets are the inputs shifted by one");
            assertTrue(train.contains(in + out.charAt(7)));
        }
        assertEquals(Snap.of(b), Snap.of(w.sample(16, new Generator(3))), "same generator state, same batch");
        assertNotEquals(Snap.of(b), Snap.of(w.sample(16, new Generator(4))));
    }

    @Test
    void everyStartPositionIsReachable() {
        WindowSampler w = new WindowSampler(Tensor.arange(10), 4); // windows start at 0..5
        boolean[] seen = new boolean[6];
        Generator gen = new Generator(0);
        for (int k = 0; k < 200; k++) {
            seen[(int) w.sample(1, gen).inputs().getLong(0, 0)] = true;
        }
        for (int s = 0; s < 6; s++) {
            assertTrue(seen[s], "start " + s);
        }
        assertArrayEquals(new long[] {6, 7, 8, 9}, w.windows(new int[] {5}).targets().toLongArray());
        assertThrows(IndexOutOfBoundsException.class, () -> w.windows(new int[] {6}));
        assertThrows(IllegalArgumentException.class, () -> new WindowSampler(Tensor.arange(4), 4));
    }

    @Test
    void tinyShakespeareWhenPresent() {
        Path p = Path.of("../../shared/data/tinyshakespeare.txt");
        if (!Files.exists(p)) {
            p = Path.of("../shared/data/tinyshakespeare.txt");
        }
        assumeTrue(Files.exists(p), "tinyshakespeare.txt not found next to the repository; skipping");
        TextCorpus c = TextCorpus.read(p);
        assertEquals(1_115_394, c.length());
        assertEquals(65, c.vocab().size(), "the vocabulary of the Q2 workload");
        assertEquals(1_003_854, c.trainLength());
    }

    /** Comparable contents of a batch. */
    record Snap(String inputs, String targets) {
        static Snap of(Batch b) {
            return new Snap(java.util.Arrays.toString(b.inputs().toLongArray()),
                    java.util.Arrays.toString(b.targets().toLongArray()));
        }
    }
}
