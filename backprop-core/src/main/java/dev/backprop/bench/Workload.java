package dev.backprop.bench;

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
 */
public record Workload(String id, String description, int batch, long parameters, Runnable step, Runnable forward) {}
