package dev.backprop.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** A protobuf wire-format writer for crafting small ONNX files in tests. */
final class ProtoBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoBytes varint(int field, long v) {
        tag(field, 0);
        raw(v);
        return this;
    }

    ProtoBytes bytes(int field, byte[] b) {
        tag(field, 2);
        raw(b.length);
        out.writeBytes(b);
        return this;
    }

    ProtoBytes string(int field, String s) {
        return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    ProtoBytes message(int field, ProtoBytes m) {
        return bytes(field, m.toBytes());
    }

    ProtoBytes fixed32(int field, float f) {
        tag(field, 5);
        int bits = Float.floatToIntBits(f);
        for (int i = 0; i < 4; i++) {
            out.write(bits >>> (8 * i) & 0xff);
        }
        return this;
    }

    byte[] toBytes() {
        return out.toByteArray();
    }

    private void tag(int field, int wireType) {
        raw((long) field << 3 | wireType);
    }

    private void raw(long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) (v & 0x7f | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** A float TensorProto (raw_data). */
    static ProtoBytes floatTensor(String name, float[] values, long... dims) {
        ProtoBytes t = new ProtoBytes();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, 1).string(8, name);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return t.bytes(9, b.array());
    }

    /** A node. */
    static ProtoBytes node(String name, String op, String[] inputs, String[] outputs) {
        ProtoBytes n = new ProtoBytes();
        for (String i : inputs) {
            n.string(1, i);
        }
        for (String o : outputs) {
            n.string(2, o);
        }
        return n.string(3, name).string(4, op);
    }

    /** A model holding a graph. */
    static byte[] model(ProtoBytes graph) {
        ProtoBytes opset = new ProtoBytes().string(1, "").varint(2, 14);
        return new ProtoBytes().varint(1, 8).string(2, "test").message(7, graph).message(8, opset).toBytes();
    }
}
