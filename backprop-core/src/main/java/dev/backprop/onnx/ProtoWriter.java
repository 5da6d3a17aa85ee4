package dev.backprop.onnx;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A protocol-buffers message under construction, in the wire format
 * (<a href="https://protobuf.dev/programming-guides/encoding/">protobuf.dev/programming-guides/encoding</a>):
 * each field is a tag {@code (field << 3) | wireType} followed by a varint (wire type 0), four
 * little-endian bytes (wire type 5) or a length-prefixed payload (wire type 2: strings, bytes,
 * nested messages and packed repeated numbers). Enough of protobuf to write ONNX files without a
 * protobuf library; {@link OnnxWriter} uses it.
 *
 * <pre>{@code
 * ProtoWriter opset = new ProtoWriter().string(1, "").int64(2, 17);
 * ProtoWriter model = new ProtoWriter().int64(1, 8).message(8, opset);
 * byte[] bytes = model.toByteArray();
 * }</pre>
 */
public final class ProtoWriter {
    private static final int VARINT = 0;
    private static final int FIXED32 = 5;
    private static final int LENGTH_DELIMITED = 2;

    private byte[] buf = new byte[64];
    private int size;

    /** Field {@code field} as a varint: int32, int64, enum or bool fields. Negative values take ten bytes, as protobuf writes them. */
    public ProtoWriter int64(int field, long value) {
        tag(field, VARINT);
        varint(value);
        return this;
    }

    /** Field {@code field} as a 32-bit float (wire type 5). */
    public ProtoWriter float32(int field, float value) {
        tag(field, FIXED32);
        fixed32(Float.floatToRawIntBits(value));
        return this;
    }

    /** Field {@code field} as a UTF-8 string. */
    public ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Field {@code field} as a length-prefixed byte string. */
    public ProtoWriter bytes(int field, byte[] value) {
        tag(field, LENGTH_DELIMITED);
        varint(value.length);
        append(value, 0, value.length);
        return this;
    }

    /** Field {@code field} holding the nested message {@code message}. */
    public ProtoWriter message(int field, ProtoWriter message) {
        tag(field, LENGTH_DELIMITED);
        varint(message.size);
        append(message.buf, 0, message.size);
        return this;
    }

    /** A repeated int64 field in packed form (one length-prefixed run of varints). */
    public ProtoWriter packedInt64(int field, long... values) {
        ProtoWriter payload = new ProtoWriter();
        for (long v : values) {
            payload.varint(v);
        }
        tag(field, LENGTH_DELIMITED);
        varint(payload.size);
        append(payload.buf, 0, payload.size);
        return this;
    }

    /** A repeated float field in packed form (one length-prefixed run of little-endian floats). */
    public ProtoWriter packedFloat32(int field, float... values) {
        tag(field, LENGTH_DELIMITED);
        varint(4L * values.length);
        for (float v : values) {
            fixed32(Float.floatToRawIntBits(v));
        }
        return this;
    }

    /** The bytes written so far. */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    /** The number of bytes written so far. */
    public int size() {
        return size;
    }

    private void tag(int field, int wireType) {
        if (field < 1 || field > (1 << 29) - 1) {
            throw new IllegalArgumentException("protobuf field numbers are 1 .. 2^29-1, got " + field);
        }
        varint(((long) field << 3) | wireType);
    }

    private void varint(long value) {
        ensure(10);
        long v = value;
        while ((v & ~0x7FL) != 0) {
            buf[size++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[size++] = (byte) v;
    }

    private void fixed32(int bits) {
        ensure(4);
        buf[size++] = (byte) bits;
        buf[size++] = (byte) (bits >>> 8);
        buf[size++] = (byte) (bits >>> 16);
        buf[size++] = (byte) (bits >>> 24);
    }

    private void append(byte[] src, int offset, int length) {
        ensure(length);
        System.arraycopy(src, offset, buf, size, length);
        size += length;
    }

    private void ensure(int extra) {
        long needed = (long) size + extra;
        if (needed > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a protobuf message over 2 GiB cannot be written (ONNX files are limited "
                    + "to 2 GiB without external data); needed " + needed + " bytes");
        }
        if (needed > buf.length) {
            buf = Arrays.copyOf(buf, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, 2L * buf.length)));
        }
    }
}
