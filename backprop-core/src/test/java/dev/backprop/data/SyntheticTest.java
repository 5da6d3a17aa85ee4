package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Generator;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyntheticTest {

    @Test
    void sameSeedSameImages() {
        TrainTest a = Synthetic.trainTest(300, 50, 7);
        TrainTest b = Synthetic.trainTest(300, 50, 7);
        assertArrayEquals(a.train().features().floatStorage(), b.train().features().floatStorage());
        assertArrayEquals(a.train().targets().longStorage(), b.train().targets().longStorage());
        assertArrayEquals(a.test().features().floatStorage(), b.test().features().floatStorage());
        TrainTest c = Synthetic.trainTest(300, 50, 8);
        assertFalse(Arrays.equals(a.train().features().floatStorage(), c.train().features().floatStorage()));
        assertArrayEquals(a.train().features().floatStorage(), Synthetic.generate(300, 7).features().floatStorage());
    }

    @Test
    void trainAndTestAreDifferentDraws() {
        TrainTest t = Synthetic.trainTest(100, 100, 1);
        assertFalse(Arrays.equals(t.train().features().floatStorage(), t.test().features().floatStorage()));
    }

    @Test
    void parallelGenerationIsRepeatable() {
        // images are drawn on several threads; each has its own generator, so the order of work does not matter
        for (int run = 0; run < 3; run++) {
            assertArrayEquals(Synthetic.generate(2000, 3).features().floatStorage(),
                    Synthetic.generate(2000, 3).features().floatStorage());
        }
    }

    @Test
    void classesAreBalancedShapesAndRangesRight() {
        TensorDataset d = Synthetic.generate(1005, 11);
        assertArrayEquals(new int[] {1005, 1, 28, 28}, d.features().shape());
        assertEquals(10, d.numClasses());
        int[] counts = new int[10];
        for (long y : d.targets().toLongArray()) {
            counts[(int) y]++;
        }
        for (int c = 0; c < 10; c++) {
            assertTrue(counts[c] == 100 || counts[c] == 101, Synthetic.CLASSES.get(c) + ": " + counts[c]);
        }
        long[] y = d.targets().toLongArray();
        assertFalse(y[0] == 0 && y[1] == 1 && y[2] == 2 && y[3] == 3, "labels are in random order");
        for (float v : d.features().floatStorage()) {
            assertTrue(v >= 0 && v <= 1, "pixel " + v);
        }
    }

    @Test
    void everyClassDrawsSomethingVisible() {
        for (int c = 0; c < 10; c++) {
            float[] img = new float[28 * 28];
            Synthetic.draw(c, new Generator(c), img, 0);
            float min = 1;
            float max = 0;
            for (float v : img) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertTrue(max - min > 0.3, Synthetic.CLASSES.get(c) + ": contrast " + (max - min));
        }
    }

    @Test
    void theDefaultSizeIsQuickToGenerate() {
        Synthetic.trainTest(500, 100, 0); // warm up
        long t0 = System.nanoTime();
        TrainTest t = Synthetic.trainTest(1);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(12_000, t.train().size());
        assertEquals(2_000, t.test().size());
        System.out.printf("Synthetic: 12,000 + 2,000 images in %.2f s%n", seconds);
        assertTrue(seconds < 10, "took " + seconds + " s"); // ~0.5 s here; loose for loaded CI machines
    }
}
