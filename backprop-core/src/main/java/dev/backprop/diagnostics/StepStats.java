package dev.backprop.diagnostics;

import java.util.Map;

/**
 * What the {@link Monitor} measured at one monitored optimizer step.
 *
 * @param step the optimizer step (1 for the first)
 * @param loss the training loss of the step
 * @param gradNorm global L2 norm of all gradients, before clipping (as in the step report)
 * @param nonFiniteFraction fraction of all gradient values that are NaN or infinite
 * @param parameters per parameter, by {@code namedParameters()} name, in model order
 * @param layers per layer (the module path: the parameter name minus its last segment; {@code ""}
 *     for parameters of the root module), in model order
 * @param dead per ReLU module path: fraction of its units (all dimensions but the batch) whose
 *     output was zero for every example of the step's batch
 */
public record StepStats(long step, double loss, double gradNorm, double nonFiniteFraction,
        Map<String, Norms> parameters, Map<String, Norms> layers, Map<String, Double> dead) {

    public StepStats {
        parameters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
        layers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layers));
        dead = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(dead));
    }
}
