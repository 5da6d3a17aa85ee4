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
import java.lang.management.ManagementFactory;

/**
 * What training a model needs in memory, estimated before the first step so that a run that cannot
 * fit is refused with the sizes instead of dying of an {@link OutOfMemoryError} later: the weights,
 * their gradients, the optimizer's state (two buffers per weight for Adam, AdamW and RMSprop, one
 * for SGD and Adagrad), and the activations of one batch, measured as the bytes a forward pass on
 * a few examples allocates, scaled to the batch size and doubled for the backward pass.
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
        int n = Math.min(4, loader.dataset().size());
        com.sun.management.ThreadMXBean threads = threadBean();
        if (n > 0 && threads != null) {
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) {
                idx[i] = i;
            }
            Batch sample = loader.dataset().get(idx);
            boolean wasTraining = model.isTraining();
            long[] rng = Generator.defaultGenerator().state();
            long before = threads.getCurrentThreadAllocatedBytes();
            try {
                model.eval();
                try (GradMode.Scope ignored = GradMode.enableGrad()) {
                    model.forward(sample.inputs());
                }
            } catch (RuntimeException e) {
                return new MemoryEstimate(params, params, params * optimizerSlots(optimizer), 0, batch);
            } finally {
                model.train(wasTraining);
                Generator.defaultGenerator().setState(rng);
            }
            long used = Math.max(0, threads.getCurrentThreadAllocatedBytes() - before);
            activations = 2 * used / n * (long) batch; // forward, and as much again for the backward pass
        }
        return new MemoryEstimate(params, params, params * optimizerSlots(optimizer), activations, batch);
    }

    private static com.sun.management.ThreadMXBean threadBean() {
        try {
            if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                    && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
                return t;
            }
        } catch (LinkageError | RuntimeException e) {
            // no management beans on this JVM: weights only
        }
        return null;
    }

    /**
     * Refuses to train when the estimate exceeds {@link MemoryBudget#bytes()}.
     *
     * @throws MemoryBudgetException with the estimate's parts and the budget
     */
    static void checkTraining(Module model, Optimizer optimizer, DataLoader loader) {
        long budget = MemoryBudget.bytes();
        MemoryEstimate e = of(model, optimizer, loader);
        if (e.total() > budget) {
            throw new MemoryBudgetException("training needs about " + e + ", more than the memory budget of "
                    + MemoryBudget.format(budget) + "; use a smaller batch (--batch-size) or model, or raise the budget "
                    + "(-D" + MemoryBudget.PROPERTY + "=SIZE, backprop train --memory-budget SIZE) and the JVM heap "
                    + "(-Xmx, now " + MemoryBudget.format(Runtime.getRuntime().maxMemory()) + ")");
        }
    }
}
