package dev.backprop.train;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.Batch;
import dev.backprop.data.DataLoader;
import dev.backprop.nn.Module;
import dev.backprop.optim.Adagrad;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.MemoryBudget;
import dev.backprop.tensor.MemoryBudgetException;
import dev.backprop.tensor.Tensor;

/**
 * What training a model needs in memory, estimated before the first step so that a run that cannot
 * fit is refused with the sizes instead of dying of an {@link OutOfMemoryError} later: the weights,
 * their gradients, the optimizer's state (two buffers per weight for Adam, AdamW and RMSprop, one
 * for SGD and Adagrad), and the activations of one batch: the tensors the autograd graph of a forward
 * pass on four examples holds, scaled to the batch size and doubled for the gradients of the
 * backward pass.
 *
 * @param weights bytes of the parameters
 * @param gradients bytes of their gradients
 * @param optimizerState bytes of the optimizer's buffers
 * @param activations bytes of one batch's forward and backward pass (0 when not measured)
 * @param batchSize the batch size the activations are for
 */
public record MemoryEstimate(long weights, long gradients, long optimizerState, long activations, int batchSize) {

    /** The total. */
    public long total() {
        return weights + gradients + optimizerState + activations;
    }

    @Override
    public String toString() {
        return MemoryBudget.format(total()) + " (weights " + MemoryBudget.format(weights) + ", gradients "
                + MemoryBudget.format(gradients) + ", optimizer state " + MemoryBudget.format(optimizerState)
                + ", activations of a batch of " + batchSize + " " + MemoryBudget.format(activations) + ")";
    }

    /** Optimizer buffers per parameter element. */
    static int optimizerSlots(Optimizer optimizer) {
        if (optimizer instanceof SGD || optimizer instanceof Adagrad) {
            return 1;
        }
        return 2; // Adam, AdamW, RMSprop (square average and momentum), and unknown ones, to be safe
    }

    /**
     * Estimates training {@code model} with {@code optimizer} on batches of {@code loader}; the
     * activations are measured by a forward pass on up to 4 examples of its data set, in eval mode
     * (no running statistics change) with the random generator put back, so the run is unchanged.
     */
    public static MemoryEstimate of(Module model, Optimizer optimizer, DataLoader loader) {
        long params = 0;
        for (Tensor p : model.parameters()) {
            params += (long) p.numel() * p.dtype().byteSize();
        }
        int batch = loader.batchSize();
        long activations = 0;
        int k = Math.min(4, loader.dataset().size());
        if (k > 0) {
            boolean wasTraining = model.isTraining();
            long[] rng = Generator.defaultGenerator().state();
            try {
                model.eval();
                long retained = retainedBytes(model, loader, k);
                // what the graph keeps for the backward pass, and as much again for the gradients it makes
                activations = 2 * (retained / k) * (long) batch;
            } catch (RuntimeException e) {
                activations = 0; // a model that needs whole batches (stateful streams): weights only
            } finally {
                model.train(wasTraining);
                Generator.defaultGenerator().setState(rng);
            }
        }
        return new MemoryEstimate(params, params, params * optimizerSlots(optimizer), activations, batch);
    }

    /**
     * Bytes of the tensors the autograd graph of a forward pass on the first {@code n} examples
     * holds (every op's inputs: the activations kept for the backward pass), the weights left out.
     */
    private static long retainedBytes(Module model, DataLoader loader, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        Batch sample = loader.dataset().get(idx);
        java.util.Set<Object> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Tensor p : model.parameters()) {
            seen.add(storage(p));
        }
        Tensor out;
        try (GradMode.Scope ignored = GradMode.enableGrad()) {
            out = model.forward(sample.inputs());
        }
        long bytes = 0;
        java.util.ArrayDeque<Tensor> todo = new java.util.ArrayDeque<>();
        java.util.Set<dev.backprop.autograd.Node> visited =
                java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        todo.add(out);
        while (!todo.isEmpty()) {
            Tensor t = todo.poll();
            Object storage = storage(t);
            if (seen.add(storage)) {
                bytes += storageBytes(t);
            }
            dev.backprop.autograd.Node node = t.gradFn();
            if (node != null && visited.add(node)) {
                for (int i = 0; i < node.numInputs(); i++) {
                    if (node.input(i) != null) {
                        todo.add(node.input(i));
                    }
                }
            }
        }
        return bytes;
    }

    private static long storageBytes(Tensor t) {
        long n = switch (t.dtype()) {
            case FLOAT32 -> t.floatStorage().length;
            case INT64 -> t.longStorage().length;
            case BOOL -> t.boolStorage().length;
            case UINT8 -> t.byteStorage().length;
        };
        return n * t.dtype().byteSize();
    }

    private static Object storage(Tensor t) {
        return switch (t.dtype()) {
            case FLOAT32 -> t.floatStorage();
            case INT64 -> t.longStorage();
            case BOOL -> t.boolStorage();
            case UINT8 -> t.byteStorage();
        };
    }

    /**
     * Refuses to train when the estimate exceeds {@link MemoryBudget#bytes()}.
     *
     * @throws MemoryBudgetException with the estimate's parts and the budget
     */
    static void checkTraining(Module model, Optimizer optimizer, DataLoader loader) {
        long budget = MemoryBudget.bytes();
        MemoryEstimate e = of(model, optimizer, loader);
        org.slf4j.LoggerFactory.getLogger(MemoryEstimate.class).debug("training needs about {}; budget {}", e,
                MemoryBudget.format(budget));
        if (e.total() > budget) {
            throw new MemoryBudgetException("training needs about " + e + ", more than the memory budget of "
                    + MemoryBudget.format(budget) + "; use a smaller batch (--batch-size) or model, or raise the budget "
                    + "(-D" + MemoryBudget.PROPERTY + "=SIZE, backprop train --memory-budget SIZE) and the JVM heap "
                    + "(-Xmx, now " + MemoryBudget.format(Runtime.getRuntime().maxMemory()) + ")");
        }
    }
}
