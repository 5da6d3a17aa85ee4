package dev.backprop.nn;

import java.util.List;

/** A state dict that does not fit a module; nothing was loaded. */
public final class StateDictMismatchException extends IllegalArgumentException {
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> mismatched;

    StateDictMismatchException(String module, List<String> missing, List<String> unexpected, List<String> mismatched) {
        super(message(module, missing, unexpected, mismatched));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.mismatched = List.copyOf(mismatched);
    }

    StateDictMismatchException(String message, StateDictMismatchException cause) {
        super(message, cause);
        this.missing = cause.missing;
        this.unexpected = cause.unexpected;
        this.mismatched = cause.mismatched;
    }

    private static String message(String module, List<String> missing, List<String> unexpected,
            List<String> mismatched) {
        StringBuilder sb = new StringBuilder("error loading the state dict of " + module + " (nothing was loaded):");
        if (!missing.isEmpty()) {
            sb.append("\n  missing keys: ").append(String.join(", ", missing));
        }
        if (!unexpected.isEmpty()) {
            sb.append("\n  unexpected keys: ").append(String.join(", ", unexpected));
        }
        for (String m : mismatched) {
            sb.append("\n  size mismatch for ").append(m);
        }
        sb.append("\n  Check that the model is built with the same architecture as the one that saved the weights,"
                + " or load with strict=false to skip missing and unexpected keys.");
        return sb.toString();
    }

    public List<String> missingKeys() {
        return missing;
    }

    public List<String> unexpectedKeys() {
        return unexpected;
    }

    /** One entry per key whose shape or type differs, with both shapes. */
    public List<String> mismatchedKeys() {
        return mismatched;
    }
}
