package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.data.SentencePairs.Pair;
import dev.backprop.data.SentencePairs.Skipped;
import dev.backprop.data.TextFiles.InvalidUtf8;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SentencePairsTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void readsPairsAndSkipsBadLinesWithReasons() throws IOException {
        Path p = write("pairs.tsv", "\uFEFFGo.\tGeh.\r\nHi.\tHallo!\r\n\r\nno tab here\r\n\tleer\r\nempty\t \r\n"
                + "  Run! \t Lauf! \r\n");
        SentencePairs pairs = SentencePairs.read(p);
        assertEquals(List.of(new Pair("Go.", "Geh.", 1), new Pair("Hi.", "Hallo!", 2), new Pair("Run!", "Lauf!", 7)),
                pairs.pairs());
        assertEquals(List.of("Go.", "Hi.", "Run!"), pairs.sources());
        assertEquals(7, pairs.lines());
        assertEquals(4, pairs.skipped());
        assertEquals(List.of(new Skipped(3, "empty line"), new Skipped(4, "no tab"), new Skipped(5, "empty source"),
                new Skipped(6, "empty target")), pairs.firstSkipped());
        assertEquals(p + ": skipped 4 of 7 lines: line 3 (empty line), line 4 (no tab), line 5 (empty source),"
                + " line 6 (empty target)", pairs.warning());
    }

    @Test
    void choosesColumnsOfWiderFiles() throws IOException {
        Path p = write("tatoeba.tsv", "1\tHello\t2\tHallo\n3\tBye\n");
        SentencePairs pairs = SentencePairs.read(p, SentencePairs.Options.DEFAULT.withColumns(1, 3));
        assertEquals(List.of(new Pair("Hello", "Hallo", 1)), pairs.pairs());
        assertEquals("2 columns, expected at least 4", pairs.firstSkipped().getFirst().reason());
    }

    @Test
    void keepsOnlyTheFirstTenSkippedLines() throws IOException {
        StringBuilder sb = new StringBuilder("a\tb\n");
        for (int i = 0; i < 25; i++) {
            sb.append("bad\n");
        }
        SentencePairs pairs = SentencePairs.read(write("many.tsv", sb.toString()));
        assertEquals(25, pairs.skipped());
        assertEquals(10, pairs.firstSkipped().size());
        assertTrue(pairs.warning().endsWith("line 11 (no tab), ..."), pairs.warning());
    }

    @Test
    void invalidUtf8IsAnErrorNamingLineAndOffsetOrIsReplaced() throws IOException {
        Path p = dir.resolve("latin1.tsv");
        byte[] ok = "a\tb\nc\td\n".getBytes(StandardCharsets.UTF_8); // 8 bytes
        byte[] bad = {'G', 'r', (byte) 0xFC, 'n', '\t', 'g', 'r', 'e', 'e', 'n', '\n'}; // "Grün" in Latin-1
        byte[] all = new byte[ok.length + bad.length];
        System.arraycopy(ok, 0, all, 0, ok.length);
        System.arraycopy(bad, 0, all, ok.length, bad.length);
        Files.write(p, all);
        DataException e = assertThrows(DataException.class, () -> SentencePairs.read(p));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().equals(p + ": line 3: invalid UTF-8 at byte offset 10 (bytes 0xFC do not form a"
                + " character); save the file as UTF-8, or read it with InvalidUtf8.REPLACE to replace such bytes by"
                + " U+FFFD"), e.getMessage());
        SentencePairs replaced = SentencePairs.read(p, SentencePairs.Options.DEFAULT.withInvalidUtf8(
                InvalidUtf8.REPLACE));
        assertEquals(new Pair("Gr\uFFFDn", "green", 3), replaced.pairs().get(2));
        assertEquals(1, replaced.invalidUtf8Replaced());
        assertEquals(p + ": replaced 1 invalid UTF-8 sequences by U+FFFD (line 3)", replaced.warning());
    }

    @Test
    void emptyFilesAndFilesWithoutPairsAreErrors() throws IOException {
        DataException e = assertThrows(DataException.class, () -> SentencePairs.read(write("empty.tsv", "")));
        assertTrue(e.getMessage().contains("the file is empty"), e.getMessage());
        e = assertThrows(DataException.class, () -> SentencePairs.read(write("bom.tsv", "\uFEFF")));
        assertTrue(e.getMessage().contains("the file is empty"), e.getMessage());
        e = assertThrows(DataException.class, () -> SentencePairs.read(write("notabs.tsv", "one\ntwo\n")));
        assertTrue(e.getMessage().contains("no sentence pair in 2 lines") && e.getMessage().contains("line 1 (no tab)"),
                e.getMessage());
        e = assertThrows(DataException.class, () -> SentencePairs.read(dir.resolve("missing.tsv")));
        assertTrue(e.getMessage().endsWith("no such file"), e.getMessage());
    }

    @Test
    void holdOutSplitIsReproducibleAndKeepsASourceOnOneSide() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4000; i++) {
            sb.append("sentence ").append(i % 2000).append('\t').append("Satz ").append(i).append('\n');
        }
        SentencePairs pairs = SentencePairs.read(write("big.tsv", sb.toString()));
        HoldOut.Split<Pair> a = pairs.split(0.05, 42);
        HoldOut.Split<Pair> b = pairs.split(0.05, 42);
        assertEquals(a, b);
        assertEquals(4000, a.train().size() + a.test().size());
        assertTrue(a.test().size() > 120 && a.test().size() < 280, "about 5% of 4000: " + a.test().size());
        Set<String> trainSources = new HashSet<>();
        a.train().forEach(x -> trainSources.add(x.source()));
        assertFalse(a.test().stream().anyMatch(x -> trainSources.contains(x.source())), "a source on both sides");
        assertTrue(!a.test().equals(pairs.split(0.05, 43).test()), "another seed, another split");
        // the side of a pair does not depend on the rest of the file
        List<Pair> reversed = new ArrayList<>(pairs.pairs()).reversed();
        assertEquals(new HashSet<>(a.test()), new HashSet<>(HoldOut.split(reversed, Pair::source, 0.05, 42).test()));
        assertEquals(0, pairs.split(0, 1).test().size());
        assertEquals(4000, pairs.split(1, 1).test().size());
        assertThrows(IllegalArgumentException.class, () -> pairs.split(1.5, 1));
    }

    @Test
    void readsTheSharedTatoebaFile() {
        Path file = Path.of("../../shared/data/tatoeba-eng-deu-50k.tsv");
        if (!Files.exists(file)) {
            file = Path.of("../shared/data/tatoeba-eng-deu-50k.tsv");
        }
        assumeTrue(Files.exists(file), "skipped: tatoeba-eng-deu-50k.tsv is not in ../../shared/data or"
                + " ../shared/data");
        SentencePairs pairs = SentencePairs.read(file);
        assertTrue(pairs.size() > 49_000, pairs.toString());
        assertEquals(new Pair("Go.", "Geh.", 1), pairs.pairs().getFirst());
        HoldOut.Split<Pair> split = pairs.split(0.05, 0);
        double share = (double) split.test().size() / pairs.size();
        assertTrue(share > 0.03 && share < 0.07, "test share " + share);
    }
}
