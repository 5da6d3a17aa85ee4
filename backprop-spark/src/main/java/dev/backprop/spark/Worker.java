package dev.backprop.spark;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.Batch;
import dev.backprop.nn.Module;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The executor side: the work of one partition in one step (synchronous) or one round (local
 * SGD). Models are built once per executor thread and run, kept in a small pool, and loaded with
 * the broadcast weights at the start of every task, so a retried task starts from the same state.
 */
final class Worker {
    private Worker() {}

    /** A model built on this executor, with its parameters and float buffers in a fixed order. */
    static final class Replica {
        final Module model;
        final Tensor[] params;
        final Tensor[] buffers;

        Replica(Module model) {
            this.model = model;
            this.params = model.namedParameters().values().toArray(new Tensor[0]);
            this.buffers = floatBuffers(model);
        }
    }

    private static String poolRun;
    private static final ArrayDeque<Replica> POOL = new ArrayDeque<>();

    static Replica borrow(TaskSpec spec) {
        synchronized (POOL) {
            if (!spec.runId().equals(poolRun)) { // a new training run: the old replicas go
                POOL.clear();
                poolRun = spec.runId();
            }
            Replica r = POOL.pollFirst();
            if (r != null) {
                return r;
            }
        }
        return new Replica(spec.model().create());
    }

    static void giveBack(TaskSpec spec, Replica r) {
        synchronized (POOL) {
            if (spec.runId().equals(poolRun)) {
                POOL.addFirst(r);
            }
        }
    }

    static Tensor[] floatBuffers(Module m) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor b : m.namedBuffers().values()) {
            if (b.dtype() == DType.FLOAT32) {
                out.add(b);
            }
        }
        return out.toArray(new Tensor[0]);
    }

    static int totalSize(Tensor[] ts) {
        int n = 0;
        for (Tensor t : ts) {
            n += t.numel();
        }
        return n;
    }

    /** Copies the tensors' values, in order, into one new array. */
    static float[] flatten(Tensor[] ts) {
        float[] out = new float[totalSize(ts)];
        int off = 0;
        for (Tensor t : ts) {
            float[] v = t.isContiguous() ? t.floatStorage() : t.toFloatArray();
            int from = t.isContiguous() ? t.offset() : 0;
            System.arraycopy(v, from, out, off, t.numel());
            off += t.numel();
        }
        return out;
    }

    /** Writes {@code flat} into the tensors, in order (they must be contiguous, as parameters are). */
    static void load(Tensor[] ts, float[] flat) {
        if (flat.length != totalSize(ts)) {
            throw new IllegalStateException("expected " + totalSize(ts) + " values for the model, got " + flat.length
                    + ": does the model factory build the same architecture every time?");
        }
        int off = 0;
        for (Tensor t : ts) {
            if (!t.isContiguous()) {
                throw new IllegalStateException("parameter or buffer of shape " + java.util.Arrays.toString(t.shape())
                        + " is not contiguous");
            }
            System.arraycopy(flat, off, t.floatStorage(), t.offset(), t.numel());
            off += t.numel();
        }
    }

    /** The parameters' gradients, in order, as one new array (zeros where no gradient reached). */
    static float[] gradients(Tensor[] params) {
        float[] out = new float[totalSize(params)];
        int off = 0;
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (g != null) {
                float[] v = g.isContiguous() ? g.floatStorage() : g.toFloatArray();
                int from = g.isContiguous() ? g.offset() : 0;
                System.arraycopy(v, from, out, off, p.numel());
            }
            off += p.numel();
        }
        return out;
    }

    /**
     * Forward and backward over partition {@code p}'s shard of step {@code t}, in micro-batches;
     * each micro-batch's mean loss is weighted by its share of the global batch, so the gradients
     * add up (over micro-batches, then partitions) to the gradient of the global batch's mean loss.
     * The parameter gradients are left in the replica; returns the loss sum, correct count and
     * example count in {@code into}.
     */
    static void gradientOfShard(TaskSpec spec, Replica r, ExampleBlock block, int[] order, int from, int to,
            float denominator, Partial into) {
        r.model.train();
        r.model.zeroGrad();
        for (int s = from; s < to; s += spec.microBatch()) {
            int e = Math.min(to, s + spec.microBatch());
            Batch b = block.batch(order, s, e);
            int n = e - s;
            Tensor out = r.model.forward(b.inputs());
            Tensor l = spec.loss().compute(out, b.targets());
            double lv = l.item();
            l.mul((float) ((double) n / denominator)).backward();
            into.lossSum += lv * n;
            into.examples += n;
            if (b.targets().dtype() == DType.INT64 && out.dim() == 2) {
                long[] pred = out.detach().argmax(1, false).toLongArray();
                long[] y = b.targets().toLongArray();
                for (int i = 0; i < n; i++) {
                    into.correct += pred[i] == y[i] ? 1 : 0;
                }
            }
        }
    }

    private static ExampleBlock single(int p, Iterator<ExampleBlock> it) {
        if (!it.hasNext()) {
            throw new IllegalStateException("partition " + p + " holds no example block");
        }
        ExampleBlock b = it.next();
        if (it.hasNext()) {
            throw new IllegalStateException("partition " + p + " holds more than one example block; make the data "
                    + "with SparkData (one block per partition)");
        }
        return b;
    }

    private static void threads(TaskSpec spec) {
        if (spec.kernelThreads() > 0 && dev.backprop.kernels.Kernels.threads() != spec.kernelThreads()) {
            dev.backprop.kernels.Kernels.setThreads(spec.kernelThreads());
        }
    }

    /** Synchronous data parallelism: the gradient of partition {@code p}'s shard of step {@code t}. */
    static Iterator<Partial> syncTask(TaskSpec spec, int p, Iterator<ExampleBlock> it, float[][] weights, int epoch,
            int t) {
        ExampleBlock block = single(p, it);
        threads(spec);
        long start = System.nanoTime();
        Replica r = borrow(spec);
        try {
            load(r.params, weights[0]);
            load(r.buffers, weights[1]);
            ShardPlan plan = spec.plan();
            Partial out = new Partial();
            out.partition = p;
            out.count = 1;
            gradientOfShard(spec, r, block, plan.order(epoch, p), plan.from(p, t), plan.to(p, t), plan.globalBatch(t),
                    out);
            out.vector = gradients(r.params);
            out.buffers = flatten(r.buffers);
            r.model.zeroGrad();
            out.maxComputeNanos = System.nanoTime() - start;
            return List.of(out).iterator();
        } finally {
            giveBack(spec, r);
        }
    }

    /**
     * Local SGD: partition {@code p} takes {@code lrs.length} optimizer steps of its own on its shards
     * of steps {@code t0, t0+1, ...} (a shard is the partition's part of the global batch), from the
     * averaged weights and optimizer state, and returns its parameters, buffers and state.
     */
    static Iterator<Partial> localSgdTask(TaskSpec spec, int p, Iterator<ExampleBlock> it, float[][] weights,
            OptimizerStateData state, double[] lrs, int epoch, int t0, boolean sendGradient) {
        ExampleBlock block = single(p, it);
        threads(spec);
        long start = System.nanoTime();
        Replica r = borrow(spec);
        try {
            load(r.params, weights[0]);
            load(r.buffers, weights[1]);
            Optimizer opt = spec.optimizer().create(r.model);
            if (state != null) {
                opt.loadState(state.toState());
            }
            ShardPlan plan = spec.plan();
            int[] order = plan.order(epoch, p);
            Partial out = new Partial();
            out.partition = p;
            out.count = 1;
            for (int k = 0; k < lrs.length; k++) {
                int from = plan.from(p, t0 + k);
                int to = plan.to(p, t0 + k);
                if (to == from) {
                    continue;
                }
                gradientOfShard(spec, r, block, order, from, to, to - from, out);
                if (k == lrs.length - 1 && sendGradient) {
                    out.lastGradient = gradients(r.params);
                }
                opt.setLr(lrs[k]);
                try (GradMode.Scope ignored = GradMode.noGrad()) {
                    opt.step();
                }
                opt.zeroGrad();
            }
            if (out.lastGradient == null && sendGradient) {
                out.lastGradient = new float[totalSize(r.params)];
            }
            out.vector = flatten(r.params);
            out.buffers = flatten(r.buffers);
            out.state = spec.averageOptimizerState() ? OptimizerStateData.of(opt.state()) : null;
            out.maxComputeNanos = System.nanoTime() - start;
            return List.of(out).iterator();
        } finally {
            giveBack(spec, r);
        }
    }
}
