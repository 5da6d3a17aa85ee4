package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class DataLoaderTest {

    /** N examples; example i has features [i, -i, 0.5 i] and target i. */
    static TensorDataset indexed(int n) {
        float[] x = new float[n * 3];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            x[3 * i] = i;
            x[3 * i + 1] = -i;
            x[3 * i + 2] = 0.5f * i;
            y[i] = i;
        }
        return new TensorDataset(Tensor.of(x, n, 3), Tensor.ofLongs(y, n));
    }

    /** A snapshot of a batch that does not depend on object identity. */
    record Snap(int epoch, int index, List<Float> inputs, List<Long> targets) {
        static Snap of(Batch b) {
            List<Float> in = new ArrayList<>();
            for (float v : b.inputs().toFloatArray()) {
                in.add(v);
            }
            List<Long> t = new ArrayList<>();
            for (long v : b.targets().toLongArray()) {
                t.add(v);
            }
            return new Snap(b.epoch(), b.index(), in, t);
        }
    }

    static List<Snap> run(DataLoader loader, int epochs) {
        List<Snap> out = new ArrayList<>();
        while (loader.position().epoch() < epochs) {
            for (Batch b : loader) {
                out.add(Snap.of(b));
            }
        }
        return out;
    }

    static DataLoader.Builder shuffled(TensorDataset d, long seed) {
        return DataLoader.builder(d).batchSize(7).shuffle(true).seed(seed);
    }

    @Test
    void sameSeedGivesTheSameBatchesAndEpochsDiffer() {
        TensorDataset d = indexed(50);
        List<Snap> a = run(shuffled(d, 42).build(), 3);
        List<Snap> b = run(shuffled(d, 42).build(), 3);
        assertEquals(a, b);
        assertEquals(3 * 8, a.size());
        assertNotEquals(a, run(shuffled(d, 43).build(), 3), "another seed, another order");
        DataLoader loader = shuffled(d, 42).build();
        assertFalse(Arrays.equals(loader.order(0), loader.order(1)), "each epoch has its own permutation");
        assertFalse(Arrays.equals(loader.order(1), loader.order(2)));
    }

    @Test
    void everyExampleExactlyOncePerEpoch() {
        TensorDataset d = indexed(103);
        DataLoader loader = shuffled(d, 5).build();
        assertEquals(15, loader.numBatches());
        for (int epoch = 0; epoch < 3; epoch++) {
            int[] seen = new int[103];
            int batches = 0;
            for (Batch b : loader.epoch(epoch)) {
                assertEquals(epoch, b.epoch());
                assertEquals(batches++, b.index());
                assertEquals(b.index() < 14 ? 7 : 103 - 14 * 7, b.size());
                float[] x = b.inputs().toFloatArray();
                long[] y = b.targets().toLongArray();
                for (int k = 0; k < y.length; k++) {
                    seen[(int) y[k]]++;
                    assertEquals(y[k], (long) x[3 * k], "inputs and targets stay paired");
                    assertEquals(-y[k], (long) x[3 * k + 1]);
                }
            }
            assertEquals(15, batches);
            for (int i = 0; i < 103; i++) {
                assertEquals(1, seen[i], "example " + i + " in epoch " + epoch);
            }
        }
    }

    @Test
    void dropLastLeavesOutTheShortBatch() {
        TensorDataset d = indexed(103);
        DataLoader loader = shuffled(d, 5).dropLast(true).build();
        assertEquals(14, loader.numBatches());
        Set<Long> seen = ConcurrentHashMap.newKeySet();
        int batches = 0;
        for (Batch b : loader) {
            assertEquals(7, b.size());
            for (long y : b.targets().toLongArray()) {
                assertTrue(seen.add(y), "example " + y + " twice");
            }
            batches++;
        }
        assertEquals(14, batches);
        assertEquals(98, seen.size());
        assertEquals(new DataLoader.Position(1, 0), loader.position());
        // the dropped examples differ between epochs: they are the tail of each epoch's permutation
        int[] o0 = loader.order(0);
        int[] o1 = loader.order(1);
        assertFalse(Arrays.equals(Arrays.copyOfRange(o0, 98, 103), Arrays.copyOfRange(o1, 98, 103)));
    }

    @Test
    void batchCounts() {
        assertEquals(4, DataLoader.builder(indexed(10)).batchSize(3).build().numBatches());
        assertEquals(3, DataLoader.builder(indexed(10)).batchSize(3).dropLast(true).build().numBatches());
        assertEquals(2, DataLoader.builder(indexed(10)).batchSize(5).dropLast(true).build().numBatches());
        assertEquals(1, DataLoader.builder(indexed(10)).batchSize(100).build().numBatches());
        assertEquals(0, DataLoader.builder(indexed(10)).batchSize(100).dropLast(true).build().numBatches());
        DataLoader empty = DataLoader.builder(indexed(0)).batchSize(4).shuffle(true).build();
        assertEquals(0, empty.numBatches());
        assertEquals(List.of(), run(empty, 3), "no batches, but the epochs still advance");
        assertEquals(new DataLoader.Position(3, 0), empty.position());
    }

    @Test
    void aCustomOrderMakesTheBatchesAndMustBeAPermutation() {
        DataLoader reversed = DataLoader.builder(indexed(5)).batchSize(2)
                .order((size, batchSize, epoch, gen) -> new int[] {4, 3, 2, 1, 0}).build();
        List<Snap> snaps = run(reversed, 1);
        assertEquals(List.of(4L, 3L), snaps.get(0).targets());
        assertEquals(List.of(0L), snaps.get(2).targets());
        DataLoader repeated = DataLoader.builder(indexed(3)).batchSize(2)
                .order((size, batchSize, epoch, gen) -> new int[] {0, 0, 1}).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> repeated.order(0));
        assertTrue(e.getMessage().contains("not a permutation of 0..2: index 0 at 1 is out of range or repeated"),
                e.getMessage());
        DataLoader shortOrder = DataLoader.builder(indexed(3)).batchSize(2)
                .order((size, batchSize, epoch, gen) -> new int[] {0, 1}).build();
        assertThrows(IllegalStateException.class, () -> shortOrder.order(0));
    }

    @Test
    void withoutShuffleTheOrderIsTheDatasetOrder() {
        DataLoader loader = DataLoader.builder(indexed(10)).batchSize(4).build();
        List<Snap> snaps = run(loader, 2);
        assertEquals(List.of(0L, 1L, 2L, 3L), snaps.get(0).targets());
        assertEquals(List.of(8L, 9L), snaps.get(2).targets());
        assertEquals(snaps.subList(0, 3).stream().map(Snap::targets).toList(),
                snaps.subList(3, 6).stream().map(Snap::targets).toList());
    }

    @Test
    void seekReproducesTheRestOfTheRun() {
        TensorDataset d = indexed(60);
        BatchTransform noise = (b, gen) -> b.withInputs(b.inputs().add(Tensor.randn(gen, b.inputs().shape())));
        List<Snap> full = run(shuffled(d, 9).transform(noise).build(), 4); // 9 batches an epoch
        for (int epoch = 0; epoch < 4; epoch++) {
            for (int batch = 0; batch <= 9; batch += 3) {
                DataLoader resumed = shuffled(d, 9).transform(noise).build();
                resumed.seek(epoch, batch);
                List<Snap> rest = run(resumed, 4);
                assertEquals(full.subList(epoch * 9 + batch, full.size()), rest, "resumed at " + epoch + ", " + batch);
            }
        }
    }

    @Test
    void positionSavedMidEpochResumesExactly() {
        TensorDataset d = indexed(60);
        DataLoader original = shuffled(d, 3).build();
        List<Snap> seen = new ArrayList<>();
        DataLoader.Position saved = null;
        outer:
        while (original.position().epoch() < 3) {
            for (Batch b : original) {
                seen.add(Snap.of(b));
                if (b.epoch() == 1 && b.index() == 4) {
                    saved = original.position();
                    break outer; // "the process stops" after saving a checkpoint
                }
            }
        }
        assertEquals(new DataLoader.Position(1, 5), saved);
        DataLoader resumed = shuffled(d, 3).build();
        resumed.seek(saved);
        seen.addAll(run(resumed, 3));
        assertEquals(run(shuffled(d, 3).build(), 3), seen);
    }

    @Test
    void positionMovesAlongAndWrapsToTheNextEpoch() {
        DataLoader loader = DataLoader.builder(indexed(10)).batchSize(4).build();
        assertEquals(new DataLoader.Position(0, 0), loader.position());
        Iterator<Batch> it = loader.iterator();
        it.next();
        assertEquals(new DataLoader.Position(0, 1), loader.position());
        it.next();
        it.next();
        assertEquals(new DataLoader.Position(1, 0), loader.position(), "after the last batch: the next epoch");
        assertFalse(it.hasNext());
        assertThrows(NoSuchElementException.class, it::next);
        loader.seek(4, 3);
        assertEquals(new DataLoader.Position(5, 0), loader.position(), "the end of epoch 4 is the start of 5");
        assertThrows(IllegalArgumentException.class, () -> loader.seek(0, 4));
        assertThrows(IllegalArgumentException.class, () -> loader.seek(-1, 0));
    }

    @Test
    void epochIterableSeeksToItsStart() {
        DataLoader loader = shuffled(indexed(30), 1).build();
        loader.seek(7, 2);
        List<Snap> epoch2 = new ArrayList<>();
        for (Batch b : loader.epoch(2)) {
            epoch2.add(Snap.of(b));
        }
        assertEquals(5, epoch2.size());
        assertEquals(2, epoch2.get(0).epoch());
        assertEquals(0, epoch2.get(0).index());
        assertEquals(new DataLoader.Position(3, 0), loader.position());
        assertEquals(Snap.of(loader.batch(2, 3)), epoch2.get(3), "random access gives the same batch");
    }

    @Test
    void prefetchOnAndOffGiveIdenticalBatches() {
        TensorDataset d = indexed(200);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        BatchTransform recordThread = (b, gen) -> {
            threads.add(Thread.currentThread().getName());
            return b.withInputs(b.inputs().mul((float) gen.nextDouble()));
        };
        List<Snap> sync = run(shuffled(d, 11).prefetch(0).transform(recordThread).build(), 3);
        assertEquals(Set.of(Thread.currentThread().getName()), threads, "prefetch 0 builds on the caller's thread");
        threads.clear();
        for (int depth : new int[] {1, 2, 5, 100}) {
            assertEquals(sync, run(shuffled(d, 11).prefetch(depth).transform(recordThread).build(), 3),
                    "prefetch " + depth);
        }
        assertEquals(Set.of("backprop-data-prefetch"), threads, "prefetch builds on the background thread");
    }

    @Test
    void prefetchOverlapsTheNextBatchWithTheCaller() throws Exception {
        TensorDataset d = indexed(40);
        Set<Integer> built = ConcurrentHashMap.newKeySet();
        BatchTransform record = (b, gen) -> {
            built.add(b.index());
            return b;
        };
        DataLoader loader = DataLoader.builder(d).batchSize(10).prefetch(2).transform(record).build();
        Iterator<Batch> it = loader.iterator();
        it.next(); // batch 0; batches 1 and 2 are being built in the background
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (built.size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(Set.of(0, 1, 2), built, "two batches ahead, no more");
    }

    @Test
    void anExceptionWhileBuildingABatchReachesTheCaller() {
        TensorDataset d = indexed(20);
        BatchTransform failing = (b, gen) -> {
            if (b.index() == 2) {
                throw new IllegalStateException("augmentation failed on batch 2");
            }
            return b;
        };
        for (int prefetch : new int[] {0, 2}) {
            DataLoader loader = DataLoader.builder(d).batchSize(5).prefetch(prefetch).transform(failing).build();
            Iterator<Batch> it = loader.iterator();
            it.next();
            it.next();
            IllegalStateException e = assertThrows(IllegalStateException.class, it::next);
            assertEquals("augmentation failed on batch 2", e.getMessage());
            assertEquals(new DataLoader.Position(0, 2), loader.position(), "the failed batch is still next");
        }
    }

    @Test
    void seekingEndsTheCurrentIteration() {
        DataLoader loader = shuffled(indexed(50), 2).build();
        Iterator<Batch> it = loader.iterator();
        it.next();
        loader.seek(0, 0);
        assertThrows(ConcurrentModificationException.class, it::hasNext);
        Iterator<Batch> second = loader.iterator();
        Iterator<Batch> third = loader.iterator();
        assertThrows(ConcurrentModificationException.class, second::next);
        assertEquals(0, third.next().index());
    }

    @Test
    void transformSeesBatchPositionAndPerBatchGenerator() {
        TensorDataset d = indexed(20);
        BatchTransform draw = (b, gen) -> b.withInputs(Tensor.full((float) gen.nextDouble(), b.inputs().shape()));
        DataLoader a = DataLoader.builder(d).batchSize(5).seed(1).transform(draw).build();
        DataLoader b = DataLoader.builder(d).batchSize(5).seed(1).transform(draw).build();
        DataLoader c = DataLoader.builder(d).batchSize(5).seed(2).transform(draw).build();
        float first = a.batch(0, 0).inputs().get(0, 0);
        assertEquals(first, b.batch(0, 0).inputs().get(0, 0));
        assertNotEquals(first, a.batch(0, 1).inputs().get(0, 0), "another batch, another draw");
        assertNotEquals(first, a.batch(1, 0).inputs().get(0, 0), "another epoch, another draw");
        assertNotEquals(first, c.batch(0, 0).inputs().get(0, 0), "another seed, another draw");
    }

    @Test
    void batchesAreCopiesNotViews() {
        TensorDataset d = indexed(10);
        DataLoader loader = DataLoader.builder(d).batchSize(4).build();
        Batch b = loader.batch(0, 0);
        assertFalse(b.inputs().sharesStorageWith(d.features()));
        b.inputs().fill(99);
        assertEquals(1f, d.features().get(1, 0), "writing into a batch leaves the data set alone");
    }

    @Test
    void builderRejectsBadSettings() {
        TensorDataset d = indexed(10);
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(d).batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(d).prefetch(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> DataLoader.builder(d).batchSize(3).build().batch(0, 4));
        DataLoader loader = new DataLoader(d, 3, true, 7);
        assertSame(d, loader.dataset());
        assertEquals(4, loader.numBatches());
        assertTrue(loader.toString().contains("batch size 3"), loader.toString());
    }

    @Test
    void loaderWorksOverSubsets() {
        TensorDataset d = indexed(40);
        List<Subset> parts = Datasets.randomSplit(d, new int[] {30, 10}, new Generator(0));
        Set<Long> seen = ConcurrentHashMap.newKeySet();
        for (Batch b : DataLoader.builder(parts.get(1)).batchSize(3).shuffle(true).build()) {
            for (long y : b.targets().toLongArray()) {
                seen.add(y);
            }
        }
        Set<Long> expected = ConcurrentHashMap.newKeySet();
        for (int i : parts.get(1).indices()) {
            expected.add((long) i);
        }
        assertEquals(expected, seen);
    }
}
