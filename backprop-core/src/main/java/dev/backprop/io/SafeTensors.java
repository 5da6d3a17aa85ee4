package dev.backprop.io;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format,
 * the format of Hugging Face checkpoints and of this project's reference data.
 *
 * <h2>Format</h2>
 *
 * <pre>
 * [8 bytes]  N, the header length, unsigned little-endian
 * [N bytes]  UTF-8 JSON object: {"__metadata__": {string: string},           (optional)
 *                                "NAME": {"dtype": "F32", "shape": [2, 3],
 *                                         "data_offsets": [BEGIN, END]}, ...}
 *            possibly padded with trailing spaces
 * [rest]     the data section: each tensor's elements in row-major order, little-endian, at
 *            [BEGIN, END) relative to the first byte after the header
 * </pre>
 *
 * <h2>Reading</h2>
 *
 * {@link #read(Path)}, {@link #read(byte[])} and {@link #read(ByteBuffer)} validate the whole input
 * as strictly as the reference implementation before allocating any tensor, then convert each
 * tensor to one of the element types a {@link Tensor} can hold:
 *
 * <table>
 *   <caption>File dtype to tensor dtype</caption>
 *   <tr><th>File dtype</th><th>Tensor dtype</th></tr>
 *   <tr><td>{@code F32}, {@code F64}, {@code F16}, {@code BF16}</td><td>{@link DType#FLOAT32}
 *     ({@code F64} is rounded to the nearest float)</td></tr>
 *   <tr><td>{@code I64}, {@code I32}, {@code I16}, {@code I8}, {@code U32}, {@code U16}</td>
 *     <td>{@link DType#INT64}</td></tr>
 *   <tr><td>{@code U8}</td><td>{@link DType#UINT8}</td></tr>
 *   <tr><td>{@code BOOL}</td><td>{@link DType#BOOL} (any nonzero byte is {@code true})</td></tr>
 * </table>
 *
 * <p>Other dtypes ({@code U64}, the 8-bit floats, ...) are refused with a
 * {@link SafeTensorsException}. So is every malformation: a header length over
 * {@link #MAX_HEADER_BYTES} or past the end of the input, a header that is not UTF-8 JSON or not
 * an object, a tensor entry without {@code dtype}, {@code shape} or {@code data_offsets} or with
 * values of the wrong type, duplicate names, a shape with more than {@link #MAX_ELEMENTS}
 * elements, offsets that do not match the shape and dtype, that overlap, that leave a gap, or
 * that do not cover the data section exactly up to the end of the input (like the reference
 * implementation, trailing bytes are an error), and a {@code __metadata__} that is not an object
 * of strings. Unknown keys inside a tensor entry are ignored, as the reference implementation
 * does.
 *
 * <h2>Writing</h2>
 *
 * {@link #write(Path, Map, Map)} and {@link #toBytes(Map, Map)} produce the same bytes as the
 * reference implementation ({@code safetensors.torch.save_file}): tensors are laid out by
 * decreasing element size ({@code I64}, then {@code F32}, then {@code U8}, then {@code BOOL}) and
 * then by name (UTF-8 byte order), which keeps every tensor aligned to its element size; the
 * header lists {@code __metadata__} first (omitted when there is no metadata; its keys sorted)
 * and then the tensors in data order, as compact JSON padded with spaces to a multiple of 8
 * bytes. Files are written atomically.
 *
 * <pre>{@code
 * SafeTensors.write(path, Map.of("weight", w, "bias", b), Map.of("format", "pt"));
 * SafeTensors.Contents c = SafeTensors.read(path);
 * Tensor w2 = c.tensor("weight");
 * }</pre>
 *
 * <p>All methods are thread-safe (the class has no state).
 */
public final class SafeTensors {
    /** Largest header accepted, in bytes (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Most elements one tensor may have: the largest Java array length that is safe everywhere. */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** The reserved header key holding the string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    /**
     * The metadata key under which {@link #writeWithChecksum} records the SHA-256 of the data
     * section (64 lowercase hex digits). When a file has it, every read checks it and refuses a file
     * whose data does not match, naming the file and both hashes.
     */
    public static final String CHECKSUM_KEY = "backprop.data_sha256";

    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes written to a file per system call when streaming tensor data. */
    private static final int CHUNK_BYTES = 1 << 20;

    private SafeTensors() {}

    /**
     * The tensors and metadata of a safetensors file.
     *
     * @param tensors the tensors by name, in the order the header lists them (for files written by
     *     this class or by the reference implementation, that is data order: by decreasing element
     *     size, then by name); unmodifiable
     * @param metadata the {@code __metadata__} entries in header order, empty when there are none;
     *     unmodifiable
     */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
        /** Copies both maps, keeping their iteration order. */
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /**
         * The tensor with the given name.
         *
         * @throws NoSuchElementException if there is none; the message lists the names there are
         */
        public Tensor tensor(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new NoSuchElementException("no tensor named " + Json.quote(String.valueOf(name))
                        + "; there are " + tensors.size() + " tensors: " + describeNames(tensors.keySet()));
            }
            return t;
        }
    }

    // ------------------------------------------------------------------ dtypes

    /** The dtypes of the format that this class can read, with their element sizes. */
    private enum FileDType {
        BOOL(1, DType.BOOL),
        U8(1, DType.UINT8),
        I8(1, DType.INT64),
        I16(2, DType.INT64),
        U16(2, DType.INT64),
        F16(2, DType.FLOAT32),
        BF16(2, DType.FLOAT32),
        I32(4, DType.INT64),
        U32(4, DType.INT64),
        F32(4, DType.FLOAT32),
        F64(8, DType.FLOAT32),
        I64(8, DType.INT64);

        final int size;
        final DType target;

        FileDType(int size, DType target) {
            this.size = size;
            this.target = target;
        }

        static FileDType byName(String name) {
            for (FileDType d : values()) {
                if (d.name().equals(name)) {
                    return d;
                }
            }
            return null;
        }

        static String supported() {
            return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
        }

        /** The file dtype written for a tensor dtype, by the reference writer's naming. */
        static FileDType of(DType dtype) {
            return switch (dtype) {
                case FLOAT32 -> F32;
                case INT64 -> I64;
                case BOOL -> BOOL;
                case UINT8 -> U8;
                default -> throw new IllegalArgumentException("safetensors: cannot write tensors of dtype " + dtype);
            };
        }

        /**
         * Rank for the reference layout: larger elements first, then the reference's own enum
         * order (BOOL < U8 < ... < F32 < F64 < I64), which for the written dtypes gives
         * I64, F32, U8, BOOL.
         */
        int layoutRank() {
            return ordinal();
        }
    }

    // ------------------------------------------------------------------ reading

    /**
     * Reads a safetensors file. The file is memory-mapped for the duration of the call and each
     * tensor is copied once, straight from the mapping into its array; nothing stays mapped or open
     * afterwards. The file must not be truncated by another process while it is being read.
     *
     * @throws SafeTensorsException if the file is not a valid safetensors file, or holds a dtype
     *     or a size that this library cannot load; the message includes the path
     * @throws IOException if the file cannot be opened or read
     */
    public static Contents read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        String source = "file " + file;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
                Arena arena = Arena.ofConfined()) {
            long size = channel.size();
            MemorySegment segment = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return read(segment, source);
        }
    }

    /**
     * Reads safetensors data held in memory.
     *
     * @throws SafeTensorsException if the bytes are not valid safetensors data
     */
    public static Contents read(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        return read(MemorySegment.ofArray(bytes), "byte array");
    }

    /**
     * Reads safetensors data from the bytes between the buffer's position and its limit. The
     * buffer's position, limit and byte order are left unchanged; it may be direct, read-only or
     * memory-mapped.
     *
     * @throws SafeTensorsException if the bytes are not valid safetensors data
     */
    public static Contents read(ByteBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        return read(MemorySegment.ofBuffer(buffer), "ByteBuffer");
    }

    /** One validated header entry. */
    private record Entry(String name, FileDType dtype, int[] shape, int numel, long begin, long end) {}

    private static Contents read(MemorySegment input, String source) {
        long size = input.byteSize();
        if (size < 8) {
            throw new SafeTensorsException(source, null, "expected at least 8 bytes (the header length) but the input has "
                    + size + "; it is truncated or not a safetensors file", null);
        }
        long headerLength = input.get(I64_LE, 0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(source, null, "the header length field says "
                    + Long.toUnsignedString(headerLength) + " bytes, more than the limit of " + MAX_HEADER_BYTES
                    + "; the input is corrupt or not a safetensors file", null);
        }
        if (headerLength > size - 8) {
            throw new SafeTensorsException(source, null, "the header length field says " + headerLength
                    + " bytes but only " + (size - 8) + " bytes follow it; the input is truncated or corrupt", null);
        }
        byte[] header = input.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        long dataStart = 8 + headerLength;
        long dataSize = size - dataStart;

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = parseHeader(header, dataSize, source, metadata);
        checkCoverage(entries, dataSize, source);

        String recorded = metadata.get(CHECKSUM_KEY);
        if (recorded != null) {
            String actual = digest(input.asSlice(dataStart, dataSize));
            if (!actual.equals(recorded)) {
                throw new SafeTensorsException(source, null, "checksum mismatch: the header records data SHA-256 "
                        + recorded + " but the data hashes to " + actual + "; the file is corrupt (a partial copy, a"
                        + " disk error, or an edit); restore it or use another checkpoint", null);
            }
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            tensors.put(e.name(), decode(input.asSlice(dataStart + e.begin(), e.end() - e.begin()), e));
        }
        return new Contents(tensors, metadata);
    }

    /** Parses and validates the header; fills {@code metadata}; returns the entries in header order. */
    private static List<Entry> parseHeader(byte[] header, long dataSize, String source, Map<String, String> metadata) {
        int bad = Json.firstInvalidUtf8(header);
        if (bad < header.length) {
            throw new SafeTensorsException(source, null, String.format(
                    "expected a UTF-8 JSON header but found the invalid byte 0x%02X at header offset %d (file offset"
                            + " %d); the file is corrupt or not a safetensors file",
                    header[bad] & 0xFF, bad, bad + 8L), null);
        }
        Object root;
        try {
            root = Json.parse(new String(header, StandardCharsets.UTF_8));
        } catch (JsonException e) {
            throw new SafeTensorsException(source, null, "the header is not valid JSON: " + e.getMessage()
                    + " (header offsets count characters from the byte after the 8-byte length)", e);
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new SafeTensorsException(source, null, "expected the header to be a JSON object mapping tensor names to"
                    + " {dtype, shape, data_offsets} but found " + Json.describeValue(root), null);
        }
        List<Entry> entries = new ArrayList<>(map.size());
        for (Map.Entry<?, ?> member : map.entrySet()) {
            String name = (String) member.getKey();
            if (name.equals(METADATA_KEY)) {
                parseMetadata(member.getValue(), source, metadata);
            } else {
                entries.add(parseEntry(name, member.getValue(), dataSize, source));
            }
        }
        return entries;
    }

    private static void parseMetadata(Object value, String source, Map<String, String> metadata) {
        if (value == null) {
            return; // the reference implementation accepts null for "no metadata"
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new SafeTensorsException(source, null, "expected " + Json.quote(METADATA_KEY)
                    + " to be an object of string values but found " + Json.describeValue(value), null);
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafeTensorsException(source, null, "expected " + Json.quote(METADATA_KEY)
                        + " to map strings to strings but the value of " + Json.quote((String) e.getKey()) + " is "
                        + Json.describeValue(e.getValue()) + "; store it as a string", null);
            }
            metadata.put((String) e.getKey(), s);
        }
    }

    private static Entry parseEntry(String name, Object value, long dataSize, String source) {
        if (!(value instanceof Map<?, ?> info)) {
            throw new SafeTensorsException(source, name, "expected an object with \"dtype\", \"shape\" and"
                    + " \"data_offsets\" but found " + Json.describeValue(value), null);
        }
        // dtype
        Object dtypeValue = require(info, "dtype", name, source);
        if (!(dtypeValue instanceof String dtypeName)) {
            throw new SafeTensorsException(source, name, "expected \"dtype\" to be a string such as \"F32\" but found "
                    + Json.describeValue(dtypeValue), null);
        }
        FileDType dtype = FileDType.byName(dtypeName);
        if (dtype == null) {
            throw new SafeTensorsException(source, name, "unsupported dtype " + Json.quote(dtypeName)
                    + "; supported: " + FileDType.supported() + " (convert the tensor to one of these before saving)",
                    null);
        }
        // shape
        Object shapeValue = require(info, "shape", name, source);
        if (!(shapeValue instanceof List<?> dims)) {
            throw new SafeTensorsException(source, name, "expected \"shape\" to be an array of non-negative integers but"
                    + " found " + Json.describeValue(shapeValue), null);
        }
        int[] shape = new int[dims.size()];
        boolean empty = false;
        for (int i = 0; i < shape.length; i++) {
            long d = nonNegativeInteger(dims.get(i), "\"shape\" element " + i, name, source);
            if (d > Integer.MAX_VALUE) {
                throw new SafeTensorsException(source, name, "\"shape\" element " + i + " is " + d
                        + ", larger than the largest supported size " + Integer.MAX_VALUE, null);
            }
            shape[i] = (int) d;
            empty |= d == 0;
        }
        long numel = 1;
        if (empty) {
            numel = 0;
        } else {
            for (int d : shape) {
                numel *= d; // each factor is at most 2^31 - 1 and the product is checked below
                if (numel > MAX_ELEMENTS) {
                    throw new SafeTensorsException(source, name, "shape " + Arrays.toString(shape) + " has more than "
                            + MAX_ELEMENTS + " elements, the most a tensor can hold", null);
                }
            }
        }
        // data_offsets
        Object offsetsValue = require(info, "data_offsets", name, source);
        if (!(offsetsValue instanceof List<?> offsets) || offsets.size() != 2) {
            throw new SafeTensorsException(source, name, "expected \"data_offsets\" to be an array of two non-negative"
                    + " integers [begin, end] but found " + describeJson(offsetsValue), null);
        }
        long begin = nonNegativeInteger(offsets.get(0), "\"data_offsets\" begin", name, source);
        long end = nonNegativeInteger(offsets.get(1), "\"data_offsets\" end", name, source);
        if (begin > end) {
            throw new SafeTensorsException(source, name, "expected \"data_offsets\" [begin, end] with begin <= end but"
                    + " found [" + begin + ", " + end + "]", null);
        }
        long expectedBytes = numel * dtype.size;
        if (end - begin != expectedBytes) {
            throw new SafeTensorsException(source, name, "\"data_offsets\" [" + begin + ", " + end + "] span "
                    + (end - begin) + " bytes but dtype " + dtype + " with shape " + Arrays.toString(shape) + " needs "
                    + expectedBytes + " (" + numel + " elements of " + dtype.size + " bytes)", null);
        }
        if (end > dataSize) {
            throw new SafeTensorsException(source, name, "\"data_offsets\" [" + begin + ", " + end + "] reach past the"
                    + " end of the data section, which has " + dataSize + " bytes; the file is truncated", null);
        }
        return new Entry(name, dtype, shape, (int) numel, begin, end);
    }

    private static Object require(Map<?, ?> info, String key, String name, String source) {
        Object v = info.get(key);
        if (v == null) {
            throw new SafeTensorsException(source, name, (info.containsKey(key) ? "\"" + key + "\" is null"
                    : "missing \"" + key + "\"") + "; every tensor entry needs \"dtype\", \"shape\" and"
                    + " \"data_offsets\" (found keys " + info.keySet() + ")", null);
        }
        return v;
    }

    private static long nonNegativeInteger(Object v, String what, String name, String source) {
        if (v instanceof Long n && n >= 0) {
            return n;
        }
        throw new SafeTensorsException(source, name, "expected " + what + " to be a non-negative integer but found "
                + describeJson(v), null);
    }

    private static String describeJson(Object v) {
        String json;
        try {
            json = Json.write(v);
        } catch (IllegalArgumentException e) {
            return Json.describeValue(v);
        }
        return json.length() <= 60 ? json : json.substring(0, 57) + "...";
    }

    /**
     * Checks that the tensors tile the data section exactly: no overlap, no gap, nothing after the
     * last tensor. Entries are compared sorted by (begin, end) as the reference implementation does.
     */
    private static void checkCoverage(List<Entry> entries, long dataSize, String source) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end)
                .thenComparing(Entry::name));
        long covered = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin() < covered) {
                throw new SafeTensorsException(source, e.name(), "data_offsets " + offsets(e) + " overlap tensor "
                        + Json.quote(previous.name()) + " at " + offsets(previous)
                        + "; each byte of the data section must belong to exactly one tensor", null);
            }
            if (e.begin() > covered) {
                String before = previous == null ? "the start of the data section"
                        : "the end of tensor " + Json.quote(previous.name()) + " at " + offsets(previous);
                throw new SafeTensorsException(source, e.name(), "data_offsets " + offsets(e) + " leave bytes ["
                        + covered + ", " + e.begin() + ") after " + before + " unused; the format requires the"
                        + " tensors to cover the data section without gaps", null);
            }
            covered = e.end();
            previous = e;
        }
        if (covered != dataSize) {
            throw new SafeTensorsException(source, null, "the data section has " + dataSize + " bytes but the tensors"
                    + " cover only the first " + covered + "; the " + (dataSize - covered) + " bytes after them"
                    + " belong to no tensor (the format forbids trailing data)", null);
        }
    }

    private static String offsets(Entry e) {
        return "[" + e.begin() + ", " + e.end() + "]";
    }

    /** Converts the little-endian bytes of one validated entry to a tensor. */
    private static Tensor decode(MemorySegment data, Entry e) {
        int n = e.numel();
        int[] shape = e.shape();
        switch (e.dtype()) {
            case F32 -> {
                float[] out = new float[n];
                MemorySegment.copy(data, F32_LE, 0, out, 0, n);
                return Tensor.of(out, shape);
            }
            case F64 -> {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (float) data.getAtIndex(F64_LE, i);
                }
                return Tensor.of(out, shape);
            }
            case F16 -> {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(data.getAtIndex(I16_LE, i));
                }
                return Tensor.of(out, shape);
            }
            case BF16 -> {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((data.getAtIndex(I16_LE, i) & 0xFFFF) << 16);
                }
                return Tensor.of(out, shape);
            }
            case I64 -> {
                long[] out = new long[n];
                MemorySegment.copy(data, I64_LE, 0, out, 0, n);
                return Tensor.ofLongs(out, shape);
            }
            case I32 -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    out[i] = data.getAtIndex(I32_LE, i);
                }
                return Tensor.ofLongs(out, shape);
            }
            case U32 -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Integer.toUnsignedLong(data.getAtIndex(I32_LE, i));
                }
                return Tensor.ofLongs(out, shape);
            }
            case I16 -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    out[i] = data.getAtIndex(I16_LE, i);
                }
                return Tensor.ofLongs(out, shape);
            }
            case U16 -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    out[i] = data.getAtIndex(I16_LE, i) & 0xFFFF;
                }
                return Tensor.ofLongs(out, shape);
            }
            case I8 -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    out[i] = data.get(ValueLayout.JAVA_BYTE, i);
                }
                return Tensor.ofLongs(out, shape);
            }
            case U8 -> {
                return Tensor.ofBytes(data.toArray(ValueLayout.JAVA_BYTE), shape);
            }
            case BOOL -> {
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) {
                    out[i] = data.get(ValueLayout.JAVA_BYTE, i) != 0;
                }
                return Tensor.ofBools(out, shape);
            }
            default -> throw new AssertionError(e.dtype());
        }
    }

    // ------------------------------------------------------------------ writing

    /** Same as {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /**
     * Writes tensors to a safetensors file, atomically: the data goes to a temporary file in the
     * same directory, which is flushed to disk and then renamed over {@code file}. Readers see
     * either the old file or the complete new one; on any failure the temporary file is deleted
     * and an existing {@code file} is left untouched.
     *
     * <p>Tensors of any layout (views, transposes) are written in row-major order. Supported
     * dtypes: {@code float32} (written as {@code F32}), {@code int64} ({@code I64}), {@code uint8}
     * ({@code U8}) and {@code bool} ({@code BOOL}). See the {@linkplain SafeTensors class
     * documentation} for the layout.
     *
     * @param file the file to create or replace; its directory must exist
     * @param tensors the tensors by name; names must not be {@code null} or {@value #METADATA_KEY}
     * @param metadata free-form string metadata (for example {@code "format" -> "pt"}, which
     *     Hugging Face tools look for); {@code null} or empty for none
     * @throws IllegalArgumentException if a name, tensor or metadata entry is invalid
     * @throws IOException if the file cannot be written or moved into place
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        writeAtomically(file, plan(tensors, metadata), null);
    }

    /**
     * As {@link #write(Path, Map, Map)}, with the SHA-256 of the data section recorded in the
     * metadata under {@link #CHECKSUM_KEY}, so that every later read detects a corrupt file. The
     * file stays a valid safetensors file for any reader (the checksum is one more metadata entry).
     */
    public static void writeWithChecksum(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(metadata == null ? Map.of() : metadata);
        meta.remove(CHECKSUM_KEY);
        Plan plain = plan(tensors, meta);
        meta.put(CHECKSUM_KEY, dataDigest(plain));
        writeAtomically(file, plan(tensors, meta), null);
    }

    /** SHA-256 of the data section a plan would write. */
    private static String dataDigest(Plan plan) {
        java.security.MessageDigest md = AtomicFiles.sha256();
        byte[] chunk = new byte[(int) Math.max(16, Math.min(CHUNK_BYTES, plan.dataSize()))];
        MemorySegment seg = MemorySegment.ofArray(chunk);
        for (Planned p : plan.tensors()) {
            int perChunk = chunk.length / p.dtype().size;
            for (int from = 0; from < p.numel(); from += perChunk) {
                int count = Math.min(perChunk, p.numel() - from);
                encode(p, from, count, seg, 0);
                md.update(chunk, 0, count * p.dtype().size);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 of a memory segment, hex. */
    private static String digest(MemorySegment data) {
        java.security.MessageDigest md = AtomicFiles.sha256();
        long size = data.byteSize();
        for (long at = 0; at < size; at += CHUNK_BYTES) {
            md.update(data.asSlice(at, Math.min(CHUNK_BYTES, size - at)).asByteBuffer());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Same as {@link #toBytes(Map, Map)} without metadata. */
    public static byte[] toBytes(Map<String, Tensor> tensors) {
        return toBytes(tensors, Map.of());
    }

    /**
     * The bytes of a safetensors file holding the tensors, exactly as {@link #write(Path, Map, Map)}
     * would write them.
     *
     * @throws IllegalArgumentException if a name, tensor or metadata entry is invalid, or the
     *     result would not fit in a Java array (use {@link #write(Path, Map, Map)}, which
     *     streams)
     */
    public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Plan plan = plan(tensors, metadata);
        long total = 8L + plan.header().length + plan.dataSize();
        if (total > MAX_ELEMENTS) {
            throw new IllegalArgumentException("safetensors: the tensors need " + total + " bytes, more than a byte"
                    + " array can hold; write them to a file with SafeTensors.write instead");
        }
        byte[] out = new byte[(int) total];
        MemorySegment segment = MemorySegment.ofArray(out);
        segment.set(I64_LE, 0, plan.header().length);
        MemorySegment.copy(plan.header(), 0, segment, ValueLayout.JAVA_BYTE, 8, plan.header().length);
        long at = 8L + plan.header().length;
        for (Planned p : plan.tensors()) {
            encode(p, 0, p.numel(), segment, at);
            at += p.byteSize();
        }
        return out;
    }

    /** One tensor to write: its elements as an array slice, and where they go. */
    private record Planned(String name, FileDType dtype, int[] shape, Object array, int arrayOffset, int numel) {
        long byteSize() {
            return (long) numel * dtype.size;
        }
    }

    /** Everything needed to write a file: the padded header and the tensors in data order. */
    private record Plan(byte[] header, List<Planned> tensors, long dataSize) {}

    private static Plan plan(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        List<Planned> planned = new ArrayList<>(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null) {
                throw new IllegalArgumentException("safetensors: a tensor name is null");
            }
            if (name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("safetensors: " + Json.quote(METADATA_KEY) + " is reserved for"
                        + " metadata and cannot name a tensor; rename it or pass it as metadata");
            }
            if (t == null) {
                throw new IllegalArgumentException("safetensors: tensor " + Json.quote(name) + " is null");
            }
            planned.add(planTensor(name, t));
        }
        Comparator<Planned> referenceOrder = Comparator.<Planned>comparingInt(p -> -p.dtype().layoutRank())
                .thenComparing(p -> p.name().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned);
        planned.sort(referenceOrder);

        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            TreeMap<String, String> sorted = new TreeMap<>();
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("safetensors: metadata keys and values must not be null, found "
                            + e.getKey() + " -> " + e.getValue());
                }
                sorted.put(e.getKey(), e.getValue());
            }
            header.put(METADATA_KEY, sorted);
        }
        long offset = 0;
        for (Planned p : planned) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", p.dtype().name());
            info.put("shape", p.shape());
            info.put("data_offsets", new long[] {offset, offset + p.byteSize()});
            header.put(p.name(), info);
            offset += p.byteSize();
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("safetensors: the header would take " + padded + " bytes, more than the"
                    + " limit of " + MAX_HEADER_BYTES + " that readers accept; use fewer tensors or shorter names"
                    + " and metadata");
        }
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        return new Plan(headerBytes, List.copyOf(planned), offset);
    }

    private static Planned planTensor(String name, Tensor t) {
        FileDType dtype;
        try {
            dtype = FileDType.of(t.dtype());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("safetensors: tensor " + Json.quote(name) + ": " + e.getMessage()
                    + "; supported: float32, int64, uint8, bool", e);
        }
        int numel = t.numel();
        if (t.isContiguous()) { // write straight from the storage, no copy
            Object storage = switch (dtype) {
                case F32 -> t.floatStorage();
                case I64 -> t.longStorage();
                case BOOL -> t.boolStorage();
                case U8 -> t.byteStorage();
                default -> throw new AssertionError(dtype);
            };
            return new Planned(name, dtype, t.shape(), storage, numel == 0 ? 0 : t.offset(), numel);
        }
        Object copy = switch (dtype) {
            case F32 -> t.toFloatArray();
            case I64 -> t.toLongArray();
            case BOOL -> t.toBoolArray();
            case U8 -> t.toByteArray();
            default -> throw new AssertionError(dtype);
        };
        return new Planned(name, dtype, t.shape(), copy, 0, numel);
    }

    /** Writes elements [from, from + count) of a planned tensor, little-endian, at {@code dst[at]}. */
    private static void encode(Planned p, int from, int count, MemorySegment dst, long at) {
        int src = p.arrayOffset() + from;
        switch (p.array()) {
            case float[] a -> MemorySegment.copy(a, src, dst, F32_LE, at, count);
            case long[] a -> MemorySegment.copy(a, src, dst, I64_LE, at, count);
            case byte[] a -> MemorySegment.copy(a, src, dst, ValueLayout.JAVA_BYTE, at, count);
            case boolean[] a -> {
                for (int i = 0; i < count; i++) {
                    dst.set(ValueLayout.JAVA_BYTE, at + i, a[src + i] ? (byte) 1 : (byte) 0);
                }
            }
            default -> throw new AssertionError(p.array().getClass());
        }
    }

    /**
     * Test seam: called after the header and after every chunk of data is written to the
     * temporary file, with the number of bytes written so far. A test can throw from it to
     * simulate a failure (a full disk) midway through the write.
     */
    @FunctionalInterface
    interface WriteProgress {
        void written(long bytes) throws IOException;
    }

    private static void writeAtomically(Path file, Plan plan, WriteProgress progress) throws IOException {
        Objects.requireNonNull(file, "file");
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = createTemporary(dir, target.getFileName().toString());
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writeContents(channel, plan, progress != null ? progress : bytes -> AtomicFiles.checkFault(target));
                channel.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable failure) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
        AtomicFiles.syncDirectory(dir);
    }

    /**
     * Creates an empty, uniquely named temporary file next to the target, with the default
     * permissions for new files (unlike {@link Files#createTempFile}, which makes it owner-only and
     * would leave the final file unreadable by others).
     */
    private static Path createTemporary(Path dir, String targetName) throws IOException {
        String base = "." + (targetName.length() > 100 ? targetName.substring(0, 100) : targetName) + ".";
        for (int attempt = 0; ; attempt++) {
            String random = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
            Path tmp = dir.resolve(base + random + ".tmp");
            try {
                FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    private static void writeContents(FileChannel channel, Plan plan, WriteProgress progress) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(16, 8L + plan.header().length
                + plan.dataSize())));
        buffer.order(ByteOrder.LITTLE_ENDIAN).putLong(plan.header().length).flip();
        long written = writeFully(channel, buffer, 0, progress);
        written = writeFully(channel, ByteBuffer.wrap(plan.header()), written, progress);
        MemorySegment chunk = MemorySegment.ofArray(buffer.array());
        for (Planned p : plan.tensors()) {
            int perChunk = buffer.capacity() / p.dtype().size;
            for (int from = 0; from < p.numel(); from += perChunk) {
                int count = Math.min(perChunk, p.numel() - from);
                encode(p, from, count, chunk, 0);
                buffer.clear().limit(count * p.dtype().size);
                written = writeFully(channel, buffer, written, progress);
            }
        }
    }

    private static long writeFully(FileChannel channel, ByteBuffer buffer, long written, WriteProgress progress)
            throws IOException {
        while (buffer.hasRemaining()) {
            written += channel.write(buffer);
        }
        if (progress != null) {
            progress.written(written);
        }
        return written;
    }

    /** Package-private entry point for tests of the failure path. */
    static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, WriteProgress progress)
            throws IOException {
        writeAtomically(file, plan(tensors, metadata), progress);
    }

    private static String describeNames(Collection<String> names) {
        Stream<String> quoted = names.stream().limit(20).map(Json::quote);
        String list = quoted.collect(Collectors.joining(", "));
        return names.size() > 20 ? list + ", ..." : list;
    }
}
