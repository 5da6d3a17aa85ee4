package dev.backprop.data;

import dev.backprop.autograd.GradMode;
import dev.backprop.tensor.Generator;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Cuts a {@link Dataset} into batches, epoch after epoch, like PyTorch's {@code DataLoader}, with
 * exact resumption.
 *
 * <pre>{@code
 * DataLoader loader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(42)
 *         .transform(ImageAugment.randomCropFlip(2)).build();
 * loader.seek(checkpoint.epoch(), checkpoint.batch());     // or start at (0, 0)
 * while (loader.position().epoch() < epochs) {
 *     for (Batch batch : loader) {                          // the rest of the current epoch
 *         step(batch.inputs(), batch.targets());
 *         if (timeToSave) save(loader.position());          // the next batch to train on
 *     }
 * }
 * }</pre>
 *
 * <h2>Determinism</h2>
 *
 * Every batch is a pure function of (seed, epoch, batch index): the order of epoch {@code e} is a
 * permutation drawn from a generator seeded with a hash of the seed and {@code e} (the identity
 * without shuffling), and the transform's generator is seeded with a hash of the seed, {@code e}
 * and the batch index. So the same seed gives the same batches in every run, a run resumed with
 * {@link #seek} continues with exactly the batches the original run would have seen, and batches
 * built ahead on the prefetch thread are identical to batches built on demand.
 *
 * <h2>Prefetching</h2>
 *
 * With {@code prefetch(k)}, k &gt; 0 (the default is 2), the next k batches of the current epoch
 * are gathered and transformed on a daemon thread while the caller trains on the current one. The
 * thread is started on first use and stops by itself after a few idle seconds; there is nothing to
 * close. An exception thrown while building a batch is rethrown by {@code next()} for that batch.
 *
 * <h2>Position</h2>
 *
 * {@link #position()} is the next batch the loader will hand out: {@code (e, b)} after batch
 * {@code b - 1} of epoch {@code e} was handed out, and {@code (e + 1, 0)} after the last batch of
 * epoch {@code e}. Iterating ({@code for (Batch b : loader)}) yields the batches from the position
 * to the end of its epoch, moving the position along. A loader is used from one thread; a
 * {@link #seek} or a new iteration ends the previous iteration (using it afterwards throws
 * {@link ConcurrentModificationException}).
 */
public final class DataLoader implements Iterable<Batch> {
    /** Seconds the prefetch thread waits for work before it ends. */
    private static final long IDLE_SECONDS = 5;

    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final int prefetch;
    private final BatchTransform transform; // null: none
    private final Order order; // null: shuffle or identity
    private final int size; // dataset.size(), fixed at construction
    private final int numBatches;

    private int epoch; // position: the next batch to hand out
    private int batch;
    private long generation; // bumped by seek and by each new iteration
    private EpochIterator current;
    private ThreadPoolExecutor executor; // created on first prefetch

    private int cachedEpoch = -1; // the order of the last epoch asked for, for batch(e, i)
    private int[] cachedOrder;

    /**
     * The order of an epoch when it is not a plain shuffle, such as batches of texts of similar
     * lengths ({@code TokenDataset.bucketed}): set with {@link Builder#order}, it replaces
     * {@link Builder#shuffle}.
     */
    @FunctionalInterface
    public interface Order {
        /**
         * The order of one epoch: a permutation of {@code 0 .. size - 1}, whose consecutive runs of
         * {@code batchSize} indices become the batches. It must be a pure function of its
         * arguments (draw randomness only from {@code gen}), so that resumed runs see the same batches.
         *
         * @param gen seeded from the loader's seed and the epoch
         */
        int[] order(int size, int batchSize, int epoch, Generator gen);
    }

    /** The position of a loader: the next batch it will hand out. */
    public record Position(int epoch, int batch) {
        /** Checks both are non-negative. */
        public Position {
            if (epoch < 0 || batch < 0) {
                throw new IllegalArgumentException("position must be non-negative, got epoch " + epoch + ", batch "
                        + batch);
            }
        }
    }

    private DataLoader(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.dropLast = b.dropLast;
        this.prefetch = b.prefetch;
        this.transform = b.transform;
        this.order = b.order;
        this.size = dataset.size();
        this.numBatches = dropLast ? size / batchSize : (int) ((size + (long) batchSize - 1) / batchSize);
    }

    /**
     * A loader with the given batch size, shuffling each epoch when {@code shuffle}, keeping the
     * last partial batch and prefetching two batches.
     */
    public DataLoader(Dataset dataset, int batchSize, boolean shuffle, long seed) {
        this(builder(dataset).batchSize(batchSize).shuffle(shuffle).seed(seed));
    }

    /** Starts building a loader over {@code dataset} (batch size 1, no shuffle, seed 0, prefetch 2). */
    public static Builder builder(Dataset dataset) {
        return new Builder(dataset);
    }

    /** Options of a {@link DataLoader}. */
    public static final class Builder {
        private final Dataset dataset;
        private int batchSize = 1;
        private boolean shuffle;
        private long seed;
        private boolean dropLast;
        private int prefetch = 2;
        private BatchTransform transform;
        private Order order;

        private Builder(Dataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
        }

        /** Examples per batch (the last batch of an epoch may be smaller unless {@link #dropLast}). */
        public Builder batchSize(int batchSize) {
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** Whether to visit the examples in a new random order every epoch (default false). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** The seed of the shuffles and of the transform's generators (default 0). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Whether to leave out the last batch of an epoch when it is smaller than the batch size. */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** How many batches to build ahead on a background thread; 0 builds each on demand. */
        public Builder prefetch(int batches) {
            if (batches < 0) {
                throw new IllegalArgumentException("prefetch must be non-negative, got " + batches);
            }
            this.prefetch = batches;
            return this;
        }

        /** A transform applied to every batch (augmentation); {@code null} for none. */
        public Builder transform(BatchTransform transform) {
            this.transform = transform;
            return this;
        }

        /** A custom order of each epoch's examples (see {@link Order}); {@code null} for the shuffle or none. */
        public Builder order(Order order) {
            this.order = order;
            return this;
        }

        public DataLoader build() {
            return new DataLoader(this);
        }
    }

    // ------------------------------------------------------------------ configuration

    public Dataset dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    public boolean shuffle() {
        return shuffle;
    }

    public long seed() {
        return seed;
    }

    public boolean dropLast() {
        return dropLast;
    }

    public int prefetch() {
        return prefetch;
    }

    /** Batches per epoch: {@code ceil(size / batchSize)}, or {@code floor} with {@link Builder#dropLast}. */
    public int numBatches() {
        return numBatches;
    }

    // ------------------------------------------------------------------ position

    /** The next batch the loader will hand out (see the class comment). */
    public Position position() {
        return new Position(epoch, batch);
    }

    /**
     * Moves to a position, for example one saved in a checkpoint; the next batch handed out is
     * batch {@code batchIndex} of epoch {@code epoch}. {@code batchIndex == numBatches()} means the
     * end of that epoch and is the same as {@code (epoch + 1, 0)}. Ends the current iteration.
     */
    public void seek(int epoch, int batchIndex) {
        if (epoch < 0 || batchIndex < 0 || batchIndex > numBatches) {
            throw new IllegalArgumentException("seek: expected epoch >= 0 and batch index in [0, " + numBatches
                    + "], got epoch " + epoch + ", batch " + batchIndex);
        }
        endIteration();
        if (batchIndex == numBatches) {
            this.epoch = Math.addExact(epoch, 1);
            this.batch = 0;
        } else {
            this.epoch = epoch;
            this.batch = batchIndex;
        }
    }

    /** {@link #seek(int, int)} to a saved position. */
    public void seek(Position position) {
        seek(position.epoch(), position.batch());
    }

    // ------------------------------------------------------------------ batches

    /** The order in which epoch {@code epoch} visits the examples: indices into the data set. */
    public int[] order(int epoch) {
        return orderOf(epoch).clone();
    }

    private synchronized int[] orderOf(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be non-negative, got " + epoch);
        }
        if (epoch != cachedEpoch) {
            cachedOrder = computeOrder(epoch);
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    private int[] computeOrder(int epoch) {
        if (order != null) {
            int[] o = order.order(size, batchSize, epoch, new Generator(Seeds.derive(seed, Seeds.SHUFFLE, epoch)));
            String problem = o.length != size ? o.length + " indices for " + size + " examples" : null;
            boolean[] seen = new boolean[size];
            for (int k = 0; problem == null && k < o.length; k++) {
                if (o[k] < 0 || o[k] >= size || seen[o[k]]) {
                    problem = "index " + o[k] + " at " + k + " is out of range or repeated";
                } else {
                    seen[o[k]] = true;
                }
            }
            if (problem != null) {
                throw new IllegalStateException("the loader's order of epoch " + epoch + " is not a permutation of"
                        + " 0.." + (size - 1) + ": " + problem);
            }
            return o.clone();
        }
        if (shuffle) {
            return Datasets.permutation(size, new Generator(Seeds.derive(seed, Seeds.SHUFFLE, epoch)));
        }
        int[] identity = new int[size];
        for (int i = 0; i < size; i++) {
            identity[i] = i;
        }
        return identity;
    }

    /**
     * Batch {@code index} of epoch {@code epoch}, built now on the calling thread; the same batch
     * an iteration hands out at that position. Does not move the position.
     */
    public Batch batch(int epoch, int index) {
        if (index < 0 || index >= numBatches) {
            throw new IndexOutOfBoundsException("batch " + index + " does not exist: an epoch has " + numBatches
                    + " batches");
        }
        return build(epoch, orderOf(epoch), index);
    }

    private Batch build(int epoch, int[] order, int index) {
        int from = Math.toIntExact((long) index * batchSize);
        int to = (int) Math.min(order.length, (long) from + batchSize);
        Batch b = dataset.get(Arrays.copyOfRange(order, from, to)).at(epoch, index);
        if (transform == null) {
            return b;
        }
        Generator gen = new Generator(Seeds.derive(seed, Seeds.TRANSFORM, epoch, index));
        // augmentation is data, never part of the model's graph
        Batch t = GradMode.noGrad(() -> transform.apply(b, gen));
        return Objects.requireNonNull(t, "the batch transform returned null").at(epoch, index);
    }

    /**
     * The batches from the current position to the end of its epoch. Starting a new iteration
     * ends the previous one.
     */
    @Override
    public Iterator<Batch> iterator() {
        endIteration();
        current = new EpochIterator(epoch, batch, generation);
        return current;
    }

    /** All the batches of epoch {@code epoch}: iterating seeks to {@code (epoch, 0)} first. */
    public Iterable<Batch> epoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be non-negative, got " + epoch);
        }
        return () -> {
            seek(epoch, 0);
            return iterator();
        };
    }

    private void endIteration() {
        generation++;
        if (current != null) {
            current.cancel();
            current = null;
        }
    }

    private synchronized ThreadPoolExecutor executor() {
        if (executor == null) {
            executor = new ThreadPoolExecutor(1, 1, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "backprop-data-prefetch");
                t.setDaemon(true);
                return t;
            });
            executor.allowCoreThreadTimeOut(true);
        }
        return executor;
    }

    private final class EpochIterator implements Iterator<Batch> {
        private final int epoch;
        private final long generation;
        private final int[] order; // this epoch's visiting order, shared read-only with the prefetch thread
        private int next; // the next batch index to hand out
        private int submitted; // batches [next, submitted) are being built, in `pending`
        private final ArrayDeque<Future<Batch>> pending = new ArrayDeque<>();

        EpochIterator(int epoch, int start, long generation) {
            this.epoch = epoch;
            this.generation = generation;
            this.order = numBatches == 0 ? new int[0] : orderOf(epoch);
            this.next = start;
            this.submitted = start;
            fill();
        }

        private void fill() {
            while (prefetch > 0 && submitted < numBatches && submitted - next < prefetch) {
                int index = submitted++;
                pending.add(executor().submit(() -> build(epoch, order, index)));
            }
        }

        private void checkCurrent() {
            if (generation != DataLoader.this.generation) {
                throw new ConcurrentModificationException("this iteration over the data loader has ended: the loader"
                        + " was seeked, or a new iteration over it started");
            }
        }

        @Override
        public boolean hasNext() {
            checkCurrent();
            if (next < numBatches) {
                return true;
            }
            // an epoch without batches (or one seeked to its end) still moves the position on
            DataLoader.this.epoch = Math.addExact(epoch, 1);
            DataLoader.this.batch = 0;
            return false;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("epoch " + epoch + " has no more batches (it has " + numBatches + ")");
            }
            fill(); // refills after a failed batch; otherwise a no-op
            Batch b = prefetch == 0 ? build(epoch, order, next) : await(pending.removeFirst());
            next++;
            if (next == numBatches) {
                DataLoader.this.epoch = Math.addExact(epoch, 1);
                DataLoader.this.batch = 0;
            } else {
                DataLoader.this.batch = next;
            }
            fill();
            return b;
        }

        private Batch await(Future<Batch> future) {
            try {
                return future.get();
            } catch (ExecutionException e) {
                cancel();
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException("building batch " + next + " of epoch " + epoch + " failed", cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancel();
                CancellationException c = new CancellationException("interrupted while waiting for batch " + next
                        + " of epoch " + epoch);
                c.initCause(e);
                throw c;
            }
        }

        void cancel() {
            for (Future<Batch> f : pending) {
                f.cancel(false);
            }
            pending.clear();
            submitted = next;
        }
    }

    @Override
    public String toString() {
        return "DataLoader(" + size + " examples, batch size " + batchSize + ", " + numBatches + " batches"
                + (shuffle ? ", shuffled, seed " + seed : "") + (dropLast ? ", drop last" : "")
                + (prefetch > 0 ? ", prefetch " + prefetch : "") + (transform != null ? ", with transform" : "")
                + ", at epoch " + epoch + " batch " + batch + ")";
    }
}
