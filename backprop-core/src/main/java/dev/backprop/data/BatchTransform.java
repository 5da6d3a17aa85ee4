package dev.backprop.data;

import dev.backprop.tensor.Generator;

/**
 * A per-batch transformation applied by a {@link DataLoader} after the examples are gathered: data
 * augmentation ({@link ImageAugment}), noise, normalisation.
 *
 * <p>The generator is seeded from the loader's seed, the epoch and the batch index, and is new for
 * every batch: a transform that draws its randomness only from it makes the same batch every time
 * that position is produced, with or without prefetching, in a run resumed from a checkpoint as
 * in the original one. It runs on the loader's prefetch thread, one batch at a time, so it must
 * not touch state shared with the training loop.
 */
@FunctionalInterface
public interface BatchTransform {

    /**
     * Transforms one batch. The batch's tensors are new (not views of the data set) and belong to
     * the transform: it may change them in place or return new ones.
     *
     * @param batch the gathered examples; {@code epoch()} and {@code index()} say where they belong
     * @param gen randomness for this batch only
     * @return the batch to hand to the training loop (its epoch and index are kept by the loader)
     */
    Batch apply(Batch batch, Generator gen);

    /** This transform, then {@code next}, both drawing from the same per-batch generator. */
    default BatchTransform andThen(BatchTransform next) {
        return (batch, gen) -> next.apply(apply(batch, gen), gen);
    }
}
