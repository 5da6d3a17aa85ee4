package dev.backprop.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The wire format against encodings worked out by hand from protobuf.dev's encoding guide. */
class ProtoWriterTest {
    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    @Test
    void varints() {
        assertArrayEquals(bytes(0x08, 0x96, 0x01), new ProtoWriter().int64(1, 150).toByteArray()); // the guide's example
        assertArrayEquals(bytes(0x08, 0x00), new ProtoWriter().int64(1, 0).toByteArray());
        // negative int64: ten bytes, two's complement
        assertArrayEquals(bytes(0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01),
                new ProtoWriter().int64(2, -1).toByteArray());
        // field 20 (AttributeProto.type): tag (20 << 3) | 0 = 160 = 0xA0 0x01
        assertArrayEquals(bytes(0xA0, 0x01, 0x07), new ProtoWriter().int64(20, 7).toByteArray());
    }

    @Test
    void lengthDelimitedAndFixed() {
        assertArrayEquals(bytes(0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'),
                new ProtoWriter().string(2, "testing").toByteArray());
        assertArrayEquals(bytes(0x15, 0x00, 0x00, 0x80, 0x3F), new ProtoWriter().float32(2, 1f).toByteArray());
        assertArrayEquals(bytes(0x1A, 0x03, 0x08, 0x96, 0x01),
                new ProtoWriter().message(3, new ProtoWriter().int64(1, 150)).toByteArray());
        assertArrayEquals(bytes(0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05),
                new ProtoWriter().packedInt64(4, 3, 270, 86942).toByteArray()); // the guide's packed example
        assertArrayEquals(bytes(0x3A, 0x08, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40),
                new ProtoWriter().packedFloat32(7, 1f, 2f).toByteArray());
        assertThrows(IllegalArgumentException.class, () -> new ProtoWriter().int64(0, 1));
    }
}
