package dev.backprop.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.Batch;
import dev.backprop.data.DataLoader;
import dev.backprop.data.TensorDataset;
import dev.backprop.nn.F;
import dev.backprop.nn.Module;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/**
 * Synchronous data parallelism on {@code local[2]}: N partitions give the weights of
 * single-process training on the same global batches (bit for bit against a single-process
 * computation with the same micro-batches and the same order of additions; within float32
 * tolerance against the plain {@link Trainer} on whole global batches), and a task that fails once
 * is retried without changing the result.
 */
class SyncTrainingTest {
    static final int PARTITIONS = 4;
    static final int PER_PARTITION = 48;
    static final int GLOBAL_BATCH = 64; // 3 steps per epoch; each partition's shard is 16 examples
    static final int MICRO = 6;         // shards of 16 in micro-batches 6, 6, 4
    static final int STEPS = 5;          // crosses an epoch boundary

    static final AtomicBoolean FAIL_ONCE = new AtomicBoolean();
    static final AtomicInteger RETRIES = new AtomicInteger();

    /** Cross-entropy that, while FAIL_ONCE is set, throws in the first attempt of partition 2's task. */
    static Tensor failingLoss(Tensor out, Tensor target) {
        TaskContext tc = TaskContext.get();
        if (tc != null && tc.partitionId() == 2) {
            if (tc.attemptNumber() == 0 && FAIL_ONCE.compareAndSet(true, false)) {
                throw new IllegalStateException("injected failure of partition 2, attempt 0");
            }
            if (tc.attemptNumber() > 0) {
                RETRIES.incrementAndGet();
            }
        }
        return F.crossEntropy(out, target);
    }

    /**
     * What the synchronous strategy computes, in one process without Spark: at each step, the
     * gradient of each partition's shard (micro-batch mean losses weighted by their share of the
     * global batch, accumulated by backward), the shard gradients added in partition order, one
     * optimizer step.
     */
    static void singleProcess(Module model, Optimizer opt, List<ExampleBlock> blocks, ShardPlan plan, int steps,
            int micro) {
        Tensor[] params = model.namedParameters().values().toArray(new Tensor[0]);
        for (int s = 0; s < steps; s++) {
            int epoch = s / plan.stepsPerEpoch();
            int t = s % plan.stepsPerEpoch();
            float[] total = null;
            for (int p = 0; p < blocks.size(); p++) {
                model.zeroGrad();
                int[] order = plan.order(epoch, p);
                for (int i = plan.from(p, t); i < plan.to(p, t); i += micro) {
                    int e = Math.min(plan.to(p, t), i + micro);
                    Batch b = blocks.get(p).batch(order, i, e);
                    F.crossEntropy(model.forward(b.inputs()), b.targets())
                            .mul((float) ((double) (e - i) / plan.globalBatch(t))).backward();
                }
                float[] g = Worker.gradients(params);
                if (total == null) {
                    total = g;
                } else {
                    for (int k = 0; k < g.length; k++) {
                        total[k] += g[k];
                    }
                }
            }
            int off = 0;
            for (Tensor p : params) {
                p.setGrad(Tensor.of(java.util.Arrays.copyOfRange(total, off, off + p.numel()), p.shape()));
                off += p.numel();
            }
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                opt.step();
            }
            opt.zeroGrad();
        }
    }

    private static SparkTrainer trainer(JavaSparkContext sc, Module init, OptimizerFactory opt, SparkLoss loss,
            SparkTrainer.Reduction reduction) {
        return SparkTrainer.builder(sc, TestData::model, opt, loss).initialModel(init).globalBatchSize(GLOBAL_BATCH)
                .microBatchSize(MICRO).epochs(10).maxSteps(STEPS).seed(5).numClasses(TestData.CLASSES)
                .reduction(reduction).build();
    }

    @Test
    void nPartitionsEqualSingleProcessBitForBit() {
        JavaSparkContext sc = LocalSpark.get();
        List<ExampleBlock> blocks = TestData.blocks(PARTITIONS, PER_PARTITION, 1);
        JavaRDD<ExampleBlock> rdd = sc.parallelize(blocks, PARTITIONS);
        Module init = TestData.model(11);
        OptimizerFactory adam = m -> new Adam(m.parameters(), 1e-2);

        SparkTrainer spark = trainer(sc, TestData.copy(init), adam, F::crossEntropy, SparkTrainer.Reduction.ORDERED);
        SparkHistory h = spark.fit(rdd, null);
        assertEquals(STEPS, h.steps());
        assertEquals("max steps", h.stopReason());

        // the same computation in this process: per step, each partition's shard in micro-batches whose
        // mean losses are weighted by their share of the global batch; shard gradients added in partition order
        ShardPlan plan = new ShardPlan(new int[] {48, 48, 48, 48}, GLOBAL_BATCH, 5);
        assertEquals(3, plan.stepsPerEpoch());
        Module ref = TestData.copy(init);
        singleProcess(ref, new Adam(ref.parameters(), 1e-2), blocks, plan, STEPS, MICRO);
        assertArrayEquals(TestData.weights(ref), TestData.weights(spark.model()), 0f,
                "4 partitions on Spark vs the same sums in one process: bit for bit");
        assertFalse(java.util.Arrays.equals(TestData.weights(init), TestData.weights(ref)), "the weights moved");
    }

    @Test
    void nPartitionsEqualPlainTrainerOnTheGlobalBatches() {
        JavaSparkContext sc = LocalSpark.get();
        List<ExampleBlock> blocks = TestData.blocks(PARTITIONS, PER_PARTITION, 2);
        Module init = TestData.model(12);
        OptimizerFactory sgd = m -> new SGD(m.parameters(), 0.1, 0.9);
        SparkTrainer spark = trainer(sc, TestData.copy(init), sgd, F::crossEntropy, SparkTrainer.Reduction.TREE);
        spark.fit(sc.parallelize(blocks, PARTITIONS), null);

        // the global batches in step order, trained by the single-machine Trainer, one forward per step
        ShardPlan plan = new ShardPlan(new int[] {48, 48, 48, 48}, GLOBAL_BATCH, 5);
        List<float[]> xs = new ArrayList<>();
        List<Long> ys = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            int epoch = s / plan.stepsPerEpoch();
            int t = s % plan.stepsPerEpoch();
            for (int p = 0; p < PARTITIONS; p++) {
                Batch b = blocks.get(p).batch(plan.order(epoch, p), plan.from(p, t), plan.to(p, t));
                float[] x = b.inputs().toFloatArray();
                long[] y = b.targets().toLongArray();
                for (int i = 0; i < y.length; i++) {
                    xs.add(java.util.Arrays.copyOfRange(x, i * TestData.FEATURES, (i + 1) * TestData.FEATURES));
                    ys.add(y[i]);
                }
            }
        }
        float[] x = new float[xs.size() * TestData.FEATURES];
        for (int i = 0; i < xs.size(); i++) {
            System.arraycopy(xs.get(i), 0, x, i * TestData.FEATURES, TestData.FEATURES);
        }
        TensorDataset ds = new TensorDataset(Tensor.of(x, xs.size(), TestData.FEATURES),
                Tensor.ofLongs(ys.stream().mapToLong(Long::longValue).toArray(), ys.size()));
        Module ref = TestData.copy(init);
        Trainer.builder(ref, new SGD(ref.parameters(), 0.1, 0.9), F::crossEntropy).epochs(1).diagnostics(false).build()
                .fit(new DataLoader(ds, GLOBAL_BATCH, false, 0), null);
        float[] a = TestData.weights(ref);
        float[] b = TestData.weights(spark.model());
        double maxDiff = 0;
        double maxMoved = 0;
        float[] w0 = TestData.weights(init);
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            maxMoved = Math.max(maxMoved, Math.abs(a[i] - w0[i]));
        }
        assertTrue(maxDiff < 1e-5, "Spark (tree reduction) vs Trainer: max |difference| " + maxDiff);
        assertTrue(maxMoved > 1e-2, "the weights moved: " + maxMoved);
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndTheResultIsUnchanged() {
        JavaSparkContext sc = LocalSpark.get();
        List<ExampleBlock> blocks = TestData.blocks(PARTITIONS, PER_PARTITION, 3);
        Module init = TestData.model(13);
        OptimizerFactory adam = m -> new Adam(m.parameters(), 1e-2);
        SparkTrainer clean = trainer(sc, TestData.copy(init), adam, F::crossEntropy, SparkTrainer.Reduction.ORDERED);
        clean.fit(sc.parallelize(blocks, PARTITIONS), null);

        FAIL_ONCE.set(true);
        RETRIES.set(0);
        SparkTrainer failing = trainer(sc, TestData.copy(init), adam, SyncTrainingTest::failingLoss,
                SparkTrainer.Reduction.ORDERED);
        failing.fit(sc.parallelize(blocks, PARTITIONS), null);
        assertFalse(FAIL_ONCE.get(), "the failure was injected");
        assertTrue(RETRIES.get() > 0, "Spark retried the failed task");
        assertArrayEquals(TestData.weights(clean.model()), TestData.weights(failing.model()), 0f);
    }
}
