package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    @Test
    void loadsTheInstalledDataSet() {
        assumeTrue(FashionMnist.isAvailable(null), "Fashion-MNIST is not installed in " + FashionMnist.DEFAULT_DIR
                + " (sudo apt-get install dataset-fashion-mnist); skipping");
        long t0 = System.nanoTime();
        TrainTest data = FashionMnist.load();
        double seconds = (System.nanoTime() - t0) / 1e9;
        check(data.train(), 60000, 6000);
        check(data.test(), 10000, 1000);
        System.out.printf("Fashion-MNIST loaded in %.2f s%n", seconds);
    }

    private static void check(TensorDataset d, int n, int perClass) {
        assertEquals(n, d.size());
        assertArrayEquals(new int[] {n, 1, 28, 28}, d.features().shape());
        assertArrayEquals(new int[] {1, 28, 28}, d.inputShape());
        assertEquals(10, d.numClasses());
        int[] counts = new int[10];
        for (long y : d.targets().toLongArray()) {
            assertTrue(y >= 0 && y < 10, "label " + y);
            counts[(int) y]++;
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(perClass, counts[c], "examples of class " + FashionMnist.CLASSES.get(c));
        }
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        double sum = 0;
        for (float v : d.features().floatStorage()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
        assertEquals(FashionMnist.MEAN, sum / d.features().numel(), 0.01);
    }

    @Test
    void aMissingDirectorySaysHowToGetTheData(@TempDir Path dir) {
        Path nowhere = dir.resolve("no-such-dir");
        assertFalse(FashionMnist.isAvailable(nowhere));
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(nowhere));
        String m = e.getMessage();
        assertTrue(m.contains(nowhere.toString()), m);
        assertTrue(m.contains("apt-get install dataset-fashion-mnist"), m);
        assertTrue(m.contains("--data DIR"), m);
        assertTrue(m.contains("train-images-idx3-ubyte.gz") && m.contains("t10k-labels-idx1-ubyte.gz"), m);
        assertTrue(m.contains("does not exist"), m);
    }

    @Test
    void aPartialDirectoryListsWhatIsMissing(@TempDir Path dir) throws IOException {
        writeSplit(dir, "train", 4, 4, 0);
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains("missing t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz"),
                e.getMessage());
        assertFalse(e.getMessage().contains("missing train"), e.getMessage());
    }

    @Test
    void loadsPlainAndGzippedFilesFromADirectory(@TempDir Path dir) throws IOException {
        writeSplit(dir, "train", 6, 6, 0);
        writeSplit(dir, "t10k", 3, 3, 0);
        Path gz = dir.resolve("t10k-images-idx3-ubyte.gz");
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), gunzip(gz)); // one file uncompressed
        Files.delete(gz);
        TrainTest data = FashionMnist.load(dir);
        assertEquals(6, data.train().size());
        assertEquals(3, data.test().size());
        assertArrayEquals(new int[] {3, 1, 28, 28}, data.test().features().shape());
    }

    @Test
    void imagesAndLabelsOfDifferentCountsAreRefused(@TempDir Path dir) throws IOException {
        writeSplit(dir, "train", 5, 4, 0);
        writeSplit(dir, "t10k", 2, 2, 0);
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        String m = e.getMessage();
        assertTrue(m.contains("train-images-idx3-ubyte.gz has 5 images"), m);
        assertTrue(m.contains("train-labels-idx1-ubyte.gz has 4 labels"), m);
    }

    @Test
    void labelsOutsideTheTenClassesAreRefused(@TempDir Path dir) throws IOException {
        writeSplit(dir, "train", 3, 3, 10);
        writeSplit(dir, "t10k", 2, 2, 0);
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains("train-labels-idx1-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains("is 10, expected a class index in 0..9"), e.getMessage());
    }

    /** Writes gzipped {prefix}-images/labels files with the given counts; the last label is {@code lastLabel}. */
    static void writeSplit(Path dir, String prefix, int images, int labels, int lastLabel) {
        Idx.write(dir.resolve(prefix + "-images-idx3-ubyte.gz"),
                Tensor.ofBytes(new byte[images * 784], images, 28, 28));
        long[] l = new long[labels];
        for (int i = 0; i < labels; i++) {
            l[i] = i % 10;
        }
        if (labels > 0 && lastLabel != 0) {
            l[labels - 1] = lastLabel;
        }
        Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), Tensor.ofLongs(l, labels), Idx.Type.UBYTE);
    }

    private static byte[] gunzip(Path p) throws IOException {
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(p))) {
            return in.readAllBytes();
        }
    }
}
