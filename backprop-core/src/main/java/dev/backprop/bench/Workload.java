package dev.backprop.bench;

import java.util.function.LongSupplier;

/**
 * One benchmark workload ready to run: a training step (zero the gradients, forward, loss,
 * backward, optional gradient clipping, optimizer update) and a forward pass with its loss under
 * no-grad, both on one fixed batch.
 *
 * @param id the workload's id, such as {@code W1}
 * @param description what the model is
 * @param batch samples per step
 * @param parameters number of trainable parameter elements
 * @param step one training step
 * @param forward one forward pass and loss without gradient tracking
 * @param watchNanos for a workload watched by the diagnostics, the CPU time (of the calling
 *     thread, in nanoseconds) spent so far in the diagnostics' own code (monitor, doctor, loss
 *     read-out, gradient norm); null otherwise
 */
public record Workload(String id, String description, int batch, long parameters, Runnable step, Runnable forward,
                       LongSupplier watchNanos) {

    /** A workload without diagnostics. */
    public Workload(String id, String description, int batch, long parameters, Runnable step, Runnable forward) {
        this(id, description, batch, parameters, step, forward, null);
    }
}
