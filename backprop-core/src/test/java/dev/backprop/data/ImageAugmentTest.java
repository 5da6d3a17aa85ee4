package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ImageAugmentTest {

    /** N images (N, 1, 4, 5) whose pixel (y, x) of image i is 100 i + 10 y + x + 1 (never 0). */
    static Tensor images(int n) {
        float[] v = new float[n * 20];
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 5; x++) {
                    v[i * 20 + y * 5 + x] = 100 * i + 10 * y + x + 1;
                }
            }
        }
        return Tensor.of(v, n, 1, 4, 5);
    }

    @Test
    void flipMirrorsSomeImagesAndLeavesTheOthers() {
        Tensor in = images(64);
        Tensor out = ImageAugment.randomHorizontalFlip()
                .apply(Batch.of(in, Tensor.zeros(64)), new Generator(1)).inputs();
        int flipped = 0;
        for (int i = 0; i < 64; i++) {
            boolean same = true;
            boolean mirrored = true;
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 5; x++) {
                    float o = out.get(i, 0, y, x);
                    same &= o == in.get(i, 0, y, x);
                    mirrored &= o == in.get(i, 0, y, 4 - x);
                }
            }
            assertTrue(same || mirrored, "image " + i + " is neither the original nor its mirror");
            flipped += mirrored ? 1 : 0;
        }
        assertTrue(flipped > 16 && flipped < 48, "about half flipped, got " + flipped);
    }

    @Test
    void cropShiftsWithinThePaddingAndFillsZeros() {
        Tensor in = images(50);
        Tensor out = ImageAugment.randomCrop(2).apply(Batch.of(in, Tensor.zeros(50)), new Generator(7)).inputs();
        boolean sawShift = false;
        for (int i = 0; i < 50; i++) {
            // find the shift: the source pixel of out(i, 0, 1..2, 2) tells dy, dx
            int[] shift = null;
            for (int dy = -2; dy <= 2 && shift == null; dy++) {
                for (int dx = -2; dx <= 2 && shift == null; dx++) {
                    boolean ok = true;
                    for (int y = 0; y < 4; y++) {
                        for (int x = 0; x < 5; x++) {
                            int sy = y + dy;
                            int sx = x + dx;
                            float expected = sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? in.get(i, 0, sy, sx) : 0f;
                            ok &= out.get(i, 0, y, x) == expected;
                        }
                    }
                    if (ok) {
                        shift = new int[] {dy, dx};
                    }
                }
            }
            assertTrue(shift != null, "image " + i + " is not a shifted copy within the padding");
            sawShift |= shift[0] != 0 || shift[1] != 0;
        }
        assertTrue(sawShift);
    }

    @Test
    void deterministicAndDoesNotTouchTheInput() {
        Tensor in = images(8);
        float[] before = in.toFloatArray();
        BatchTransform t = ImageAugment.randomCropFlip(1);
        Tensor a = t.apply(Batch.of(in, Tensor.zeros(8)), new Generator(5)).inputs();
        Tensor b = t.apply(Batch.of(in, Tensor.zeros(8)), new Generator(5)).inputs();
        assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        assertArrayEquals(before, in.toFloatArray());
        assertArrayEquals(in.shape(), a.shape());
    }

    @Test
    void worksOnThreeDimensionalBatchesAndKeepsTargets() {
        Tensor in = images(3).reshape(3, 4, 5);
        Tensor targets = Tensor.ofLongs(new long[] {1, 2, 3}, 3);
        Batch out = ImageAugment.randomCropFlip(0).apply(new Batch(in, targets, 2, 5), new Generator(1));
        assertArrayEquals(new int[] {3, 4, 5}, out.inputs().shape());
        assertEquals(targets, out.targets());
        assertEquals(2, out.epoch());
        assertEquals(5, out.index());
    }

    @Test
    void refusesWrongInputs() {
        assertThrows(IllegalArgumentException.class, () -> ImageAugment.randomCrop(-1));
        assertThrows(IllegalArgumentException.class, () -> ImageAugment.randomCropFlip(1)
                .apply(Batch.of(Tensor.zeros(2, 3), Tensor.zeros(2)), new Generator(0)));
    }

    @Test
    void inALoaderTheAugmentationDependsOnlyOnSeedAndPosition() {
        TensorDataset d = new TensorDataset(images(20), Tensor.ofLongs(new long[20], 20));
        DataLoader a = DataLoader.builder(d).batchSize(4).shuffle(true).seed(3)
                .transform(ImageAugment.randomCropFlip(2)).build();
        DataLoader b = DataLoader.builder(d).batchSize(4).shuffle(true).seed(3).prefetch(0)
                .transform(ImageAugment.randomCropFlip(2)).build();
        for (Batch x : a.epoch(1)) {
            assertArrayEquals(b.batch(1, x.index()).inputs().toFloatArray(), x.inputs().toFloatArray());
        }
    }
}
