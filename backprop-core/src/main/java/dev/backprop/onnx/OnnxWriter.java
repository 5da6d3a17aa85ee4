package dev.backprop.onnx;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * An ONNX model under construction: graph inputs and outputs, initializers (the weights) and
 * nodes, written as a {@code ModelProto} by {@link #toByteArray()} with the field numbers of
 * <a href="https://github.com/onnx/onnx/blob/main/onnx/onnx.proto">onnx.proto</a>. The model
 * imports the default ONNX domain at {@link #OPSET} and declares IR version {@link #IR_VERSION}.
 *
 * <p>Names of values are unique within the graph: {@link #node} derives each output's name from
 * the hint it is given (a layer path) and numbers repeats, so emitters need not track them.
 *
 * <pre>{@code
 * OnnxWriter w = new OnnxWriter("mlp");
 * String x = w.input("input", DType.FLOAT32, "batch", 4);
 * String y = w.node("fc", "Gemm", List.of(x, w.initializer("fc.weight", weight)), Attr.ints("transB", 1));
 * w.output(y, "output", DType.FLOAT32, "batch", 3);
 * byte[] onnx = w.toByteArray();
 * }</pre>
 */
public final class OnnxWriter {
    /** The ONNX operator set the graphs use (17: the first with LayerNormalization). */
    public static final int OPSET = 17;
    /** The IR version declared (8: ONNX 1.10 and later, ONNX Runtime 1.10 and later). */
    public static final int IR_VERSION = 8;

    // ModelProto
    private static final int MODEL_IR_VERSION = 1;
    private static final int MODEL_PRODUCER_NAME = 2;
    private static final int MODEL_PRODUCER_VERSION = 3;
    private static final int MODEL_DOC_STRING = 6;
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_OPSET_IMPORT = 8;
    private static final int MODEL_METADATA_PROPS = 14;
    // OperatorSetIdProto, StringStringEntryProto
    private static final int OPSET_DOMAIN = 1;
    private static final int OPSET_VERSION = 2;
    private static final int ENTRY_KEY = 1;
    private static final int ENTRY_VALUE = 2;
    // GraphProto
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_NAME = 2;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_INPUT = 11;
    private static final int GRAPH_OUTPUT = 12;
    // NodeProto
    private static final int NODE_INPUT = 1;
    private static final int NODE_OUTPUT = 2;
    private static final int NODE_NAME = 3;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;
    // AttributeProto
    private static final int ATTR_NAME = 1;
    private static final int ATTR_F = 2;
    private static final int ATTR_I = 3;
    private static final int ATTR_S = 4;
    private static final int ATTR_FLOATS = 7;
    private static final int ATTR_INTS = 8;
    private static final int ATTR_STRINGS = 9;
    private static final int ATTR_TYPE = 20;
    // TensorProto
    private static final int TENSOR_DIMS = 1;
    private static final int TENSOR_DATA_TYPE = 2;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, Dimension
    private static final int VALUE_INFO_NAME = 1;
    private static final int VALUE_INFO_TYPE = 2;
    private static final int TYPE_TENSOR_TYPE = 1;
    private static final int TENSOR_TYPE_ELEM_TYPE = 1;
    private static final int TENSOR_TYPE_SHAPE = 2;
    private static final int SHAPE_DIM = 1;
    private static final int DIM_VALUE = 1;
    private static final int DIM_PARAM = 2;

    /** TensorProto.DataType of a backprop element type. */
    static int dataType(DType t) {
        return switch (t) {
            case FLOAT32 -> 1;
            case UINT8 -> 2;
            case INT64 -> 7;
            case BOOL -> 9;
        };
    }

    /**
     * A node attribute: AttributeProto with its {@code type} discriminator (FLOAT 1, INT 2,
     * STRING 3, FLOATS 6, INTS 7, STRINGS 8).
     */
    public record Attr(String name, int type, Object value) {
        public static Attr i(String name, long value) {
            return new Attr(name, 2, value);
        }

        public static Attr f(String name, float value) {
            return new Attr(name, 1, value);
        }

        public static Attr s(String name, String value) {
            return new Attr(name, 3, value);
        }

        public static Attr ints(String name, long... values) {
            return new Attr(name, 7, values.clone());
        }

        public static Attr floats(String name, float... values) {
            return new Attr(name, 6, values.clone());
        }

        public static Attr strings(String name, String... values) {
            return new Attr(name, 8, values.clone());
        }

        ProtoWriter proto() {
            ProtoWriter p = new ProtoWriter().string(ATTR_NAME, name);
            switch (type) {
                case 1 -> p.float32(ATTR_F, (Float) value);
                case 2 -> p.int64(ATTR_I, (Long) value);
                case 3 -> p.string(ATTR_S, (String) value);
                case 6 -> p.packedFloat32(ATTR_FLOATS, (float[]) value);
                case 7 -> p.packedInt64(ATTR_INTS, (long[]) value);
                case 8 -> {
                    for (String v : (String[]) value) {
                        p.string(ATTR_STRINGS, v);
                    }
                }
                default -> throw new IllegalStateException("attribute type " + type);
            }
            return p.int64(ATTR_TYPE, type);
        }
    }

    private final String graphName;
    private final List<ProtoWriter> nodes = new ArrayList<>();
    private final List<ProtoWriter> initializers = new ArrayList<>();
    private final List<ProtoWriter> inputs = new ArrayList<>();
    private final List<ProtoWriter> outputs = new ArrayList<>();
    private final List<String[]> metadata = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private String docString = "";
    private int constants;

    /** An empty graph named {@code graphName}. */
    public OnnxWriter(String graphName) {
        this.graphName = Objects.requireNonNull(graphName, "graphName");
    }

    /**
     * Declares a graph input and returns its name.
     *
     * @param dims each an {@link Integer} (a fixed size) or a {@link String} (a symbolic size, such
     *     as {@code "batch"})
     */
    public String input(String name, DType type, Object... dims) {
        claim(name);
        inputs.add(valueInfo(name, type, dims));
        return name;
    }

    /**
     * Declares the value {@code value} a graph output named {@code name} (an Identity node renames it
     * when the names differ).
     */
    public void output(String value, String name, DType type, Object... dims) {
        if (!value.equals(name)) {
            claim(name);
            nodes.add(nodeProto(name, "Identity", List.of(value), List.of(name), List.of()));
        }
        outputs.add(valueInfo(name, type, dims));
    }

    /** Adds {@code value} as an initializer named {@code name} (a state-dict key) and returns the name. */
    public String initializer(String name, Tensor value) {
        claim(name);
        int[] shape = value.shape();
        ProtoWriter t = new ProtoWriter();
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
        }
        if (dims.length > 0) {
            t.packedInt64(TENSOR_DIMS, dims);
        }
        t.int64(TENSOR_DATA_TYPE, dataType(value.dtype()));
        t.string(TENSOR_NAME, name);
        t.bytes(TENSOR_RAW_DATA, rawData(value));
        initializers.add(t);
        return name;
    }

    /** A constant int64 initializer of shape ({@code values.length}), named after {@code hint}. */
    public String constantLongs(String hint, long... values) {
        return initializer(fresh(hint + "/const" + constants++), Tensor.ofLongs(values.clone(), values.length));
    }

    /** A constant int64 scalar (shape []), named after {@code hint}. */
    public String constantLong(String hint, long value) {
        return initializer(fresh(hint + "/const" + constants++), Tensor.ofLongs(new long[] {value}));
    }

    /** A constant float32 scalar (shape []), named after {@code hint}. */
    public String constantFloat(String hint, float value) {
        return initializer(fresh(hint + "/const" + constants++), Tensor.of(new float[] {value}));
    }

    /** A node with one output; returns the output's name, derived from {@code hint}. */
    public String node(String hint, String opType, List<String> nodeInputs, Attr... attrs) {
        return node(hint, opType, nodeInputs, 1, attrs)[0];
    }

    /**
     * A node with {@code outputCount} outputs; returns their names, derived from {@code hint}. An
     * empty input name marks an omitted optional input.
     */
    public String[] node(String hint, String opType, List<String> nodeInputs, int outputCount, Attr... attrs) {
        String base = fresh(hint.isEmpty() ? opType : hint + "/" + opType);
        claim(base);
        String[] outs = new String[outputCount];
        outs[0] = base;
        for (int i = 1; i < outputCount; i++) {
            outs[i] = fresh(base + ":" + i);
            claim(outs[i]);
        }
        nodes.add(nodeProto(base, opType, nodeInputs, Arrays.asList(outs), Arrays.asList(attrs)));
        return outs;
    }

    /** A human-readable description of the model (ModelProto.doc_string). */
    public OnnxWriter docString(String text) {
        this.docString = Objects.requireNonNull(text);
        return this;
    }

    /** A metadata entry (ModelProto.metadata_props). */
    public OnnxWriter metadata(String key, String value) {
        metadata.add(new String[] {key, value});
        return this;
    }

    /** The ModelProto bytes: a {@code .onnx} file. */
    public byte[] toByteArray() {
        ProtoWriter graph = new ProtoWriter();
        nodes.forEach(n -> graph.message(GRAPH_NODE, n));
        graph.string(GRAPH_NAME, graphName);
        initializers.forEach(t -> graph.message(GRAPH_INITIALIZER, t));
        inputs.forEach(v -> graph.message(GRAPH_INPUT, v));
        outputs.forEach(v -> graph.message(GRAPH_OUTPUT, v));
        ProtoWriter model = new ProtoWriter()
                .int64(MODEL_IR_VERSION, IR_VERSION)
                .string(MODEL_PRODUCER_NAME, "backprop")
                .string(MODEL_PRODUCER_VERSION, producerVersion());
        if (!docString.isEmpty()) {
            model.string(MODEL_DOC_STRING, docString);
        }
        model.message(MODEL_GRAPH, graph)
                .message(MODEL_OPSET_IMPORT, new ProtoWriter().string(OPSET_DOMAIN, "").int64(OPSET_VERSION, OPSET));
        for (String[] kv : metadata) {
            model.message(MODEL_METADATA_PROPS, new ProtoWriter().string(ENTRY_KEY, kv[0]).string(ENTRY_VALUE, kv[1]));
        }
        return model.toByteArray();
    }

    private static String producerVersion() {
        String v = OnnxWriter.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static ProtoWriter nodeProto(String name, String opType, List<String> in, List<String> out,
            List<Attr> attrs) {
        ProtoWriter n = new ProtoWriter();
        in.forEach(s -> n.string(NODE_INPUT, s));
        out.forEach(s -> n.string(NODE_OUTPUT, s));
        n.string(NODE_NAME, name).string(NODE_OP_TYPE, opType);
        attrs.forEach(a -> n.message(NODE_ATTRIBUTE, a.proto()));
        return n;
    }

    private static ProtoWriter valueInfo(String name, DType type, Object... dims) {
        ProtoWriter shape = new ProtoWriter();
        for (Object d : dims) {
            ProtoWriter dim = new ProtoWriter();
            switch (d) {
                case Integer size -> dim.int64(DIM_VALUE, size);
                case String symbol -> dim.string(DIM_PARAM, symbol);
                default -> throw new IllegalArgumentException("a dimension is an Integer or a String, got " + d);
            }
            shape.message(SHAPE_DIM, dim);
        }
        ProtoWriter tensorType = new ProtoWriter().int64(TENSOR_TYPE_ELEM_TYPE, dataType(type))
                .message(TENSOR_TYPE_SHAPE, shape);
        return new ProtoWriter().string(VALUE_INFO_NAME, name)
                .message(VALUE_INFO_TYPE, new ProtoWriter().message(TYPE_TENSOR_TYPE, tensorType));
    }

    private static byte[] rawData(Tensor t) {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact((long) t.numel() * t.dtype().byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT32 -> b.asFloatBuffer().put(t.toFloatArray());
            case INT64 -> b.asLongBuffer().put(t.toLongArray());
            case BOOL -> {
                for (boolean v : t.toBoolArray()) {
                    b.put((byte) (v ? 1 : 0));
                }
            }
            case UINT8 -> b.put(t.toByteArray());
        }
        return b.array();
    }

    private String fresh(String hint) {
        if (!names.contains(hint)) {
            return hint;
        }
        for (int i = 1; ; i++) {
            String candidate = hint + "_" + i;
            if (!names.contains(candidate)) {
                return candidate;
            }
        }
    }

    private void claim(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("ONNX value names must be non-empty");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("the ONNX graph already has a value named '" + name + "'");
        }
    }
}
