package dev.backprop.onnx;

import dev.backprop.models.Bert;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Imports a BERT-family encoder exported to ONNX (HuggingFace {@code BertModel} through
 * {@code torch.onnx.export} or optimum, as all-MiniLM-L6-v2 is shipped) into a backprop
 * {@link Bert}: the graph's initializers become the model's parameters, its operators are checked
 * to be those of a BERT encoder, and the sizes (layers, heads, epsilon) are read from the graph.
 *
 * <p><b>Mapping.</b> Initializers named like the state dict ({@code embeddings.word_embeddings.weight},
 * {@code encoder.layer.0.attention.self.query.bias}, optionally prefixed {@code bert.}) load by name.
 * Exporters give the Linear weights anonymous names ({@code onnx::MatMul_787}) and store them
 * transposed, as the right operand of a {@code MatMul}; those are followed through the graph: the
 * MatMul that consumes the initializer names its module ({@code /encoder/layer.0/attention/self/query/MatMul}
 * gives {@code encoder.layer.0.attention.self.query.weight}), and when node names do not say, the
 * k-th such MatMul in graph order is the k-th Linear of the model (query, key, value, attention
 * output, intermediate, output, per layer). An anonymous bias is the initializer added to such a
 * MatMul's output. {@code Gemm} nodes are handled alike. Every shape is checked against the model.
 *
 * <p><b>Errors.</b> An operator a BERT encoder does not use ({@code LSTM}, a fused
 * {@code com.microsoft.Attention}), a parameter the file does not provide, or a shape that does not
 * fit throws an {@link OnnxFormatException} naming the node or tensor and what was expected.
 */
public final class OnnxBertImport {
    /** The operators of a BERT encoder graph (default ONNX domain) that the import accepts. */
    public static final Set<String> SUPPORTED_OPS = Set.of("Constant", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf",
            "Gather", "Unsqueeze", "Squeeze", "Shape", "Concat", "Reshape", "Transpose", "MatMul", "Gemm", "ReduceMean",
            "Softmax", "Cast", "Slice", "LayerNormalization", "Where", "Equal", "Expand", "ConstantOfShape", "Tanh",
            "Identity", "Range", "Not", "Less", "Greater", "Neg", "Dropout");

    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

    /**
     * What the import produced.
     *
     * @param model the encoder, in eval mode
     * @param loaded the model keys set from the file, with the initializer each came from when it
     *     was found through the graph ({@code "encoder.layer.0.attention.self.query.weight <-
     *     onnx::MatMul_787 (transposed)"})
     * @param unused the initializers the model has no place for (such as {@code embeddings.position_ids})
     */
    public record Result(Bert model, List<String> loaded, List<String> unused) {}

    private OnnxBertImport() {}

    /**
     * Reads an ONNX file (memory-mapped) and imports it.
     *
     * @throws IOException if the file cannot be read
     * @throws OnnxFormatException if the file is malformed or is not a BERT encoder backprop can import
     */
    public static Result load(Path onnxFile) throws IOException {
        return fromGraph(OnnxModelReader.read(onnxFile));
    }

    /**
     * Imports a graph already read.
     *
     * @throws OnnxFormatException if the graph is not a BERT encoder backprop can import
     */
    public static Result fromGraph(OnnxGraph g) {
        checkOperators(g);
        Map<String, OnnxTensor> inits = g.initializers();
        // 1. initializers named like the state dict
        Map<String, Tensor> state = new LinkedHashMap<>();
        List<String> loaded = new ArrayList<>();
        Set<String> used = new LinkedHashSet<>();
        for (OnnxTensor t : inits.values()) {
            String key = t.name().startsWith("bert.") ? t.name().substring(5) : t.name();
            if (isModelKey(key) && t.isFloatingPoint()) {
                state.put(key, t.toTensor());
                used.add(t.name());
                loaded.add(key);
            }
        }
        // 2. anonymous weights: follow the MatMul/Gemm nodes that consume initializers
        List<OnnxGraph.Node> linear = new ArrayList<>();
        for (OnnxGraph.Node n : g.nodes()) {
            if ((n.opType().equals("MatMul") || n.opType().equals("Gemm")) && n.inputs().size() >= 2) {
                OnnxTensor w = inits.get(n.inputs().get(1));
                if (w != null && w.dims().length == 2 && w.isFloatingPoint()) {
                    linear.add(n);
                }
            }
        }
        Bert.Config config = inferConfig(g, state, linear);
        List<String> linearKeys = linearWeightKeys(config);
        boolean byName = !linear.isEmpty();
        List<String> namedKeys = new ArrayList<>();
        for (OnnxGraph.Node n : linear) {
            String k = modulePath(n);
            namedKeys.add(k == null ? null : k + ".weight");
            byName &= k != null && linearKeys.contains(k + ".weight");
        }
        byName &= new LinkedHashSet<>(namedKeys).size() == namedKeys.size();
        List<String> missingWeights = new ArrayList<>();
        for (String k : linearKeys) {
            if (!state.containsKey(k)) {
                missingWeights.add(k);
            }
        }
        if (!missingWeights.isEmpty()) {
            if (!byName && linear.size() != missingWeights.size()) {
                throw new OnnxFormatException(g.source() + ": the model needs " + missingWeights.size()
                        + " Linear weights not stored under their own names (" + summary(missingWeights) + ") but the "
                        + "graph has " + linear.size() + " MatMul/Gemm nodes with a weight initializer whose node "
                        + "names do not tell the module; cannot map them to a BERT encoder");
            }
            for (int i = 0; i < linear.size(); i++) {
                OnnxGraph.Node n = linear.get(i);
                String key = byName ? namedKeys.get(i) : missingWeights.get(i);
                if (state.containsKey(key)) {
                    continue;
                }
                OnnxTensor w = inits.get(n.inputs().get(1));
                boolean transposed = n.opType().equals("MatMul") || n.intAttribute("transB", 0) == 0;
                Tensor t = w.toTensor();
                if (transposed) {
                    t = t.t().contiguous();
                }
                state.put(key, t);
                used.add(w.name());
                loaded.add(key + " <- " + w.name() + (transposed ? " (transposed)" : "") + " via " + n.describe());
                // an anonymous bias: Gemm's third input, or the initializer added to the MatMul's output
                String biasKey = key.substring(0, key.length() - "weight".length()) + "bias";
                if (!state.containsKey(biasKey)) {
                    OnnxTensor bias = null;
                    if (n.opType().equals("Gemm") && n.inputs().size() >= 3) {
                        bias = inits.get(n.inputs().get(2));
                    } else {
                        for (OnnxGraph.Node c : g.consumers(n.outputs().get(0))) {
                            if (c.opType().equals("Add")) {
                                for (String in : c.inputs()) {
                                    OnnxTensor cand = inits.get(in);
                                    if (cand != null && cand.dims().length == 1) {
                                        bias = cand;
                                    }
                                }
                            }
                        }
                    }
                    if (bias != null) {
                        state.put(biasKey, bias.toTensor());
                        used.add(bias.name());
                        loaded.add(biasKey + " <- " + bias.name() + " via " + n.describe());
                    }
                }
            }
        }
        Bert model = new Bert(config);
        Map<String, Tensor> own = model.stateDict();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor t = state.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(t.shape(), e.getValue().shape())) {
                throw new OnnxFormatException(g.source() + ": " + e.getKey() + " has shape " + Arrays.toString(t.shape())
                        + " in the file but the BERT encoder built from its sizes (" + config + ") needs "
                        + Arrays.toString(e.getValue().shape()));
            }
        }
        if (!missing.isEmpty()) {
            throw new OnnxFormatException(g.source() + ": the file provides no weights for " + summary(missing)
                    + "; is it a BERT encoder (HuggingFace BertModel export)? Initializers: "
                    + summary(new ArrayList<>(inits.keySet())));
        }
        model.loadStateDict(state, true);
        model.eval();
        List<String> unused = new ArrayList<>();
        for (OnnxTensor t : inits.values()) {
            if (!used.contains(t.name())) {
                unused.add(t.toString());
            }
        }
        return new Result(model, List.copyOf(loaded), List.copyOf(unused));
    }

    private static void checkOperators(OnnxGraph g) {
        for (OnnxGraph.Node n : g.nodes()) {
            boolean defaultDomain = n.domain().isEmpty() || n.domain().equals("ai.onnx");
            if (!defaultDomain || !SUPPORTED_OPS.contains(n.opType())) {
                throw new OnnxFormatException(g.source() + ": " + n.describe() + ": unsupported operator "
                        + (defaultDomain ? "" : n.domain() + ".") + n.opType() + " for a BERT encoder import "
                        + "(supported, default ONNX domain: " + new TreeSet<>(SUPPORTED_OPS) + "); export the model "
                        + "without graph optimisations (optimum: --optimize O0, or plain torch.onnx.export)");
            }
        }
        if (g.nodes().stream().noneMatch(n -> n.opType().equals("Erf"))) {
            throw new OnnxFormatException(g.source() + ": the graph has no Erf node, so its activation is not the "
                    + "exact GELU that backprop's BERT uses (found operators " + g.operators() + ")");
        }
    }

    private static Bert.Config inferConfig(OnnxGraph g, Map<String, Tensor> state, List<OnnxGraph.Node> linear) {
        Tensor word = state.get("embeddings.word_embeddings.weight");
        Tensor pos = state.get("embeddings.position_embeddings.weight");
        Tensor types = state.get("embeddings.token_type_embeddings.weight");
        if (word == null || pos == null || types == null) {
            throw new OnnxFormatException(g.source() + ": no initializer named embeddings.word_embeddings.weight, "
                    + "embeddings.position_embeddings.weight and embeddings.token_type_embeddings.weight (found "
                    + summary(new ArrayList<>(g.initializers().keySet())) + "); is it a BERT encoder export?");
        }
        int hidden = word.size(1);
        int layers = 0;
        for (String k : g.initializers().keySet()) {
            Matcher m = LAYER.matcher(k.startsWith("bert.") ? k.substring(5) : k);
            if (m.find()) {
                layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
            }
        }
        if (layers == 0) {
            for (OnnxGraph.Node n : linear) {
                String p = modulePath(n);
                Matcher m = p == null ? null : LAYER.matcher(p + ".");
                if (m != null && m.find()) {
                    layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
                }
            }
        }
        if (layers == 0 && linear.size() % 6 == 0) {
            layers = linear.size() / 6;
        }
        if (layers == 0) {
            throw new OnnxFormatException(g.source() + ": cannot tell the number of encoder layers (no initializer "
                    + "or node named encoder.layer.N)");
        }
        int intermediate = -1;
        for (OnnxGraph.Node n : linear) {
            OnnxTensor w = g.initializers().get(n.inputs().get(1));
            long[] d = w.dims();
            boolean transposed = n.opType().equals("MatMul") || n.intAttribute("transB", 0) == 0;
            long in = transposed ? d[0] : d[1];
            long out = transposed ? d[1] : d[0];
            if (in == hidden && out != hidden) {
                intermediate = (int) out;
                break;
            }
        }
        Tensor inter = state.get("encoder.layer.0.intermediate.dense.weight");
        if (inter != null) {
            intermediate = inter.size(0);
        }
        if (intermediate <= 0) {
            throw new OnnxFormatException(g.source() + ": cannot find the feed-forward width (no weight of shape ("
                    + hidden + ", N) with N != " + hidden + ")");
        }
        int heads = inferHeads(g, hidden);
        float eps = inferEps(g);
        boolean pooler = g.initializers().keySet().stream().anyMatch(k -> k.contains("pooler.dense"));
        return new Bert.Config(word.size(0), hidden, layers, heads, intermediate, pos.size(0), types.size(0), eps,
                0.1f, pooler);
    }

    /** The heads: the Reshape splitting a projection into (B, T, heads, headSize) holds both as constants. */
    private static int inferHeads(OnnxGraph g, int hidden) {
        for (OnnxGraph.Node n : g.nodes()) {
            if (!n.opType().equals("Reshape") || n.inputs().size() < 2) {
                continue;
            }
            List<Long> dims = new ArrayList<>();
            OnnxTensor direct = g.constant(n.inputs().get(1));
            if (direct != null) {
                for (double v : direct.toDoubles()) {
                    dims.add((long) v);
                }
            } else {
                OnnxGraph.Node concat = g.producer(n.inputs().get(1));
                if (concat == null || !concat.opType().equals("Concat")) {
                    continue;
                }
                for (String in : concat.inputs()) {
                    OnnxTensor c = g.constant(in);
                    if (c != null && c.numel() == 1 && !c.isFloatingPoint()) {
                        dims.add((long) c.toDoubles()[0]);
                    } else {
                        dims.add(-1L);
                    }
                }
            }
            if (dims.size() == 4 && dims.get(2) > 0 && dims.get(3) > 0 && dims.get(2) * dims.get(3) == hidden) {
                return dims.get(2).intValue();
            }
        }
        throw new OnnxFormatException(g.source() + ": cannot find the number of attention heads (no Reshape to "
                + "(B, T, heads, headSize) with heads * headSize = " + hidden + ")");
    }

    /** LayerNorm's epsilon: a LayerNormalization's attribute, or the constant added to the variance. */
    private static float inferEps(OnnxGraph g) {
        for (OnnxGraph.Node n : g.nodes()) {
            if (n.opType().equals("LayerNormalization")) {
                return (float) n.floatAttribute("epsilon", 1e-5);
            }
            if (n.opType().equals("Sqrt")) {
                OnnxGraph.Node add = g.producer(n.inputs().get(0));
                if (add != null && add.opType().equals("Add")) {
                    for (String in : add.inputs()) {
                        OnnxTensor c = g.constant(in);
                        if (c != null && c.numel() == 1 && c.isFloatingPoint()) {
                            return (float) c.toDoubles()[0];
                        }
                    }
                }
            }
        }
        return 1e-12f;
    }

    /** The module path a MatMul/Gemm node's name gives ("/encoder/layer.0/attention/self/query/MatMul"). */
    private static String modulePath(OnnxGraph.Node n) {
        String name = n.name().isEmpty() ? n.outputs().isEmpty() ? "" : n.outputs().get(0) : n.name();
        if (!name.startsWith("/") || name.lastIndexOf('/') <= 0) {
            return null;
        }
        String path = name.substring(1, name.lastIndexOf('/')).replace('/', '.');
        return path.startsWith("bert.") ? path.substring(5) : path;
    }

    private static List<String> linearWeightKeys(Bert.Config c) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "encoder.layer." + i + ".";
            keys.add(p + "attention.self.query.weight");
            keys.add(p + "attention.self.key.weight");
            keys.add(p + "attention.self.value.weight");
            keys.add(p + "attention.output.dense.weight");
            keys.add(p + "intermediate.dense.weight");
            keys.add(p + "output.dense.weight");
        }
        if (c.pooler()) {
            keys.add("pooler.dense.weight");
        }
        return keys;
    }

    private static boolean isModelKey(String key) {
        return key.startsWith("embeddings.") && !key.endsWith("position_ids") || key.startsWith("encoder.layer.")
                || key.startsWith("pooler.dense.");
    }

    private static String summary(List<String> names) {
        return names.size() <= 8 ? names.toString()
                : names.subList(0, 8) + " and " + (names.size() - 8) + " more";
    }
}
