package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {
    @TempDir
    Path dir;

    Path csv(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    static final String IRIS = """
            sepal_length,sepal_width,species,petal_length
            5.1,3.5,setosa,1.4
            7.0,3.2,versicolor,4.7
            6.3,3.3,virginica,6.0
            4.9,3.0,setosa,1.4
            """;

    @Test
    void classificationByNameSortsTheClasses() throws IOException {
        Csv.Table t = Csv.classification(csv("iris.csv", IRIS), "species");
        assertEquals(List.of("sepal_length", "sepal_width", "petal_length"), t.features());
        assertEquals("species", t.target());
        assertEquals(Csv.Task.CLASSIFICATION, t.task());
        assertEquals(List.of("setosa", "versicolor", "virginica"), t.classes());
        assertEquals(3, t.numClasses());
        TensorDataset d = t.dataset();
        assertArrayEquals(new int[] {4, 3}, d.features().shape());
        assertArrayEquals(new float[] {5.1f, 3.5f, 1.4f, 7.0f, 3.2f, 4.7f}, d.range(0, 2).inputs().toFloatArray());
        assertEquals(DType.INT64, d.targets().dtype());
        assertArrayEquals(new long[] {0, 1, 2, 0}, d.targets().toLongArray());
    }

    @Test
    void labelColumnByIndexFromEitherEnd() throws IOException {
        Path p = csv("iris.csv", IRIS);
        assertEquals("species", Csv.classification(p, 2).target());
        assertError(p, () -> Csv.regression(p, -1), 2, "species", "expected a number, found \"setosa\"");
        Csv.Table last = Csv.regression(csv("numeric.csv", "a,b,c\n1,2,3\n"), -1);
        assertEquals("c", last.target());
        assertEquals(List.of(), last.classes());
        assertEquals(0, last.numClasses());
        DataException e = assertThrows(DataException.class, () -> Csv.classification(p, 4));
        assertTrue(e.getMessage().contains("label column index 4 is out of range: the header has 4 columns"),
                e.getMessage());
    }

    @Test
    void numericLabelsSortNumerically() throws IOException {
        Path p = csv("digits.csv", "a,label\n1,10\n2,9\n3,2\n4,9.0\n5,10\n");
        Csv.Table t = Csv.classification(p, "label");
        assertEquals(List.of("2", "9", "10"), t.classes(), "10 after 9, and 9.0 is the class 9");
        assertArrayEquals(new long[] {2, 1, 0, 1, 2}, t.dataset().targets().toLongArray());
    }

    @Test
    void regressionTargetsAreFloat() throws IOException {
        Path p = csv("houses.csv", "rooms,area,price\n3,70.5,250000\n4,92,3.1e5\n");
        Csv.Table t = Csv.regression(p, "price");
        assertEquals(DType.FLOAT32, t.dataset().targets().dtype());
        assertArrayEquals(new float[] {250000, 310000}, t.dataset().targets().toFloatArray());
        assertArrayEquals(new float[] {3, 70.5f, 4, 92}, t.dataset().features().toFloatArray());
    }

    @Test
    void rfc4180QuotingCrlfBomAndBlankLines() throws IOException {
        String text = "\uFEFF\"x\",\"the \"\"label\"\"\",y\r\n"
                + " 1.5 , \"a, b\" ,2\r\n"
                + "\r\n"
                + "\"-3\",\"multi\nline\",+4e-1\r\n"
                + "5,\"a, b\",6"; // no final line break
        Csv.Table t = Csv.classification(csv("quoted.csv", text), "the \"label\"");
        assertEquals(List.of("x", "y"), t.features());
        assertEquals(List.of("a, b", "multi\nline"), t.classes());
        assertArrayEquals(new float[] {1.5f, 2, -3, 0.4f, 5, 6}, t.dataset().features().toFloatArray());
        assertArrayEquals(new long[] {0, 1, 0}, t.dataset().targets().toLongArray());
    }

    /** Asserts the error names the file, the line and (when given) the column, and contains the detail. */
    static DataException assertError(Path file, Runnable read, long line, String column, String detail) {
        DataException e = assertThrows(DataException.class, read::run);
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString() + ": "), m);
        assertEquals(line, e.line(), m);
        if (line > 0) {
            assertTrue(m.contains("line " + line), m);
        }
        assertEquals(column, e.column(), m);
        if (column != null) {
            assertTrue(m.contains("column \"" + column + "\""), m);
        }
        assertTrue(m.contains(detail), "expected \"" + detail + "\" in: " + m);
        return e;
    }

    @Test
    void raggedRows() throws IOException {
        Path fewer = csv("fewer.csv", "a,b,label\n1,2,x\n3,y\n");
        assertError(fewer, () -> Csv.classification(fewer, "label"), 3, null,
                "expected 3 fields as in the header, found 2");
        // the line number counts the line breaks inside quoted fields
        Path more = csv("more.csv", "a,b,label\n1,2,\"x\ny\"\n3,4,z,5\n");
        assertError(more, () -> Csv.classification(more, "label"), 4, null, "found 4");
    }

    @Test
    void nonNumericCells() throws IOException {
        Path p = csv("bad.csv", "age,height,label\n30,1.8,a\n31,tall,b\n");
        assertError(p, () -> Csv.classification(p, "label"), 3, "height", "expected a number, found \"tall\"");
        Path hex = csv("hex.csv", "age,label\n0x1F,a\n");
        assertError(hex, () -> Csv.classification(hex, "label"), 2, "age", "expected a number, found \"0x1F\"");
        Path target = csv("target.csv", "x,price\n1,cheap\n");
        assertError(target, () -> Csv.regression(target, "price"), 2, "price", "expected a number");
    }

    @Test
    void missingNanAndInfiniteValues() throws IOException {
        Path empty = csv("empty-cell.csv", "a,b,label\n1,2,x\n3,,y\n");
        assertError(empty, () -> Csv.classification(empty, "label"), 3, "b", "empty cell");
        Path quotedEmpty = csv("quoted-empty.csv", "a,b,label\n1,\"\",x\n");
        assertError(quotedEmpty, () -> Csv.classification(quotedEmpty, "label"), 2, "b", "empty cell");
        Path nan = csv("nan.csv", "a,b,label\n1,NaN,x\n");
        assertError(nan, () -> Csv.classification(nan, "label"), 2, "b", "NaN is not allowed");
        Path inf = csv("inf.csv", "a,b,label\n1,-inf,x\n");
        assertError(inf, () -> Csv.classification(inf, "label"), 2, "b", "infinite value");
        Path big = csv("big.csv", "a,b,label\n1,1e39,x\n");
        assertError(big, () -> Csv.classification(big, "label"), 2, "b", "outside the float32 range");
        Path noLabel = csv("no-label.csv", "a,label\n1,\n");
        assertError(noLabel, () -> Csv.classification(noLabel, "label"), 2, "label", "empty label");
    }

    @Test
    void brokenQuoting() throws IOException {
        Path open = csv("open.csv", "a,label\n1,\"never closed\n2,x\n");
        assertError(open, () -> Csv.classification(open, "label"), 2, null,
                "field 2 (\"label\") opened on line 2 is never closed");
        Path inside = csv("inside.csv", "a,label\n1,ab\"c\"\n");
        assertError(inside, () -> Csv.classification(inside, "label"), 2, null,
                "a quote inside unquoted field 2 (\"label\")");
        Path after = csv("after.csv", "a,label\n1,\"ab\"c\n");
        assertError(after, () -> Csv.classification(after, "label"), 2, null,
                "after the closing quote of field 2 (\"label\")");
    }

    @Test
    void headerProblems() throws IOException {
        Path empty = csv("empty.csv", "");
        assertError(empty, () -> Csv.classification(empty, 0), 0, null, "the file is empty");
        Path headerOnly = csv("header.csv", "a,label\n");
        assertError(headerOnly, () -> Csv.classification(headerOnly, "label"), 0, null, "no data rows");
        Path dup = csv("dup.csv", "a,a,label\n1,2,x\n");
        assertError(dup, () -> Csv.classification(dup, "label"), 1, null, "names column \"a\" twice");
        Path p = csv("cols.csv", "a,b\n1,2\n");
        assertError(p, () -> Csv.classification(p, "label"), 1, null,
                "no column named \"label\"; the columns are \"a\", \"b\"");
        Path only = csv("only.csv", "label\nx\n");
        assertError(only, () -> Csv.classification(only, "label"), 1, null, "no feature columns");
    }

    @Test
    void invalidUtf8AndMissingFiles() throws IOException {
        Path p = dir.resolve("latin1.csv");
        Files.write(p, new byte[] {'a', ',', 'l', '\n', '1', ',', 'x', '\n', '2', ',', (byte) 0xE9, '\n'});
        assertError(p, () -> Csv.classification(p, "l"), 3, null, "not valid UTF-8 at byte offset 10");
        // far into a file, after the reader has decoded ahead
        StringBuilder sb = new StringBuilder("a,l\n");
        for (int i = 0; i < 20000; i++) {
            sb.append(i).append(",x\n");
        }
        byte[] head = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] bytes = java.util.Arrays.copyOf(head, head.length + 4);
        bytes[head.length] = '7';
        bytes[head.length + 1] = ',';
        bytes[head.length + 2] = (byte) 0xFF;
        bytes[head.length + 3] = '\n';
        Path far = dir.resolve("far.csv");
        Files.write(far, bytes);
        assertError(far, () -> Csv.classification(far, "l"), 20002, null,
                "not valid UTF-8 at byte offset " + (head.length + 2));
        Path missing = dir.resolve("missing.csv");
        DataException m = assertThrows(DataException.class, () -> Csv.regression(missing, 0));
        assertTrue(m.getMessage().contains(missing + ": no such file"), m.getMessage());
    }

    @Test
    void readLikeUsesTheTrainingClasses() throws IOException {
        Csv.Table train = Csv.classification(csv("train.csv", IRIS), "species");
        Path test = csv("test.csv", "sepal_length,sepal_width,species,petal_length\n"
                + "5.0,3.0,virginica,5.5\n6.0,2.9,setosa,1.5\n");
        Csv.Table t = Csv.readLike(test, train);
        assertEquals(train.classes(), t.classes());
        assertArrayEquals(new long[] {2, 0}, t.dataset().targets().toLongArray(), "indices of the training classes");

        Path unseen = csv("unseen.csv", "sepal_length,sepal_width,species,petal_length\n"
                + "5.0,3.0,virginica,5.5\n6.0,2.9,rosa,1.5\n");
        assertError(unseen, () -> Csv.readLike(unseen, train), 3, "species",
                "label \"rosa\" is not one of the 3 classes of the training data: \"setosa\", \"versicolor\","
                        + " \"virginica\"");

        Path reordered = csv("reordered.csv", "sepal_width,sepal_length,species,petal_length\n3,5,setosa,1\n");
        assertError(reordered, () -> Csv.readLike(reordered, train), 1, null,
                "expected the feature columns [sepal_length, sepal_width, petal_length]");
    }

    @Test
    void readLikeMatchesNumericClassesByValue() throws IOException {
        Csv.Table train = Csv.classification(csv("train.csv", "x,y\n1,0\n2,1\n3,2\n"), "y");
        Csv.Table test = Csv.readLike(csv("test.csv", "x,y\n1,2.0\n2,0\n"), train);
        assertArrayEquals(new long[] {2, 0}, test.dataset().targets().toLongArray());
        Csv.Table regression = Csv.regression(csv("r.csv", "x,y\n1,0.5\n"), "y");
        Csv.Table r2 = Csv.readLike(csv("r2.csv", "x,y\n2,1.5\n"), regression);
        assertArrayEquals(new float[] {1.5f}, r2.dataset().targets().toFloatArray());
        assertNull(assertThrows(DataException.class, () -> Csv.readLike(csv("r3.csv", "x,z\n2,1.5\n"), regression))
                .column());
    }

    @Test
    void manyRowsGrowTheBuffers() throws IOException {
        StringBuilder sb = new StringBuilder("a,b,c,label\n");
        for (int i = 0; i < 5000; i++) {
            sb.append(i).append(',').append(-i).append(',').append(i * 0.5).append(',').append(i % 3).append('\n');
        }
        Csv.Table t = Csv.classification(csv("big.csv", sb.toString()), "label");
        assertEquals(5000, t.dataset().size());
        assertArrayEquals(new float[] {4999, -4999, 2499.5f}, t.dataset().example(4999).inputs().toFloatArray());
        assertEquals(1L, t.dataset().targets().getLong(4999));
    }
}
