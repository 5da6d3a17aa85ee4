package dev.backprop.spark;

import dev.backprop.tensor.Generator;
import java.io.Serializable;

/**
 * Which examples each partition trains on at each step: the plan both strategies follow, and what
 * a single-process computation must follow to reproduce a Spark run.
 *
 * <p>An epoch has {@link #stepsPerEpoch()} steps, {@code max(1, n / globalBatch)} for {@code n}
 * examples in all. In epoch {@code e}, partition {@code p} permutes its own {@code n_p} examples
 * (Fisher-Yates with a {@link Generator} seeded by {@link #seed(long, int, int)}) and at step
 * {@code t} takes the permuted positions {@code [floor(t n_p / S), floor((t+1) n_p / S))}: every
 * example once per epoch, each partition's share proportional to its size. The global batch of
 * step {@code t} is the union of these shards, in partition order; {@link #globalBatch(int)} is its
 * size.
 */
public final class ShardPlan implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int[] partitionSizes;
    private final int steps;
    private final long seed;

    /**
     * @param partitionSizes the number of examples of each partition
     * @param globalBatch the wanted number of examples per step (all partitions together)
     * @param seed the run's seed
     */
    public ShardPlan(int[] partitionSizes, int globalBatch, long seed) {
        if (globalBatch < 1) {
            throw new IllegalArgumentException("global batch size must be >= 1, got " + globalBatch);
        }
        long n = 0;
        for (int s : partitionSizes) {
            n += s;
        }
        if (n == 0) {
            throw new IllegalArgumentException("the training data is empty (every partition has 0 examples)");
        }
        this.partitionSizes = partitionSizes.clone();
        this.steps = (int) Math.max(1, n / globalBatch);
        this.seed = seed;
    }

    /** Steps per epoch. */
    public int stepsPerEpoch() {
        return steps;
    }

    /** Number of partitions. */
    public int partitions() {
        return partitionSizes.length;
    }

    /** Examples of partition {@code p}. */
    public int partitionSize(int p) {
        return partitionSizes[p];
    }

    /** Total examples. */
    public long examples() {
        long n = 0;
        for (int s : partitionSizes) {
            n += s;
        }
        return n;
    }

    /** The order partition {@code p} visits its examples in epoch {@code epoch}. */
    public int[] order(int epoch, int p) {
        return SparkData.permutation(partitionSizes[p], new Generator(seed(seed, epoch, p)));
    }

    /** Start (inclusive) of step {@code t}'s shard of partition {@code p} in {@link #order}. */
    public int from(int p, int t) {
        return (int) ((long) t * partitionSizes[p] / steps);
    }

    /** End (exclusive) of step {@code t}'s shard of partition {@code p} in {@link #order}. */
    public int to(int p, int t) {
        return (int) ((long) (t + 1) * partitionSizes[p] / steps);
    }

    /** Examples in the global batch of step {@code t} (of any epoch). */
    public int globalBatch(int t) {
        int b = 0;
        for (int p = 0; p < partitionSizes.length; p++) {
            b += to(p, t) - from(p, t);
        }
        return b;
    }

    /** The seed of partition {@code p}'s order in epoch {@code epoch}. */
    public static long seed(long seed, int epoch, int p) {
        return seed * 0x9E3779B97F4A7C15L + epoch * 1_000_003L + p * 7919L + 17;
    }
}
