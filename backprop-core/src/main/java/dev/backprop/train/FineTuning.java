package dev.backprop.train;

import dev.backprop.io.SafeTensors;
import dev.backprop.nn.Module;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Starting a model from the weights of another one (fine-tuning, transfer learning): every tensor
 * whose key and shape match is loaded; those whose shape differs (a classification head for a
 * different number of classes) keep their fresh initialisation, like PyTorch users do with
 * {@code load_state_dict(..., strict=False)} after dropping the head.
 */
public final class FineTuning {
    private FineTuning() {}

    /**
     * What {@link #loadMatching} did.
     *
     * @param loaded keys loaded from the file
     * @param reinitialised keys of the model whose shape differs in the file (left as initialised)
     * @param missing keys of the model absent from the file (left as initialised)
     * @param unused keys of the file the model does not have
     */
    public record Result(List<String> loaded, List<String> reinitialised, List<String> missing, List<String> unused) {}

    /**
     * Loads into {@code model} every tensor of the safetensors {@code file} whose key and shape
     * match. Throws when nothing matches (the file is for another architecture).
     */
    public static Result loadMatching(Module model, Path file) throws IOException {
        Map<String, Tensor> source = SafeTensors.read(file).tensors();
        Map<String, Tensor> own = model.stateDict();
        Map<String, Tensor> matching = new LinkedHashMap<>();
        List<String> reinit = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor t = source.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (Arrays.equals(t.shape(), e.getValue().shape()) && t.dtype() == e.getValue().dtype()) {
                matching.put(e.getKey(), t);
            } else {
                reinit.add(e.getKey() + " " + Arrays.toString(e.getValue().shape()) + " (file: "
                        + Arrays.toString(t.shape()) + ")");
            }
        }
        List<String> unused = new ArrayList<>();
        for (String k : source.keySet()) {
            if (!own.containsKey(k)) {
                unused.add(k);
            }
        }
        if (matching.isEmpty()) {
            throw new IllegalArgumentException(file + ": no tensor matches the model by key and shape (model keys "
                    + own.keySet() + ", file keys " + source.keySet() + "): the weights are for another architecture");
        }
        model.loadStateDict(matching, false);
        return new Result(List.copyOf(matching.keySet()), reinit, missing, unused);
    }
}
