package dev.backprop.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Tensor;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ONNX reader on small crafted models and on broken files: clear errors naming the problem. */
class OnnxBadInputTest {
    @TempDir
    Path dir;

    private static byte[] smallModel(String op) {
        ProtoBytes g = new ProtoBytes()
                .message(1, ProtoBytes.node("/encoder/layer.0/attention/self/query/MatMul", op,
                        new String[] {"x", "onnx::MatMul_1"}, new String[] {"y"}))
                .string(2, "g")
                .message(5, ProtoBytes.floatTensor("onnx::MatMul_1", new float[] {1, 2, 3, 4, 5, 6}, 2, 3))
                .message(11, new ProtoBytes().string(1, "x"))
                .message(12, new ProtoBytes().string(1, "y"));
        return ProtoBytes.model(g);
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    @Test
    void readsASmallModel() throws Exception {
        OnnxGraph g = OnnxModelReader.read(write("ok.onnx", smallModel("MatMul")));
        assertEquals(8, g.irVersion());
        assertEquals(14L, g.opsets().get(""));
        assertEquals(List.of("x"), g.inputs());
        assertEquals(List.of("y"), g.outputs());
        assertEquals(1, g.nodes().size());
        assertEquals("MatMul", g.nodes().get(0).opType());
        Tensor w = g.initializers().get("onnx::MatMul_1").toTensor();
        assertArrayEquals(new int[] {2, 3}, w.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.toFloatArray());
        assertEquals(g.nodes().get(0), g.producer("y"));
    }

    @Test
    void typedFieldsPackedAndUnpacked() {
        // int64_data packed, float_data unpacked, dims unpacked
        ProtoBytes ints = new ProtoBytes().varint(1, 3).varint(2, OnnxTensor.INT64).string(8, "i");
        ProtoBytes packed = new ProtoBytes().varint(0 + 1, 7).varint(1, 300);
        ints.bytes(7, Arrays.copyOfRange(packed.toBytes(), 0, 0)); // an empty packed chunk is legal
        ints.varint(7, 7).varint(7, 300).varint(7, -2);
        ProtoBytes floats = new ProtoBytes().varint(1, 2).varint(2, OnnxTensor.FLOAT).string(8, "f")
                .fixed32(4, 1.5f).fixed32(4, -2f);
        ProtoBytes g = new ProtoBytes().message(5, ints).message(5, floats);
        OnnxGraph graph = OnnxModelReader.read(ProtoBytes.model(g), "typed");
        assertArrayEquals(new long[] {7, 300, -2}, graph.initializers().get("i").toTensor().toLongArray());
        assertArrayEquals(new float[] {1.5f, -2f}, graph.initializers().get("f").toTensor().toFloatArray());
    }

    @Test
    void truncatedFileNamesTheOffset() throws Exception {
        byte[] full = smallModel("MatMul");
        for (int cut : new int[] {full.length - 1, full.length / 2, 3}) {
            Path f = write("cut" + cut + ".onnx", Arrays.copyOf(full, cut));
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.read(f));
            assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("byte ")
                    && (e.getMessage().contains("truncated") || e.getMessage().contains("not an ONNX model")),
                    e.getMessage());
        }
    }

    @Test
    void realModelTruncatedIsAClearError() throws Exception {
        Path cut = dir.resolve("minilm-cut.onnx");
        try (FileChannel in = FileChannel.open(MiniLm.onnx());
                FileChannel out = FileChannel.open(cut, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            in.transferTo(0, 1_000_000, out);
        }
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.read(cut));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("minilm-cut.onnx"), e.getMessage());
    }

    @Test
    void corruptedBytesAreAClearError() throws Exception {
        byte[] bytes = smallModel("MatMul");
        bytes[0] = (byte) 0xff; // the first tag becomes an unterminated varint / bad wire type
        bytes[1] = (byte) 0xff;
        Path f = write("bad.onnx", bytes);
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.read(f));
        assertTrue(e.getMessage().contains("byte 0") && e.getMessage().contains("corrupted"), e.getMessage());

        Path text = write("text.onnx", "this is not a model at all, just words".getBytes());
        e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.read(text));
        assertTrue(e.getMessage().contains(text.toString()), e.getMessage());

        Path empty = write("empty.onnx", new byte[0]);
        e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.read(empty));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());

        // an initializer whose raw data is shorter than its shape says
        ProtoBytes t = new ProtoBytes().varint(1, 4).varint(2, 1).string(8, "w").bytes(9, new byte[8]);
        OnnxGraph g = OnnxModelReader.read(ProtoBytes.model(new ProtoBytes().message(5, t)), "short");
        e = assertThrows(OnnxFormatException.class, () -> g.initializers().get("w").toTensor());
        assertTrue(e.getMessage().contains("\"w\"") && e.getMessage().contains("needs 16 bytes")
                && e.getMessage().contains("found 8"), e.getMessage());
    }

    @Test
    void unsupportedOperatorIsNamed() throws Exception {
        Path f = write("lstm.onnx", smallModel("LSTM"));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxBertImport.load(f));
        assertTrue(e.getMessage().contains("unsupported operator LSTM") && e.getMessage().contains("node 0")
                && e.getMessage().contains("/encoder/layer.0/attention/self/query/MatMul"), e.getMessage());

        ProtoBytes fused = new ProtoBytes().message(1, ProtoBytes.node("n", "Attention", new String[] {"x"},
                new String[] {"y"}).string(7, "com.microsoft"));
        OnnxGraph g = OnnxModelReader.read(ProtoBytes.model(fused), "fused");
        e = assertThrows(OnnxFormatException.class, () -> OnnxBertImport.fromGraph(g));
        assertTrue(e.getMessage().contains("com.microsoft.Attention"), e.getMessage());
    }

    @Test
    void aGraphThatIsNoBertIsAClearError() throws Exception {
        ProtoBytes g = new ProtoBytes()
                .message(1, ProtoBytes.node("e", "Erf", new String[] {"x"}, new String[] {"y"}))
                .message(5, ProtoBytes.floatTensor("w", new float[] {1, 2}, 2));
        OnnxGraph graph = OnnxModelReader.read(ProtoBytes.model(g), "nobert");
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxBertImport.fromGraph(graph));
        assertTrue(e.getMessage().contains("embeddings.word_embeddings.weight") && e.getMessage().contains("[w]"),
                e.getMessage());
    }

    @Test
    void externalDataIsRefused() {
        ProtoBytes t = new ProtoBytes().varint(1, 2).varint(2, 1).string(8, "big").varint(14, 1);
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> OnnxModelReader.read(ProtoBytes.model(new ProtoBytes().message(5, t)), "ext"));
        assertTrue(e.getMessage().contains("\"big\"") && e.getMessage().contains("external"), e.getMessage());
    }
}
