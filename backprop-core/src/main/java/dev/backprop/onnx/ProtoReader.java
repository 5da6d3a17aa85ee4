package dev.backprop.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A reader of the protocol-buffers wire format (the encoding of ONNX files) over a
 * {@link ByteBuffer}, without a schema and without copying: a length-delimited field is returned as
 * a view of the same buffer (a slice of a memory-mapped file stays memory-mapped).
 *
 * <p>Usage: {@code while (r.hasMore()) { int tag = r.readTag(); switch (ProtoReader.field(tag)) {
 * ... default -> r.skip(tag); } }}. Every read checks the bounds; a truncated or corrupted
 * message throws an {@link OnnxFormatException} naming the absolute byte offset and what was
 * being read.
 */
public final class ProtoReader {
    /** Wire type of a varint field (int32, int64, enum, bool). */
    public static final int VARINT = 0;
    /** Wire type of a 64-bit little-endian field (double, fixed64). */
    public static final int FIXED64 = 1;
    /** Wire type of a length-delimited field (bytes, string, message, packed repeated). */
    public static final int LEN = 2;
    /** Wire type of a 32-bit little-endian field (float, fixed32). */
    public static final int FIXED32 = 5;

    private final ByteBuffer buf;
    private final long base;
    private final String source;

    /**
     * A reader of {@code buffer} from its position to its limit.
     *
     * @param base the absolute offset of the buffer's position in the file (for error messages)
     * @param source names the file or message in error messages
     */
    public ProtoReader(ByteBuffer buffer, long base, String source) {
        this.buf = buffer.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.base = base;
        this.source = source;
    }

    /** The field number of a tag. */
    public static int field(int tag) {
        return tag >>> 3;
    }

    /** The wire type of a tag. */
    public static int wireType(int tag) {
        return tag & 7;
    }

    /** Whether bytes are left. */
    public boolean hasMore() {
        return buf.hasRemaining();
    }

    /** The absolute offset of the next byte. */
    public long offset() {
        return base + buf.position();
    }

    /** The source named in error messages. */
    public String source() {
        return source;
    }

    /** The next tag (field number and wire type); checks that the wire type is one protobuf defines. */
    public int readTag() {
        long at = offset();
        long tag = readVarint();
        int wt = (int) (tag & 7);
        if (tag >>> 3 == 0 || tag > Integer.MAX_VALUE || (wt != VARINT && wt != FIXED64 && wt != LEN && wt != FIXED32)) {
            throw error(at, "expected a field tag, found " + tag + " (field " + (tag >>> 3) + ", wire type " + wt
                    + "): the file is corrupted or not a protobuf/ONNX file");
        }
        return (int) tag;
    }

    /** A base-128 varint (up to 10 bytes). */
    public long readVarint() {
        long at = offset();
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!buf.hasRemaining()) {
                throw error(at, "truncated varint: the message ends inside it (is the file truncated?)");
            }
            byte b = buf.get();
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw error(at, "malformed varint longer than 10 bytes: the file is corrupted");
    }

    /** A varint that must fit an int (a count, a dimension, an enum) and be non-negative. */
    public int readInt(String what) {
        long at = offset();
        long v = readVarint();
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw error(at, what + ": expected a value in [0, " + Integer.MAX_VALUE + "], found " + v);
        }
        return (int) v;
    }

    /** A 32-bit little-endian value. */
    public int readFixed32() {
        need(4, "a fixed32 value");
        return buf.getInt();
    }

    /** A 64-bit little-endian value. */
    public long readFixed64() {
        need(8, "a fixed64 value");
        return buf.getLong();
    }

    /**
     * A length-delimited field as a little-endian view of this buffer (no copy), positioned at 0.
     */
    public ByteBuffer readBytes(String what) {
        long at = offset();
        long len = readVarint();
        if (len < 0 || len > buf.remaining()) {
            throw error(at, what + ": a length of " + len + " bytes but only " + buf.remaining()
                    + " remain in the enclosing message (is the file truncated or corrupted?)");
        }
        ByteBuffer view = buf.slice(buf.position(), (int) len).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(buf.position() + (int) len);
        return view;
    }

    /** A nested message: a reader over the field's bytes, with absolute offsets. */
    public ProtoReader readMessage(String what) {
        long len0 = offset();
        ByteBuffer b = readBytes(what);
        long start = offset() - b.remaining();
        assert start >= len0;
        return new ProtoReader(b, start, source);
    }

    /** A UTF-8 string field. */
    public String readString(String what) {
        long at = offset();
        ByteBuffer b = readBytes(what);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(b).toString();
        } catch (CharacterCodingException e) {
            throw error(at, what + ": not valid UTF-8 (the file is corrupted)");
        }
    }

    /** Skips the value of a field whose tag was just read. */
    public void skip(int tag) {
        switch (wireType(tag)) {
            case VARINT -> readVarint();
            case FIXED64 -> readFixed64();
            case FIXED32 -> readFixed32();
            case LEN -> readBytes("field " + field(tag));
            default -> throw error(offset(), "unsupported wire type " + wireType(tag) + " (groups are not used by ONNX)");
        }
    }

    /**
     * Checks that a field has the wire type its schema gives it.
     *
     * @throws OnnxFormatException naming the field when it does not
     */
    public void expect(int tag, int wireType, String what) {
        if (wireType(tag) != wireType) {
            throw error(offset(), what + " (field " + field(tag) + "): expected wire type " + wireType + ", found "
                    + wireType(tag) + " (the file is corrupted or not ONNX)");
        }
    }

    /** An error at an absolute offset, naming the source. */
    public OnnxFormatException error(long at, String detail) {
        return new OnnxFormatException(source + ": byte " + at + ": " + detail);
    }

    private void need(int n, String what) {
        if (buf.remaining() < n) {
            throw error(offset(), "truncated: expected " + what + " (" + n + " bytes), only " + buf.remaining()
                    + " remain (is the file truncated?)");
        }
    }
}
