package dev.backprop.diagnostics;

import java.util.List;

/**
 * A problem the {@link Doctor} found, in plain words, with the fix to try.
 *
 * @param rule the rule's id, one of the {@code Doctor.*} rule constants (e.g. {@code vanishing-gradients})
 * @param severity how bad it is
 * @param step the optimizer step at which it was found
 * @param layers the layers or parameters concerned (may be empty)
 * @param message what is wrong, naming the layers and the numbers
 * @param fix what to try
 */
public record Diagnosis(String rule, Severity severity, long step, List<String> layers, String message, String fix) {

    /** How bad a diagnosis is. */
    public enum Severity {
        /** Training works but could work better (learning rate too low, overfitting). */
        WARNING,
        /** Training is broken or about to be (NaN, divergence, no gradient reaching a layer). */
        ERROR
    }

    public Diagnosis {
        layers = List.copyOf(layers);
    }

    @Override
    public String toString() {
        return "[" + rule + "] " + message + " Try: " + fix;
    }
}
