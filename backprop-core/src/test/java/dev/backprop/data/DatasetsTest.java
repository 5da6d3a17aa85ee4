package dev.backprop.data;

import static dev.backprop.data.DataLoaderTest.indexed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** TensorDataset, Subset, Datasets.permutation and randomSplit. */
class DatasetsTest {

    @Test
    void getGathersRowsInTheRequestedOrder() {
        TensorDataset d = indexed(10);
        Batch b = d.get(new int[] {7, 2, 2, 9});
        assertArrayEquals(new int[] {4, 3}, b.inputs().shape());
        assertArrayEquals(new float[] {7, -7, 3.5f, 2, -2, 1, 2, -2, 1, 9, -9, 4.5f}, b.inputs().toFloatArray());
        assertArrayEquals(new long[] {7, 2, 2, 9}, b.targets().toLongArray());
        assertEquals(-1, b.epoch());
        assertEquals(-1, b.index());
        assertThrows(IndexOutOfBoundsException.class, () -> d.get(new int[] {10}));
        assertThrows(IndexOutOfBoundsException.class, () -> d.get(new int[] {-1}));
    }

    @Test
    void rangeAndExampleAreViews() {
        TensorDataset d = indexed(10);
        Batch r = d.range(3, 6);
        assertTrue(r.inputs().sharesStorageWith(d.features()));
        assertArrayEquals(new long[] {3, 4, 5}, r.targets().toLongArray());
        assertArrayEquals(new float[] {4, -4, 2}, d.example(4).inputs().toFloatArray());
        assertEquals(10, d.all().size());
        assertThrows(IndexOutOfBoundsException.class, () -> d.range(5, 11));
    }

    @Test
    void multiDimensionalFeaturesAndOtherDtypes() {
        float[] x = new float[5 * 2 * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        TensorDataset images = new TensorDataset(Tensor.of(x, 5, 2, 3),
                Tensor.of(new float[] {0, .1f, .2f, .3f, .4f}, 5));
        assertArrayEquals(new int[] {2, 3}, images.inputShape());
        Batch b = images.get(new int[] {4, 0});
        assertArrayEquals(new int[] {2, 2, 3}, b.inputs().shape());
        assertEquals(24f, b.inputs().get(0, 0, 0));
        assertArrayEquals(new float[] {.4f, 0}, b.targets().toFloatArray());

        TensorDataset bytes = new TensorDataset(Tensor.ofBytes(new byte[] {1, 2, 3, 4}, 2, 2),
                Tensor.ofLongs(new long[] {0, 1}, 2));
        assertEquals(DType.UINT8, bytes.get(new int[] {1}).inputs().dtype());
        assertArrayEquals(new byte[] {3, 4}, bytes.get(new int[] {1}).inputs().toByteArray());
    }

    @Test
    void nonContiguousTensorsAreCopiedOnce() {
        Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 2, 3).transpose(0, 1); // (3, 2) view
        TensorDataset d = new TensorDataset(t, Tensor.ofLongs(new long[] {0, 1, 2}, 3));
        assertArrayEquals(new float[] {1, 4}, d.get(new int[] {1}).inputs().toFloatArray());
        assertTrue(d.features().isContiguous());
    }

    @Test
    void mismatchedOrBadTensorsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TensorDataset(Tensor.zeros(4, 2), Tensor.ofLongs(new long[3], 3)));
        assertTrue(e.getMessage().contains("4 examples but targets have 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new TensorDataset(Tensor.zeros(4, 2), Tensor.ofBools(new boolean[4], 4)));
        assertThrows(IllegalArgumentException.class, () -> new TensorDataset(Tensor.scalar(1), Tensor.scalar(1)));
    }

    @Test
    void numClasses() {
        assertEquals(10, indexed(10).numClasses());
        TensorDataset regression = new TensorDataset(Tensor.zeros(2, 1), Tensor.zeros(2));
        assertThrows(IllegalStateException.class, regression::numClasses);
    }

    @Test
    void permutationIsAPermutationAndDeterministic() {
        int[] p = Datasets.permutation(1000, new Generator(3));
        assertArrayEquals(p, Datasets.permutation(1000, new Generator(3)));
        assertFalse(Arrays.equals(p, Datasets.permutation(1000, new Generator(4))));
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        assertEquals(0, Datasets.permutation(0, new Generator(1)).length);
    }

    @Test
    void randomSplitBySizes() {
        TensorDataset d = indexed(100);
        List<Subset> parts = Datasets.randomSplit(d, new int[] {70, 20, 10}, new Generator(42));
        assertEquals(List.of(70, 20, 10), parts.stream().map(Subset::size).toList());
        Set<Integer> all = new HashSet<>();
        for (Subset s : parts) {
            for (int i : s.indices()) {
                assertTrue(all.add(i), "index " + i + " in two subsets");
            }
        }
        assertEquals(100, all.size());
        List<Subset> again = Datasets.randomSplit(d, new int[] {70, 20, 10}, new Generator(42));
        assertEquals(parts, again, "same seed, same split");
        assertNotEquals(parts, Datasets.randomSplit(d, new int[] {70, 20, 10}, new Generator(43)));
        // a subset reads through to the data set
        Subset val = parts.get(1);
        Batch b = val.get(new int[] {0, 5});
        assertArrayEquals(new long[] {val.indices()[0], val.indices()[5]}, b.targets().toLongArray());
        assertArrayEquals(new int[] {3}, val.inputShape());
        assertEquals(20, val.all().size());
        assertThrows(IndexOutOfBoundsException.class, () -> val.get(new int[] {20}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Datasets.randomSplit(d, new int[] {70, 20}, new Generator(0)));
        assertTrue(e.getMessage().contains("add up to 90 but the data set has 100"), e.getMessage());
    }

    @Test
    void randomSplitByFractionsFollowsPyTorch() {
        // torch.utils.data.random_split: floor(n * f), remainder dealt round-robin from the first
        assertArrayEquals(new int[] {3, 3, 4}, Datasets.lengths(10, new double[] {0.3, 0.3, 0.4}));
        assertArrayEquals(new int[] {6, 5}, Datasets.lengths(11, new double[] {0.5, 0.5}));
        assertArrayEquals(new int[] {34, 33, 33}, Datasets.lengths(100, new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}));
        assertArrayEquals(new int[] {54000, 6000}, Datasets.lengths(60000, new double[] {0.9, 0.1}));
        List<Subset> parts = Datasets.randomSplit(indexed(11), new double[] {0.8, 0.2}, new Generator(1));
        assertEquals(List.of(9, 2), parts.stream().map(Subset::size).toList());
        assertThrows(IllegalArgumentException.class, () -> Datasets.lengths(10, new double[] {0.5, 0.4}));
        assertThrows(IllegalArgumentException.class, () -> Datasets.lengths(10, new double[] {1.5, -0.5}));
    }

    @Test
    void subsetOfSubset() {
        TensorDataset d = indexed(10);
        Subset outer = new Subset(d, new int[] {9, 8, 7, 6});
        Subset inner = new Subset(outer, new int[] {3, 0});
        assertArrayEquals(new long[] {6, 9}, inner.all().targets().toLongArray());
        assertThrows(IndexOutOfBoundsException.class, () -> new Subset(d, new int[] {10}));
    }
}
