package dev.backprop.data;

import dev.backprop.io.AtomicFiles;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * Reads and writes IDX files, the format of MNIST and Fashion-MNIST, plain or gzipped.
 *
 * <h2>Format</h2>
 *
 * <pre>
 * [4 bytes]       magic number: 0x00, 0x00, the data type, the number of dimensions n
 * [4 bytes] x n   the size of each dimension, big-endian unsigned 32-bit
 * [rest]          the elements in row-major order, big-endian
 * </pre>
 *
 * Data types: 0x08 unsigned byte, 0x09 signed byte, 0x0B short (16 bits), 0x0C int (32 bits),
 * 0x0D float (32 bits), 0x0E double (64 bits). MNIST images are {@code 0x00000803} (unsigned
 * bytes, 3 dimensions: count, rows, columns), labels {@code 0x00000801}.
 *
 * <h2>Reading</h2>
 *
 * A file is gzip-compressed when it starts with the gzip magic bytes {@code 1f 8b}, whatever its
 * name. The header is checked before anything large is allocated: the declared sizes must fit in a
 * Java array and must match the data that is actually there (the file length for a plain file; for
 * a gzipped one the data is decompressed into a buffer that grows only as data arrives, and never
 * past the declared size), so a lying or corrupt header ends in a {@link DataException} naming the
 * file and the mismatch, never in an {@link OutOfMemoryError}. Trailing data after the declared
 * elements is an error too. A missing or unreadable file is reported as a {@link DataException}
 * with the {@link IOException} as its cause.
 *
 * <pre>{@code
 * Tensor images = Idx.images(dir.resolve("train-images-idx3-ubyte.gz"));   // (60000, 28, 28) in [0, 1]
 * Tensor labels = Idx.labels(dir.resolve("train-labels-idx1-ubyte.gz"));   // (60000) int64
 * }</pre>
 */
public final class Idx {
    /** Magic number of MNIST-style image files: unsigned bytes, 3 dimensions. */
    public static final int IMAGES_MAGIC = 0x00000803;

    /** Magic number of MNIST-style label files: unsigned bytes, 1 dimension. */
    public static final int LABELS_MAGIC = 0x00000801;

    /** Largest data section accepted, in bytes (the largest safe Java array). */
    public static final int MAX_DATA_BYTES = Integer.MAX_VALUE - 8;

    /** First allocation for data of unknown real length (gzip); grows by doubling as data arrives. */
    private static final int INITIAL_BUFFER = 1 << 20;

    private Idx() {}

    /** The element types of the IDX format. */
    public enum Type {
        UBYTE(0x08, 1, "unsigned byte"),
        BYTE(0x09, 1, "signed byte"),
        SHORT(0x0B, 2, "short (16-bit)"),
        INT(0x0C, 4, "int (32-bit)"),
        FLOAT(0x0D, 4, "float (32-bit)"),
        DOUBLE(0x0E, 8, "double (64-bit)");

        private final int code;
        private final int size;
        private final String description;

        Type(int code, int size, String description) {
            this.code = code;
            this.size = size;
            this.description = description;
        }

        /** The type byte of the magic number, for example {@code 0x08}. */
        public int code() {
            return code;
        }

        /** Bytes per element. */
        public int size() {
            return size;
        }

        /** Human-readable name, for example {@code "unsigned byte"}. */
        public String description() {
            return description;
        }

        /** The type with this code, or {@code null}. */
        static Type of(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }
    }

    /** A validated file: its element type, its dimensions and its raw big-endian data. */
    private record Raw(Type type, int[] dims, byte[] data) {}

    // ------------------------------------------------------------------ reading

    /**
     * Reads any IDX file into a tensor of its natural type: unsigned bytes as uint8, signed bytes,
     * shorts and ints as int64, floats and doubles as float32 (doubles rounded).
     *
     * @throws DataException if the file is missing, unreadable or not a valid IDX file
     */
    public static Tensor read(Path file) {
        Raw raw = readRaw(file, 0, null);
        return switch (raw.type) {
            case UBYTE -> Tensor.ofBytes(raw.data, raw.dims);
            case BYTE, SHORT, INT -> Tensor.ofLongs(toLongs(raw), raw.dims);
            case FLOAT, DOUBLE -> Tensor.of(toFloats(raw), raw.dims);
        };
    }

    /**
     * Reads an image file ({@link #IMAGES_MAGIC}: unsigned bytes, (N, rows, columns)) as float32
     * scaled to [0, 1] (each byte divided by 255).
     *
     * @throws DataException if the file is not an IDX image file (a label file, say) or is invalid
     */
    public static Tensor images(Path file) {
        Raw raw = readRaw(file, IMAGES_MAGIC, "unsigned-byte images (N, rows, columns)");
        byte[] data = raw.data;
        float[] pixels = new float[data.length];
        for (int i = 0; i < data.length; i++) {
            pixels[i] = (data[i] & 0xFF) / 255f;
        }
        return Tensor.of(pixels, raw.dims);
    }

    /** Like {@link #images(Path)} but the raw pixel values 0..255 as uint8 (a quarter of the memory). */
    public static Tensor imagesUint8(Path file) {
        Raw raw = readRaw(file, IMAGES_MAGIC, "unsigned-byte images (N, rows, columns)");
        return Tensor.ofBytes(raw.data, raw.dims);
    }

    /**
     * Reads a label file ({@link #LABELS_MAGIC}: unsigned bytes, (N)) as int64.
     *
     * @throws DataException if the file is not an IDX label file or is invalid
     */
    public static Tensor labels(Path file) {
        Raw raw = readRaw(file, LABELS_MAGIC, "unsigned-byte labels (N)");
        byte[] data = raw.data;
        long[] labels = new long[data.length];
        for (int i = 0; i < data.length; i++) {
            labels[i] = data[i] & 0xFF;
        }
        return Tensor.ofLongs(labels, raw.dims);
    }

    private static Raw readRaw(Path file, int expectedMagic, String expectedWhat) {
        Objects.requireNonNull(file, "file");
        String source = file.toString();
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new DataException(source, "no such file", e);
        } catch (IOException e) {
            throw new DataException(source, "cannot read the file: " + e, e);
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            in.mark(2);
            boolean gzip = in.read() == 0x1F && in.read() == 0x8B;
            in.reset();
            if (gzip) {
                try (InputStream unzipped = new GZIPInputStream(in, 1 << 16)) {
                    return parse(unzipped, -1, source, expectedMagic, expectedWhat);
                }
            }
            return parse(in, fileSize, source, expectedMagic, expectedWhat);
        } catch (ZipException e) {
            throw new DataException(source, "corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            throw new DataException(source, "truncated gzip data: the compressed stream ends too early ("
                    + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataException(source, "cannot read the file: " + e, e);
        }
    }

    /**
     * Parses one IDX stream.
     *
     * @param plainSize the file length for an uncompressed file, -1 for decompressed data of
     *     unknown length
     */
    private static Raw parse(InputStream in, long plainSize, String source, int expectedMagic, String expectedWhat)
            throws IOException {
        String data = plainSize < 0 ? "the decompressed data" : "the file";
        byte[] head = new byte[4];
        int got = readFully(in, head, 0, 4);
        if (got < 4) {
            throw new DataException(source, "too short for an IDX file: expected a 4-byte magic number, " + data
                    + " has " + got + " bytes");
        }
        int magic = ByteBuffer.wrap(head).getInt();
        Type type = Type.of(head[2]);
        int ndim = head[3] & 0xFF;
        if (expectedMagic != 0 && magic != expectedMagic) {
            throw new DataException(source, "expected magic number " + hex(expectedMagic) + " (" + expectedWhat
                    + ") but found " + hex(magic) + " (" + describeMagic(head) + ")" + hintFor(magic, expectedMagic));
        }
        if (head[0] != 0 || head[1] != 0) {
            throw new DataException(source, "not an IDX file: the magic number must start with two zero bytes, found "
                    + hex(magic));
        }
        if (type == null) {
            throw new DataException(source, "unknown IDX data type 0x" + String.format("%02X", head[2] & 0xFF)
                    + " in magic number " + hex(magic) + "; expected 0x08 (unsigned byte), 0x09 (signed byte), 0x0B"
                    + " (short), 0x0C (int), 0x0D (float) or 0x0E (double)");
        }
        byte[] sizes = new byte[4 * ndim];
        got = readFully(in, sizes, 0, sizes.length);
        if (got < sizes.length) {
            throw new DataException(source, "truncated header: " + ndim + " dimensions need " + sizes.length
                    + " bytes of sizes after the magic number, " + data + " has only " + got);
        }
        ByteBuffer sb = ByteBuffer.wrap(sizes);
        int[] dims = new int[ndim];
        long numel = 1;
        boolean overflow = false;
        for (int i = 0; i < ndim; i++) {
            long d = Integer.toUnsignedLong(sb.getInt());
            if (d > Integer.MAX_VALUE) {
                throw new DataException(source, "dimension " + i + " has size " + d + ", more than an array can hold ("
                        + Integer.MAX_VALUE + "); the header is corrupt");
            }
            dims[i] = (int) d;
            if (!overflow && d != 0 && numel > MAX_DATA_BYTES / d) {
                overflow = true;
            }
            numel = overflow ? numel : numel * d;
        }
        boolean empty = Arrays.stream(dims).anyMatch(d -> d == 0);
        if (empty) {
            numel = 0;
        } else if (overflow || numel * type.size > MAX_DATA_BYTES) {
            throw new DataException(source, "the header declares " + type.description + " data of shape "
                    + Arrays.toString(dims) + ", more than " + MAX_DATA_BYTES + " bytes: more than this reader can"
                    + " hold, or a corrupt header");
        }
        long dataBytes = numel * type.size;
        String declared = "the header declares " + type.description + " data of shape " + Arrays.toString(dims)
                + ", " + dataBytes + " bytes";
        long headerBytes = 4L + 4L * ndim;
        if (plainSize >= 0 && plainSize - headerBytes != dataBytes) {
            long present = plainSize - headerBytes;
            throw new DataException(source, present < dataBytes
                    ? declared + ", but only " + present + " bytes follow the header: the file is truncated"
                    : declared + ", but " + present + " bytes follow the header (" + (present - dataBytes)
                            + " too many): the sizes in the header are wrong or the file has trailing data");
        }
        byte[] bytes = readData(in, (int) dataBytes);
        if (bytes.length < dataBytes) {
            throw new DataException(source, declared + ", but " + data + " ends after " + bytes.length
                    + " bytes of data: the file is truncated or the header is wrong");
        }
        if (in.read() != -1) {
            throw new DataException(source, declared + ", but " + data + " continues past them: the sizes in the"
                    + " header are wrong or the file has trailing data");
        }
        return new Raw(type, dims, bytes);
    }

    /** Reads up to {@code n} bytes, growing the buffer only as data arrives; shorter if the stream ends. */
    private static byte[] readData(InputStream in, int n) throws IOException {
        byte[] buf = new byte[Math.min(n, INITIAL_BUFFER)];
        int have = 0;
        while (have < n) {
            if (have == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            }
            int r = in.read(buf, have, buf.length - have);
            if (r < 0) {
                return Arrays.copyOf(buf, have);
            }
            have += r;
        }
        return buf;
    }

    private static int readFully(InputStream in, byte[] b, int off, int len) throws IOException {
        int have = 0;
        while (have < len) {
            int r = in.read(b, off + have, len - have);
            if (r < 0) {
                break;
            }
            have += r;
        }
        return have;
    }

    private static String hex(int magic) {
        return String.format("0x%08X", magic);
    }

    private static String describeMagic(byte[] head) {
        if (head[0] != 0 || head[1] != 0) {
            return "not an IDX magic number";
        }
        Type type = Type.of(head[2]);
        int ndim = head[3] & 0xFF;
        String typeName = type == null ? "unknown type" : type.description;
        return typeName + ", " + ndim + (ndim == 1 ? " dimension" : " dimensions");
    }

    private static String hintFor(int magic, int expected) {
        if (magic == LABELS_MAGIC && expected == IMAGES_MAGIC) {
            return "; this looks like a label file, not an image file";
        }
        if (magic == IMAGES_MAGIC && expected == LABELS_MAGIC) {
            return "; this looks like an image file, not a label file";
        }
        return "";
    }

    private static long[] toLongs(Raw raw) {
        byte[] b = raw.data;
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        int n = b.length / raw.type.size;
        long[] out = new long[n];
        switch (raw.type) {
            case BYTE -> {
                for (int i = 0; i < n; i++) {
                    out[i] = b[i];
                }
            }
            case SHORT -> {
                for (int i = 0; i < n; i++) {
                    out[i] = bb.getShort(2 * i);
                }
            }
            case INT -> {
                for (int i = 0; i < n; i++) {
                    out[i] = bb.getInt(4 * i);
                }
            }
            default -> throw new IllegalStateException(raw.type.name());
        }
        return out;
    }

    private static float[] toFloats(Raw raw) {
        ByteBuffer bb = ByteBuffer.wrap(raw.data).order(ByteOrder.BIG_ENDIAN);
        int n = raw.data.length / raw.type.size;
        float[] out = new float[n];
        if (raw.type == Type.FLOAT) {
            bb.asFloatBuffer().get(out);
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = (float) bb.getDouble(8 * i);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes a tensor as an IDX file in its natural type: uint8 and bool as unsigned bytes, int64 as
     * int (every value must fit in 32 bits), float32 as float. Gzip-compressed when the file name
     * ends with {@code .gz}. Written atomically (a temporary file, then a rename).
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public static void write(Path file, Tensor tensor) {
        Type type = switch (tensor.dtype()) {
            case UINT8, BOOL -> Type.UBYTE;
            case INT64 -> Type.INT;
            case FLOAT32 -> Type.FLOAT;
        };
        write(file, tensor, type);
    }

    /**
     * Writes a tensor as an IDX file of the given element type (for example int64 labels 0..9 as
     * {@link Type#UBYTE}, as MNIST does).
     *
     * @throws IllegalArgumentException if a value does not fit the type, or the tensor has more
     *     than 255 dimensions
     * @throws UncheckedIOException if the file cannot be written
     */
    public static void write(Path file, Tensor tensor, Type type) {
        byte[] bytes = toBytes(tensor, type);
        try {
            if (file.getFileName().toString().endsWith(".gz")) {
                ByteArrayOutputStream buf = new ByteArrayOutputStream(bytes.length / 2 + 64);
                try (GZIPOutputStream gz = new GZIPOutputStream(buf, 1 << 16)) {
                    gz.write(bytes);
                }
                bytes = buf.toByteArray();
            }
            AtomicFiles.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write IDX file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The uncompressed IDX bytes of a tensor stored as {@code type} (see {@link #write(Path, Tensor, Type)}). */
    public static byte[] toBytes(Tensor tensor, Type type) {
        Objects.requireNonNull(type, "type");
        if (tensor.dim() > 255) {
            throw new IllegalArgumentException("IDX holds at most 255 dimensions, the tensor has " + tensor.dim());
        }
        int n = tensor.numel();
        ByteArrayOutputStream out = new ByteArrayOutputStream(4 + 4 * tensor.dim() + n * type.size);
        ByteBuffer head = ByteBuffer.allocate(4 + 4 * tensor.dim());
        head.put((byte) 0).put((byte) 0).put((byte) type.code).put((byte) tensor.dim());
        for (int d : tensor.shape()) {
            head.putInt(d);
        }
        out.writeBytes(head.array());
        ByteBuffer body = ByteBuffer.allocate(n * type.size).order(ByteOrder.BIG_ENDIAN);
        if (tensor.dtype() == DType.FLOAT32) {
            float[] v = tensor.toFloatArray();
            for (int i = 0; i < n; i++) {
                switch (type) {
                    case FLOAT -> body.putFloat(v[i]);
                    case DOUBLE -> body.putDouble(v[i]);
                    default -> putInteger(body, type, floatToLong(v[i], i, type), i);
                }
            }
        } else {
            long[] v = switch (tensor.dtype()) {
                case INT64 -> tensor.toLongArray();
                case UINT8 -> {
                    byte[] b = tensor.toByteArray();
                    long[] l = new long[n];
                    for (int i = 0; i < n; i++) {
                        l[i] = b[i] & 0xFF;
                    }
                    yield l;
                }
                case BOOL -> {
                    boolean[] b = tensor.toBoolArray();
                    long[] l = new long[n];
                    for (int i = 0; i < n; i++) {
                        l[i] = b[i] ? 1 : 0;
                    }
                    yield l;
                }
                case FLOAT32 -> throw new IllegalStateException();
            };
            for (int i = 0; i < n; i++) {
                switch (type) {
                    case FLOAT -> body.putFloat(v[i]);
                    case DOUBLE -> body.putDouble(v[i]);
                    default -> putInteger(body, type, v[i], i);
                }
            }
        }
        out.writeBytes(body.array());
        return out.toByteArray();
    }

    private static long floatToLong(float v, int i, Type type) {
        if (v != Math.rint(v) || Float.isInfinite(v)) {
            throw new IllegalArgumentException("IDX " + type.description + ": element " + i + " is " + v
                    + ", not an integer");
        }
        return (long) v;
    }

    private static void putInteger(ByteBuffer body, Type type, long v, int i) {
        long lo;
        long hi;
        switch (type) {
            case UBYTE -> { lo = 0; hi = 255; }
            case BYTE -> { lo = Byte.MIN_VALUE; hi = Byte.MAX_VALUE; }
            case SHORT -> { lo = Short.MIN_VALUE; hi = Short.MAX_VALUE; }
            case INT -> { lo = Integer.MIN_VALUE; hi = Integer.MAX_VALUE; }
            default -> throw new IllegalStateException(type.name());
        }
        if (v < lo || v > hi) {
            throw new IllegalArgumentException("IDX " + type.description + ": element " + i + " is " + v
                    + ", outside [" + lo + ", " + hi + "]");
        }
        switch (type) {
            case UBYTE, BYTE -> body.put((byte) v);
            case SHORT -> body.putShort((short) v);
            default -> body.putInt((int) v);
        }
    }
}
