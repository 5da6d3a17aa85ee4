package dev.backprop.spark;

import dev.backprop.nn.Module;
import java.io.Serializable;

/**
 * Builds the model to train, on the driver and on every executor: a serializable lambda such as
 * {@code () -> new Sequential(new Linear(784, 10))}. Each call must return the same architecture
 * (the same parameter names and shapes); the initial values do not matter on executors, which
 * load the driver's weights before every step.
 */
@FunctionalInterface
public interface ModelFactory extends Serializable {
    /** A new model. */
    Module create();
}
