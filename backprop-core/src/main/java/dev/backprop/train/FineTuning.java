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
import java.util.function.UnaryOperator;

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
     * @param unused keys of the file the model does not have (after renaming)
     */
    public record Result(List<String> loaded, List<String> reinitialised, List<String> missing, List<String> unused) {
        /** A readable account: what loaded, and every name that did not match, by kind. */
        public String report() {
            StringBuilder sb = new StringBuilder();
            sb.append(loaded.size()).append(" tensors loaded");
            if (!reinitialised.isEmpty()) {
                sb.append("\n").append(reinitialised.size()).append(" of the model's tensors have another shape in "
                        + "the file and keep their initialisation: ").append(reinitialised);
            }
            if (!missing.isEmpty()) {
                sb.append("\n").append(missing.size()).append(" of the model's tensors are not in the file and keep "
                        + "their initialisation: ").append(missing);
            }
            if (!unused.isEmpty()) {
                sb.append("\n").append(unused.size()).append(" tensors of the file match no model key: ").append(unused);
            }
            return sb.toString();
        }
    }

    /**
     * Loads into {@code model} every tensor of the safetensors {@code file} whose key and shape
     * match. Throws when nothing matches (the file is for another architecture).
     */
    public static Result loadMatching(Module model, Path file) throws IOException {
        return loadMatching(model, file, UnaryOperator.identity());
    }

    /**
     * Loads a safetensors file (a PyTorch state dict saved with {@code safetensors.torch.save_file},
     * a HuggingFace {@code model.safetensors}) into a model of the same architecture, renaming the
     * file's keys first: {@code rename} maps a key of the file to the model's key, or to null to
     * leave the tensor out (for a model whose names differ, such as HuggingFace's {@code bert.}
     * prefix: {@code k -> k.startsWith("bert.") ? k.substring(5) : k}).
     *
     * @throws IllegalArgumentException if nothing matches (the file is for another architecture)
     */
    public static Result loadMatching(Module model, Path file, UnaryOperator<String> rename) throws IOException {
        return loadMatching(model, SafeTensors.read(file).tensors(), rename, file.toString());
    }

    /**
     * Loads a state dict held in memory (see {@link #loadMatching(Module, Path, UnaryOperator)});
     * {@code source} names it in error messages.
     *
     * @throws IllegalArgumentException if nothing matches, or two keys of the file rename to one
     */
    public static Result loadMatching(Module model, Map<String, Tensor> state, UnaryOperator<String> rename,
            String source) {
        Map<String, Tensor> renamed = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        List<String> unused = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String k = rename.apply(e.getKey());
            if (k == null) {
                unused.add(e.getKey() + " (left out by the name mapping)");
                continue;
            }
            String before = origin.put(k, e.getKey());
            if (before != null) {
                throw new IllegalArgumentException(source + ": keys \"" + before + "\" and \"" + e.getKey()
                        + "\" both map to \"" + k + "\"; fix the name mapping");
            }
            renamed.put(k, e.getValue());
        }
        Map<String, Tensor> own = model.stateDict();
        Map<String, Tensor> matching = new LinkedHashMap<>();
        List<String> reinit = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor t = renamed.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (Arrays.equals(t.shape(), e.getValue().shape()) && t.dtype() == e.getValue().dtype()) {
                matching.put(e.getKey(), t);
            } else {
                reinit.add(e.getKey() + " " + Arrays.toString(e.getValue().shape()) + " (file: "
                        + Arrays.toString(t.shape()) + ")");
            }
        }
        for (String k : renamed.keySet()) {
            if (!own.containsKey(k)) {
                String from = origin.get(k);
                unused.add(from.equals(k) ? k : from + " (as " + k + ")");
            }
        }
        if (matching.isEmpty()) {
            throw new IllegalArgumentException(source + ": no tensor matches the model by key and shape (model keys "
                    + summary(own.keySet()) + ", file keys " + summary(renamed.keySet()) + "): the weights are for "
                    + "another architecture, or the names differ (pass a name mapping)");
        }
        model.loadStateDict(matching, false);
        return new Result(List.copyOf(matching.keySet()), reinit, missing, unused);
    }

    /**
     * A state dict for a model whose vocabulary extends the source's: every tensor whose first
     * dimension is the old vocabulary size (embeddings, output layers and their biases) gets the
     * model's own tensor (its initialisation) with the rows of the old tokens copied to their new
     * ids; other tensors pass unchanged.
     *
     * @param source the fine-tuned-from state dict
     * @param target the new model's state dict (its initial values)
     * @param oldToNew the new id of each old id
     */
    public static Map<String, Tensor> extendVocabulary(Map<String, Tensor> source, Map<String, Tensor> target,
            int[] oldToNew) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            Tensor s = e.getValue();
            Tensor t = target.get(e.getKey());
            if (t != null && s.dim() >= 1 && s.size(0) == oldToNew.length && t.dim() == s.dim()
                    && t.size(0) >= oldToNew.length && t.size(0) != s.size(0)
                    && Arrays.equals(Arrays.copyOfRange(s.shape(), 1, s.dim()), Arrays.copyOfRange(t.shape(), 1, t.dim()))) {
                float[] rows = t.contiguous().toFloatArray().clone();
                float[] old = s.contiguous().toFloatArray();
                int w = s.numel() / s.size(0);
                for (int i = 0; i < oldToNew.length; i++) {
                    System.arraycopy(old, i * w, rows, oldToNew[i] * w, w);
                }
                out.put(e.getKey(), Tensor.of(rows, t.shape()));
            } else {
                out.put(e.getKey(), s);
            }
        }
        return out;
    }

    private static String summary(java.util.Collection<String> keys) {
        List<String> l = new ArrayList<>(keys);
        return l.size() <= 12 ? l.toString() : l.subList(0, 12) + " and " + (l.size() - 12) + " more";
    }
}
