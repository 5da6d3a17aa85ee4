package dev.backprop.data;

import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * A batch of examples: inputs and targets whose first dimension is the batch.
 *
 * <p>A {@link DataLoader} fills in where the batch comes from ({@code epoch}, {@code index}: the
 * position a checkpoint records); a batch taken straight from a {@link Dataset} or a
 * {@link WindowSampler} has both set to {@code -1}.
 *
 * @param inputs (N, ...) the model inputs, for example (N, 1, 28, 28) float32 images or (N, T)
 *     int64 token ids
 * @param targets (N) int64 class indices, (N) or (N, k) float32 regression targets, or (N, T)
 *     int64 next tokens
 * @param epoch the epoch this batch belongs to, or -1
 * @param index the batch's index within its epoch, or -1
 */
public record Batch(Tensor inputs, Tensor targets, int epoch, int index) {

    /** Checks that inputs and targets hold the same number of examples. */
    public Batch {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(targets, "targets");
        if (inputs.dim() == 0 || targets.dim() == 0 || inputs.size(0) != targets.size(0)) {
            throw new IllegalArgumentException("a batch needs inputs and targets with the same first dimension, got"
                    + " inputs " + Arrays.toString(inputs.shape()) + " and targets "
                    + Arrays.toString(targets.shape()));
        }
    }

    /** A batch that no loader produced (epoch and index -1). */
    public static Batch of(Tensor inputs, Tensor targets) {
        return new Batch(inputs, targets, -1, -1);
    }

    /** Number of examples. */
    public int size() {
        return inputs.size(0);
    }

    /** The same batch with other inputs (for a transform). */
    public Batch withInputs(Tensor newInputs) {
        return new Batch(newInputs, targets, epoch, index);
    }

    /** The same batch with other targets (for a transform). */
    public Batch withTargets(Tensor newTargets) {
        return new Batch(inputs, newTargets, epoch, index);
    }

    /** The same examples at another position. */
    public Batch at(int newEpoch, int newIndex) {
        return new Batch(inputs, targets, newEpoch, newIndex);
    }
}
