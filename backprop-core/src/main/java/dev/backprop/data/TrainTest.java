package dev.backprop.data;

/**
 * A training set and a test set of the same kind of examples.
 *
 * @param train the examples to train on (split a validation set off it with
 *     {@link Datasets#randomSplit})
 * @param test the held-out examples
 */
public record TrainTest(TensorDataset train, TensorDataset test) {}
