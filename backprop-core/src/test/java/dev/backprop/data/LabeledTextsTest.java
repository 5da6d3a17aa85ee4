package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.data.LabeledTexts.Options;
import dev.backprop.data.LabeledTexts.Skipped;
import dev.backprop.data.LabeledTexts.UnknownLabels;
import dev.backprop.data.TextFiles.InvalidUtf8;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabeledTextsTest {
    private static final Options OPTIONS = Options.of("text", "category");

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void readsQuotedTextsAndNumbersSortedClasses() throws IOException {
        Path p = write("train.csv", "text,category\r\n"
                + "\"I still have not received my new card, I ordered over a week ago.\",card_arrival\r\n"
                + "\"Where is my \"\"card\"\"?\",card_arrival\r\n"
                + "\"A text over\ntwo lines\",activate_my_card\r\n"
                + "\r\n"
                + "How do I top up?, top_up \r\n");
        LabeledTexts t = LabeledTexts.read(p, OPTIONS);
        assertEquals(4, t.size());
        assertEquals(List.of("activate_my_card", "card_arrival", "top_up"), t.classes());
        assertEquals("I still have not received my new card, I ordered over a week ago.", t.text(0));
        assertEquals("Where is my \"card\"?", t.text(1));
        assertEquals("A text over\ntwo lines", t.text(2));
        assertArrayEquals(new int[] {1, 1, 0, 2}, t.labels());
        assertArrayEquals(new long[] {1, 1, 0, 2}, t.labelTensor().toLongArray());
        assertEquals(7, t.line(3), "the line the row starts on (the quoted text spans lines 4 and 5)");
        assertEquals("", t.warning());
    }

    @Test
    void integerLabelsSortNumerically() throws IOException {
        LabeledTexts t = LabeledTexts.read(write("n.csv", "label,text\n10,a\n2,b\n1,c\n"), Options.DEFAULT);
        assertEquals(List.of("1", "2", "10"), t.classes());
        assertArrayEquals(new int[] {2, 1, 0}, t.labels());
    }

    @Test
    void unknownTestLabelsFailOrAreSkipped() throws IOException {
        LabeledTexts train = LabeledTexts.read(write("train.csv", "text,category\na,x\nb,y\n"), OPTIONS);
        Path test = write("test.csv", "text,category\nc,y\nd,z\ne,x\n");
        DataException e = assertThrows(DataException.class, () -> LabeledTexts.readLike(test, train, OPTIONS));
        assertEquals(3, e.line());
        assertEquals("category", e.column());
        assertTrue(e.getMessage().contains("label \"z\" is not one of the 2 classes of the training data (\"x\", \"y\")"),
                e.getMessage());
        LabeledTexts skipped = LabeledTexts.readLike(test, train, OPTIONS.withUnknownLabels(UnknownLabels.SKIP));
        assertEquals(List.of("c", "e"), skipped.texts());
        assertArrayEquals(new int[] {1, 0}, skipped.labels(), "numbered as in training");
        assertEquals(train.classes(), skipped.classes());
        assertEquals(1, skipped.skipped());
        assertEquals(List.of(new Skipped(3, "unknown label \"z\"")), skipped.firstSkipped());
        assertEquals(test + ": skipped 1 rows: line 3 (unknown label \"z\")", skipped.warning());
    }

    @Test
    void emptyTextsAndLabelsAreSkippedRaggedRowsFail() throws IOException {
        LabeledTexts t = LabeledTexts.read(write("gaps.csv", "text,category\n ,x\nb,\nc,y\n"), OPTIONS);
        assertEquals(List.of("c"), t.texts());
        assertEquals(List.of(new Skipped(2, "empty text"), new Skipped(3, "empty label")), t.firstSkipped());
        DataException e = assertThrows(DataException.class, () -> LabeledTexts.read(write("ragged.csv",
                "text,category\nhello, world,x\n"), OPTIONS));
        assertTrue(e.getMessage().contains("line 2: expected 2 fields as in the header, found 3 (an unquoted comma"),
                e.getMessage());
        e = assertThrows(DataException.class, () -> LabeledTexts.read(write("quote.csv",
                "text,category\n\"never closed,x\n"), OPTIONS));
        assertTrue(e.getMessage().contains("is never closed"), e.getMessage());
    }

    @Test
    void badFilesAreClearErrors() throws IOException {
        DataException e = assertThrows(DataException.class, () -> LabeledTexts.read(write("e.csv", ""), OPTIONS));
        assertTrue(e.getMessage().contains("the file is empty"), e.getMessage());
        e = assertThrows(DataException.class, () -> LabeledTexts.read(write("h.csv", "text,category\n"), OPTIONS));
        assertTrue(e.getMessage().contains("header but no data rows"), e.getMessage());
        e = assertThrows(DataException.class, () -> LabeledTexts.read(write("c.csv", "sentence,intent\na,b\n"),
                OPTIONS));
        assertTrue(e.getMessage().contains("no column named \"text\"; the header has \"sentence\", \"intent\""),
                e.getMessage());
        e = assertThrows(DataException.class, () -> LabeledTexts.read(write("s.csv", "text,category\n,x\n"), OPTIONS));
        assertTrue(e.getMessage().contains("all 1 rows were skipped (first: empty text on line 2)"), e.getMessage());

        Path bad = dir.resolve("bad.csv");
        byte[] head = "text,category\nok,x\n".getBytes(StandardCharsets.UTF_8); // 19 bytes
        byte[] row = {'c', 'a', 'f', (byte) 0xE9, ',', 'y', '\n'}; // Latin-1 "café"
        byte[] all = new byte[head.length + row.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(row, 0, all, head.length, row.length);
        Files.write(bad, all);
        e = assertThrows(DataException.class, () -> LabeledTexts.read(bad, OPTIONS));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("invalid UTF-8 at byte offset 22 (bytes 0xE9 do not form a character)"),
                e.getMessage());
        LabeledTexts replaced = LabeledTexts.read(bad, OPTIONS.withInvalidUtf8(InvalidUtf8.REPLACE));
        assertEquals("caf\uFFFD", replaced.text(1));
        assertEquals(1, replaced.invalidUtf8Replaced());
    }

    @Test
    void readsTheSharedBanking77Files() {
        Path dirPath = Path.of("../../shared/data");
        if (!Files.exists(dirPath.resolve("banking77-train.csv"))) {
            dirPath = Path.of("../shared/data");
        }
        Path trainFile = dirPath.resolve("banking77-train.csv");
        Path testFile = dirPath.resolve("banking77-test.csv");
        assumeTrue(Files.exists(trainFile) && Files.exists(testFile), "skipped: banking77-train.csv and -test.csv"
                + " are not in ../../shared/data or ../shared/data");
        LabeledTexts train = LabeledTexts.read(trainFile, OPTIONS);
        LabeledTexts test = LabeledTexts.readLike(testFile, train, OPTIONS);
        assertEquals(77, train.numClasses());
        assertTrue(train.size() > 9_000 && test.size() > 3_000, train + " " + test);
        assertEquals("", train.warning() + test.warning());
    }
}
