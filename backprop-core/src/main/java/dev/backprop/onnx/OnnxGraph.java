package dev.backprop.onnx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX model as {@link OnnxModelReader} reads it: the graph's nodes in file order (which ONNX
 * requires to be topological), its initializers by name (views of the file's bytes), the names of
 * its inputs and outputs, and the model's producer and opset.
 *
 * @param source the file, for error messages
 * @param irVersion {@code ModelProto.ir_version}
 * @param producer {@code producer_name} and {@code producer_version}, space separated
 * @param opsets the operator-set versions by domain ({@code ""} for the default ONNX domain)
 * @param nodes the nodes in file order
 * @param initializers the initializers by name, in file order
 * @param inputs the graph's input names (initializers listed as inputs by old exporters included)
 * @param outputs the graph's output names
 */
public record OnnxGraph(String source, long irVersion, String producer, Map<String, Long> opsets, List<Node> nodes,
        Map<String, OnnxTensor> initializers, List<String> inputs, List<String> outputs) {

    /** An immutable copy of the parts. */
    public OnnxGraph {
        opsets = Collections.unmodifiableMap(new LinkedHashMap<>(opsets));
        nodes = List.copyOf(nodes);
        initializers = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /**
     * A node ({@code NodeProto}).
     *
     * @param index the node's position in the graph (0-based), for error messages
     * @param name the node's name (may be empty)
     * @param opType the operator ("MatMul", "Gather", ...)
     * @param domain the operator's domain ({@code ""} for ONNX's own operators)
     * @param inputs the input value names (an empty name is an omitted optional input)
     * @param outputs the output value names
     * @param attributes the attributes by name
     */
    public record Node(int index, String name, String opType, String domain, List<String> inputs, List<String> outputs,
            Map<String, Attribute> attributes) {
        /** An immutable copy of the parts. */
        public Node {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        }

        /** The node as error messages name it: {@code node 12 "/encoder/MatMul" (MatMul)}. */
        public String describe() {
            return "node " + index + (name.isEmpty() ? "" : " \"" + name + "\"") + " (" + (domain.isEmpty() ? ""
                    : domain + ".") + opType + ")";
        }

        /** An integer attribute, or {@code orElse} when absent. */
        public long intAttribute(String key, long orElse) {
            Attribute a = attributes.get(key);
            return a == null || a.ints().isEmpty() ? orElse : a.ints().get(0);
        }

        /** A float attribute, or {@code orElse} when absent. */
        public double floatAttribute(String key, double orElse) {
            Attribute a = attributes.get(key);
            return a == null || a.floats().isEmpty() ? orElse : a.floats().get(0);
        }
    }

    /**
     * An attribute ({@code AttributeProto}); the fields its type does not use are empty.
     *
     * @param name the attribute's name
     * @param type the {@code AttributeType} (1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS, ...)
     * @param floats {@code f} or {@code floats}
     * @param ints {@code i} or {@code ints}
     * @param strings {@code s} or {@code strings}, decoded as UTF-8
     * @param tensor {@code t}, or null
     */
    public record Attribute(String name, int type, List<Float> floats, List<Long> ints, List<String> strings,
            OnnxTensor tensor) {
        /** An immutable copy of the parts. */
        public Attribute {
            floats = List.copyOf(floats);
            ints = List.copyOf(ints);
            strings = List.copyOf(strings);
        }
    }

    /** The operators used, with their domains ({@code "com.microsoft.FusedMatMul"}), in first-use order. */
    public Set<String> operators() {
        Set<String> ops = new LinkedHashSet<>();
        for (Node n : nodes) {
            ops.add((n.domain().isEmpty() || n.domain().equals("ai.onnx") ? "" : n.domain() + ".") + n.opType());
        }
        return ops;
    }

    /** The node that produces a value, or null for a graph input, an initializer or an unknown name. */
    public Node producer(String value) {
        for (Node n : nodes) {
            if (n.outputs().contains(value)) {
                return n;
            }
        }
        return null;
    }

    /** The nodes that consume a value, in graph order. */
    public List<Node> consumers(String value) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n.inputs().contains(value)) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * The value of a constant: an initializer, or the {@code value} of the {@code Constant} node
     * producing it; null when the value is computed.
     */
    public OnnxTensor constant(String value) {
        OnnxTensor t = initializers.get(value);
        if (t != null) {
            return t;
        }
        Node p = producer(value);
        if (p != null && p.opType().equals("Constant") && p.attributes().containsKey("value")) {
            return p.attributes().get("value").tensor();
        }
        return null;
    }
}
