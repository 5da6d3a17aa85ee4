package dev.backprop.bench;

import dev.backprop.autograd.GradMode;
import dev.backprop.diagnostics.Doctor;
import dev.backprop.diagnostics.Monitor;
import dev.backprop.diagnostics.StepStats;
import dev.backprop.nn.F;
import dev.backprop.models.Workloads;
import dev.backprop.nn.Module;
import dev.backprop.optim.Clip;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.Locale;
import java.util.function.BinaryOperator;

/**
 * W1–W4 of {@code WORKLOADS.md} as training steps to time: the models and optimizers of
 * {@link Workloads} (built as the PyTorch anchor {@code bench/torch/models.py} builds them), inputs
 * drawn once from a generator seeded with 0, gradient-norm clipping at 1.0 for W3 and W4.
 *
 * <p>By default every step sees the same batch, as in the anchor script. On one fixed batch the
 * model memorises it within a few dozen steps and its numbers drift towards subnormal floats, which
 * are slow on some CPUs; {@code freshBatches} instead cycles through {@value #FRESH_POOL} batches
 * drawn up front, so that the step time is that of real training.
 */
public final class ReferenceWorkloads {
    /** How many distinct batches the fresh-batch mode cycles through. */
    public static final int FRESH_POOL = 16;
    /** The ids this class knows, in order. */
    public static final List<String> IDS = List.of("W1", "W2", "W3", "W4");

    private ReferenceWorkloads() {}

    /** Builds workload {@code id} (W1..W4, case-insensitive). */
    public static Workload create(String id, boolean freshBatches) {
        return create(id, freshBatches, null);
    }

    /**
     * Builds workload {@code id}; with {@code monitor} options, every step also does what the
     * {@link dev.backprop.train.Trainer} adds to a bare loop when diagnostics are on: reads the
     * loss, computes the global gradient norm (on monitored and every 10th step, as the trainer), runs the gradient-flow {@link Monitor} at that
     * cadence (ReLU hooks, gradient and weight norms, update ratios) and the {@link Doctor}'s rules —
     * so that the difference to the plain workload is the cost of watching training.
     */
    public static Workload create(String id, boolean freshBatches, Monitor.Options monitor) {
        Watch watch = monitor == null ? null : new Watch(monitor);
        String key = id.trim().toUpperCase(Locale.ROOT);
        Generator.defaultGenerator().manualSeed(0);
        Generator data = new Generator(0);
        return switch (key) {
            case "W1" -> {
                Module model = Workloads.w1Model();
                yield build(key, "mlp 784-512-256-10, Adam", 128, model, Workloads.w1Optimizer(model),
                        batches(freshBatches, () -> Tensor.randn(data, 128, 784),
                                () -> Tensor.randint(data, 0, 10, 128)), F::crossEntropy, false, watch);
            }
            case "W2" -> {
                Module model = Workloads.w2Model();
                yield build(key, "cnn 2 conv + 2 linear, SGD momentum", 64, model, Workloads.w2Optimizer(model),
                        batches(freshBatches, () -> Tensor.randn(data, 64, 1, 28, 28),
                                () -> Tensor.randint(data, 0, 10, 64)), F::crossEntropy, false, watch);
            }
            case "W3" -> {
                Module model = Workloads.w3Model(new Generator(0));
                yield build(key, "gpt 4 layers d128, AdamW, clip 1.0", 12, model, Workloads.w3Optimizer(model),
                        batches(freshBatches, () -> Tensor.randint(data, 0, Workloads.VOCAB, 12, Workloads.CONTEXT),
                                () -> Tensor.randint(data, 0, Workloads.VOCAB, 12, Workloads.CONTEXT)),
                        Workloads::sequenceLoss, true, watch);
            }
            case "W4" -> {
                Module model = Workloads.w4Model(new Generator(0));
                yield build(key, "lstm 2x256, Adam, clip 1.0", 32, model, Workloads.w4Optimizer(model),
                        batches(freshBatches, () -> Tensor.randint(data, 0, Workloads.VOCAB, 32, 64),
                                () -> Tensor.randint(data, 0, Workloads.VOCAB, 32, 64)),
                        Workloads::sequenceLoss, true, watch);
            }
            default -> throw new IllegalArgumentException("unknown workload '" + id + "': expected one of " + IDS);
        };
    }

    private record Batches(Tensor[] inputs, Tensor[] targets) {}

    private static Batches batches(boolean fresh, java.util.function.Supplier<Tensor> input,
                                   java.util.function.Supplier<Tensor> target) {
        int n = fresh ? FRESH_POOL : 1;
        Tensor[] xs = new Tensor[n];
        Tensor[] ys = new Tensor[n];
        for (int i = 0; i < n; i++) {
            xs[i] = input.get();
            ys[i] = target.get();
        }
        return new Batches(xs, ys);
    }

    private static final java.lang.management.ThreadMXBean CPU =
            java.lang.management.ManagementFactory.getThreadMXBean();

    /** The monitor and doctor of a watched workload, its step count and the CPU time spent in them. */
    private static final class Watch {
        final Monitor.Options options;
        Monitor monitor;
        final Doctor doctor = new Doctor();
        long step;
        long nanos;

        Watch(Monitor.Options options) {
            this.options = options;
        }
    }

    private static Workload build(String id, String description, int batch, Module model, Optimizer optimizer,
                                  Batches data, BinaryOperator<Tensor> loss, boolean clip, Watch watch) {
        model.train();
        List<Tensor> params = model.parameters();
        long count = params.stream().mapToLong(Tensor::numel).sum();
        int[] next = {0};
        Runnable step;
        if (watch == null) {
            step = () -> {
                int i = next[0]++ % data.inputs().length;
                optimizer.zeroGrad();
                Tensor l = loss.apply(model.forward(data.inputs()[i]), data.targets()[i]);
                l.backward();
                if (clip) {
                    Clip.gradNorm(params, 1.0);
                }
                optimizer.step();
            };
        } else {
            watch.monitor = new Monitor(model, watch.options);
            watch.monitor.attach();
            step = () -> {
                int i = next[0]++ % data.inputs().length;
                long s = ++watch.step;
                long t0 = CPU.getCurrentThreadCpuTime();
                watch.monitor.arm(s);
                long t1 = CPU.getCurrentThreadCpuTime();
                optimizer.zeroGrad();
                Tensor l = loss.apply(model.forward(data.inputs()[i]), data.targets()[i]);
                long t2 = CPU.getCurrentThreadCpuTime();
                double lv = l.item();
                long t3 = CPU.getCurrentThreadCpuTime();
                l.backward();
                // as the trainer: clipping measures the norm; an unclipped monitored step takes it from the
                // monitor's own pass; every 10th step otherwise
                double norm = clip ? Clip.gradNorm(params, 1.0) : Double.NaN;
                long t4b = CPU.getCurrentThreadCpuTime();
                if (clip) {
                    watch.monitor.beforeOptimizerStep(norm);
                } else if (watch.monitor.armed()) {
                    norm = watch.monitor.beforeOptimizerStep();
                } else if (s % 10 == 0) {
                    norm = Clip.totalNorm(params);
                }
                long t5 = CPU.getCurrentThreadCpuTime();
                optimizer.step();
                long t6 = CPU.getCurrentThreadCpuTime();
                StepStats stats = watch.monitor.afterOptimizerStep(s, lv);
                watch.doctor.observeLoss(s, lv);
                if (stats != null) {
                    watch.doctor.observe(stats);
                }
                long t7 = CPU.getCurrentThreadCpuTime();
                // CPU time of this thread (immune to other processes); the ReLU hooks run inside forward and
                // are not counted; clipping is the bare loop's own work
                watch.nanos += (t1 - t0) + (t3 - t2) + (t5 - t4b) + (t7 - t6);
            };
        }
        int[] nextForward = {0};
        Runnable forward = () -> {
            int i = nextForward[0]++ % data.inputs().length;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                loss.apply(model.forward(data.inputs()[i]), data.targets()[i]);
            }
        };
        return new Workload(id, description, batch, count, step, forward, watch == null ? null : () -> watch.nanos);
    }
}
