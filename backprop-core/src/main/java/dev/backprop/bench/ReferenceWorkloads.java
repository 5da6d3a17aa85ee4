package dev.backprop.bench;

import dev.backprop.autograd.GradMode;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.F;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Clip;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.Locale;
import java.util.function.BinaryOperator;

/**
 * W1–W4 of {@code WORKLOADS.md}, built exactly as the PyTorch anchor ({@code bench/torch/models.py})
 * builds them: same layers, initialisation scheme, optimizer and loss; inputs drawn once from a
 * generator seeded with 0.
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
        String key = id.trim().toUpperCase(Locale.ROOT);
        Generator.defaultGenerator().manualSeed(0);
        Generator data = new Generator(0);
        return switch (key) {
            case "W1" -> {
                Module model = new Sequential(new Linear(784, 512), new Activation.ReLU(), new Linear(512, 256),
                        new Activation.ReLU(), new Linear(256, 10));
                yield build(key, "mlp 784-512-256-10, Adam", 128, model, new Adam(model.parameters(), 1e-3),
                        batches(freshBatches, () -> Tensor.randn(data, 128, 784),
                                () -> Tensor.randint(data, 0, 10, 128)), F::crossEntropy, false);
            }
            case "W2" -> {
                Module model = new Sequential(new Conv2d(1, 32, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2),
                        new Conv2d(32, 64, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2), new Flatten(),
                        new Linear(3136, 128), new Activation.ReLU(), new Linear(128, 10));
                yield build(key, "cnn 2 conv + 2 linear, SGD momentum", 64, model,
                        new SGD(model.parameters(), 0.01, 0.9),
                        batches(freshBatches, () -> Tensor.randn(data, 64, 1, 28, 28),
                                () -> Tensor.randint(data, 0, 10, 64)), F::crossEntropy, false);
            }
            default -> throw new IllegalArgumentException("unknown workload '" + id + "': expected one of " + IDS);
        };
    }

    /** Cross-entropy at every position of (B, T, V) logits against (B, T) targets, as models.py's seq_loss. */
    static Tensor sequenceLoss(Tensor logits, Tensor target) {
        int v = logits.size(-1);
        return F.crossEntropy(logits.reshape(-1, v), target.reshape(-1));
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

    private static Workload build(String id, String description, int batch, Module model, Optimizer optimizer,
                                  Batches data, BinaryOperator<Tensor> loss, boolean clip) {
        model.train();
        List<Tensor> params = model.parameters();
        long count = params.stream().mapToLong(Tensor::numel).sum();
        int[] next = {0};
        Runnable step = () -> {
            int i = next[0]++ % data.inputs().length;
            optimizer.zeroGrad();
            Tensor l = loss.apply(model.forward(data.inputs()[i]), data.targets()[i]);
            l.backward();
            if (clip) {
                Clip.gradNorm(params, 1.0);
            }
            optimizer.step();
        };
        int[] nextForward = {0};
        Runnable forward = () -> {
            int i = nextForward[0]++ % data.inputs().length;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                loss.apply(model.forward(data.inputs()[i]), data.targets()[i]);
            }
        };
        return new Workload(id, description, batch, count, step, forward);
    }
}
