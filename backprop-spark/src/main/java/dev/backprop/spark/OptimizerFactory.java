package dev.backprop.spark;

import dev.backprop.nn.Module;
import dev.backprop.optim.Optimizer;
import java.io.Serializable;

/**
 * Builds the optimizer of a model: a serializable lambda such as
 * {@code m -> new Adam(m.parameters(), 1e-3)}. The synchronous strategy calls it on the driver
 * only; local SGD also on the executors, which take their local steps with it.
 */
@FunctionalInterface
public interface OptimizerFactory extends Serializable {
    /** A new optimizer over {@code model}'s parameters. */
    Optimizer create(Module model);
}
