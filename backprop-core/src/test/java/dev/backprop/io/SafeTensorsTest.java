package dev.backprop.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trips, conformance with the reference implementation's bytes, and the writer's atomicity. */
class SafeTensorsTest {

    @TempDir
    Path dir;

    // ------------------------------------------------------------------ round trips

    @Test
    void roundTripsEveryWritableDtypeWithMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("weight", Tensor.of(new float[] {1.5f, -2f, Float.NaN, Float.NEGATIVE_INFINITY, -0f, Float.MIN_VALUE},
                2, 3));
        tensors.put("targets", Tensor.ofLongs(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}, 4));
        tensors.put("mask", Tensor.ofBools(new boolean[] {true, false, false, true, true}, 5, 1));
        tensors.put("pixels", Tensor.ofBytes(new byte[] {0, 1, 127, (byte) 128, (byte) 255, 42}, 1, 2, 3));
        tensors.put("scalar", Tensor.of(new float[] {3.25f}));
        tensors.put("long scalar", Tensor.ofLongs(new long[] {-7}));
        tensors.put("empty", Tensor.of(new float[0], 0));
        tensors.put("empty 2x0x3", Tensor.ofLongs(new long[0], 2, 0, 3));
        tensors.put("empty bool", Tensor.ofBools(new boolean[0], 0, 4));
        tensors.put("ünïcödé \"quoted\" 😀", Tensor.ofBytes(new byte[] {9}, 1));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("note", "line\nbreak, \"quotes\", ünïcode 😀");
        metadata.put("empty", "");

        Path file = dir.resolve("all.safetensors");
        SafeTensors.write(file, tensors, metadata);
        SafeTensors.Contents fromFile = SafeTensors.read(file);
        SafeTensors.Contents fromBytes = SafeTensors.read(SafeTensors.toBytes(tensors, metadata));

        for (SafeTensors.Contents c : List.of(fromFile, fromBytes)) {
            assertEquals(tensors.keySet(), c.tensors().keySet());
            tensors.forEach((name, expected) -> assertSameTensor(expected, c.tensor(name), name));
            assertEquals(metadata, c.metadata());
        }
        assertArrayEquals(SafeTensors.toBytes(tensors, metadata), Files.readAllBytes(file));
        assertArrayEquals(new int[0], fromFile.tensor("scalar").shape());
        assertEquals(DType.INT64, fromFile.tensor("long scalar").dtype());
    }

    @Test
    void roundTripsWithoutMetadataOrTensors() throws IOException {
        SafeTensors.Contents none = SafeTensors.read(SafeTensors.toBytes(Map.of()));
        assertTrue(none.tensors().isEmpty());
        assertTrue(none.metadata().isEmpty());

        Path file = dir.resolve("meta-only.safetensors");
        SafeTensors.write(file, Map.of(), Map.of("k", "v"));
        SafeTensors.Contents metaOnly = SafeTensors.read(file);
        assertTrue(metaOnly.tensors().isEmpty());
        assertEquals(Map.of("k", "v"), metaOnly.metadata());

        SafeTensors.write(file, Map.of("x", Tensor.of(new float[] {1}, 1)), null);
        assertEquals(Map.of(), SafeTensors.read(file).metadata());
    }

    @Test
    void writesViewsInRowMajorOrder() {
        float[] storage = {0, 1, 2, 3, 4, 5, 6, 7};
        Tensor base = Tensor.of(storage, 2, 4);
        Tensor transposed = base.asStrided(new int[] {4, 2}, new int[] {1, 4}, 0); // base.T
        Tensor window = base.asStrided(new int[] {3}, new int[] {1}, 2); // contiguous, offset 2
        Tensor strided = base.asStrided(new int[] {2, 2}, new int[] {4, 2}, 1); // every other column from 1
        Tensor emptyView = base.asStrided(new int[] {0, 3}, new int[] {3, 1}, 5);
        Map<String, Tensor> tensors = Map.of("t", transposed, "w", window, "s", strided, "e", emptyView);

        SafeTensors.Contents c = SafeTensors.read(SafeTensors.toBytes(tensors));
        assertArrayEquals(new float[] {0, 4, 1, 5, 2, 6, 3, 7}, c.tensor("t").toFloatArray());
        assertArrayEquals(new int[] {4, 2}, c.tensor("t").shape());
        assertArrayEquals(new float[] {2, 3, 4}, c.tensor("w").toFloatArray());
        assertArrayEquals(new float[] {1, 3, 5, 7}, c.tensor("s").toFloatArray());
        assertArrayEquals(new int[] {0, 3}, c.tensor("e").shape());
    }

    @Test
    void streamsTensorsLargerThanOneWriteChunk() throws IOException {
        float[] big = new float[700_000]; // 2.8 MB: several 1 MiB chunks
        long[] longs = new long[300_001];
        boolean[] bools = new boolean[1_500_003];
        for (int i = 0; i < big.length; i++) {
            big[i] = i * 0.5f - 7;
        }
        for (int i = 0; i < longs.length; i++) {
            longs[i] = (long) i * 3_000_000_017L;
        }
        for (int i = 0; i < bools.length; i++) {
            bools[i] = i % 3 == 0;
        }
        Map<String, Tensor> tensors = Map.of("big", Tensor.of(big, 700, 1000), "longs", Tensor.ofLongs(longs, longs.length),
                "bools", Tensor.ofBools(bools, bools.length));
        Path file = dir.resolve("big.safetensors");
        SafeTensors.write(file, tensors, Map.of());
        assertArrayEquals(SafeTensors.toBytes(tensors), Files.readAllBytes(file));
        SafeTensors.Contents c = SafeTensors.read(file);
        assertArrayEquals(big, c.tensor("big").toFloatArray());
        assertArrayEquals(longs, c.tensor("longs").toLongArray());
        assertArrayEquals(bools, c.tensor("bools").toBoolArray());
    }

    @Test
    void readsFromByteBuffersWithoutMovingThem() {
        byte[] file = SafeTensors.toBytes(Map.of("x", Tensor.of(new float[] {1, 2, 3}, 3)), Map.of("a", "b"));
        ByteBuffer direct = ByteBuffer.allocateDirect(file.length + 13);
        direct.position(5);
        direct.put(file);
        direct.position(5).limit(5 + file.length);
        direct.order(ByteOrder.BIG_ENDIAN);
        SafeTensors.Contents c = SafeTensors.read(direct);
        assertArrayEquals(new float[] {1, 2, 3}, c.tensor("x").toFloatArray());
        assertEquals(5, direct.position());
        assertEquals(5 + file.length, direct.limit());
        assertEquals(ByteOrder.BIG_ENDIAN, direct.order());

        ByteBuffer readOnly = ByteBuffer.wrap(file).asReadOnlyBuffer();
        assertEquals(Map.of("a", "b"), SafeTensors.read(readOnly).metadata());
    }

    @Test
    void contentsAreUnmodifiableAndExplainMissingNames() {
        SafeTensors.Contents c = SafeTensors.read(SafeTensors.toBytes(Map.of("a", Tensor.of(new float[] {1}, 1))));
        assertThrows(UnsupportedOperationException.class, () -> c.tensors().put("b", Tensor.of(new float[] {1}, 1)));
        assertThrows(UnsupportedOperationException.class, () -> c.metadata().put("b", "c"));
        NoSuchElementException e = assertThrows(NoSuchElementException.class, () -> c.tensor("weight"));
        assertEquals("no tensor named \"weight\"; there are 1 tensors: \"a\"", e.getMessage());
    }

    // ------------------------------------------------------------------ layout and reference bytes

    /** The byte-exact outputs of the reference implementation's own serialization tests. */
    @Test
    void matchesTheReferenceSerializerByteForByte() {
        float[] values = {0, 1, 2, 3, 4, 5};
        assertArrayEquals(expectedFile("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", 64,
                        f32(values)),
                SafeTensors.toBytes(Map.of("attn.0", Tensor.of(values, 1, 2, 3))));
        // a shorter name forces 7 bytes of padding so that the F32 data stays 8-byte aligned
        assertArrayEquals(expectedFile("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}", 72,
                        f32(values)),
                SafeTensors.toBytes(Map.of("attn0", Tensor.of(values, 1, 1, 2, 3))));
        assertArrayEquals(expectedFile("{}", 8, new byte[0]), SafeTensors.toBytes(Map.of()));
        assertArrayEquals(expectedFile("{\"__metadata__\":{\"framework\":\"pt\"}}", 40, new byte[0]),
                SafeTensors.toBytes(Map.of(), Map.of("framework", "pt")));
    }

    @Test
    void laysOutTensorsLikeTheReference() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("b.mask", Tensor.ofBools(new boolean[] {true, false, true}, 3));
        tensors.put("a.bytes", Tensor.ofBytes(new byte[] {1, 2, 3, 4, 5}, 5));
        tensors.put("z.f32", Tensor.of(new float[] {1, 2, 3}, 3));
        tensors.put("y.i64", Tensor.ofLongs(new long[] {1, 2}, 2));
        tensors.put("x.f32", Tensor.of(new float[] {4}, 1));
        tensors.put("é", Tensor.of(new float[] {5}, 1)); // UTF-8 0xC3.. sorts after ASCII
        tensors.put("Z.f32", Tensor.of(new float[] {6}, 1)); // uppercase sorts before lowercase
        byte[] bytes = SafeTensors.toBytes(tensors, Map.of("z", "1", "a", "2"));

        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals('{', header.charAt(0));
        assertTrue(header.stripTrailing().endsWith("}") && header.length() - header.stripTrailing().length() < 8, header);
        Map<String, Object> parsed = Json.parseObject(header);
        assertEquals(List.of("__metadata__", "y.i64", "Z.f32", "x.f32", "z.f32", "é", "a.bytes", "b.mask"),
                List.copyOf(parsed.keySet()));
        assertEquals(Map.of("a", "2", "z", "1"), parsed.get("__metadata__"));
        assertEquals("{\"a\":\"2\",\"z\":\"1\"}", Json.write(parsed.get("__metadata__"))); // sorted keys

        long expectedBegin = 0;
        for (Map.Entry<String, Object> e : parsed.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            Map<?, ?> info = (Map<?, ?>) e.getValue();
            List<?> offsets = (List<?>) info.get("data_offsets");
            long begin = (Long) offsets.get(0);
            assertEquals(expectedBegin, begin, e.getKey());
            int size = switch ((String) info.get("dtype")) {
                case "I64" -> 8;
                case "F32" -> 4;
                default -> 1;
            };
            assertEquals(0, (8 + n + begin) % size, e.getKey() + " is aligned to its element size in the file");
            expectedBegin = (Long) offsets.get(1);
        }
        assertEquals(bytes.length - 8 - n, expectedBegin);
    }

    /**
     * A file written by NumPy with the project's reference generator
     * ({@code generator/safetensors_io.py}): F64, I32, I64, BOOL, U8 and F32 tensors, deliberately
     * unaligned (that writer orders by name only), with metadata after the tensors. The 0-d NumPy
     * array {@code np.array(3.5, dtype=np.float32)} was stored with shape [1] by that writer.
     */
    private static final String NUMPY_FILE = "2AEAAAAAAAB7ImVtcHR5Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlswLDNdLCJkYXRhX29mZnNldHMiOlswLDBdfSwiZjY0Ijp7"
            + "ImR0eXBlIjoiRjY0Iiwic2hhcGUiOlsyLDNdLCJkYXRhX29mZnNldHMiOlswLDQ4XX0sImkzMiI6eyJkdHlwZSI6IkkzMiIsInNoYXBl"
            + "IjpbNF0sImRhdGFfb2Zmc2V0cyI6WzQ4LDY0XX0sImlkeCI6eyJkdHlwZSI6Ikk2NCIsInNoYXBlIjpbMiwxXSwiZGF0YV9vZmZzZXRz"
            + "IjpbNjQsODBdfSwibWFzayI6eyJkdHlwZSI6IkJPT0wiLCJzaGFwZSI6WzNdLCJkYXRhX29mZnNldHMiOls4MCw4M119LCJzY2FsYXIi"
            + "OnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzFdLCJkYXRhX29mZnNldHMiOls4Myw4N119LCJ1OCI6eyJkdHlwZSI6IlU4Iiwic2hhcGUi"
            + "OlsyLDJdLCJkYXRhX29mZnNldHMiOls4Nyw5MV19LCJfX21ldGFkYXRhX18iOnsiZm9ybWF0IjoibnAiLCJub3RlIjoid3JpdHRlbiBi"
            + "eSBudW1weSJ9fSAgICAgAAAAAAAA+D8AAAAAAAACwPyp8dJNYlA/ivIhvzw27EcAAAAAAAAAgJqZmZmZmbk/AAAAgP////8AAAAA////"
            + "fwcAAAAAAAAA9/////////8BAAEAAGBAAAGA/w==";

    @Test
    void readsAFileWrittenByNumpy() {
        SafeTensors.Contents c = SafeTensors.read(Base64.getDecoder().decode(NUMPY_FILE));
        assertEquals(List.of("empty", "f64", "i32", "idx", "mask", "scalar", "u8"), List.copyOf(c.tensors().keySet()));
        assertEquals(Map.of("format", "np", "note", "written by numpy"), c.metadata());

        Tensor f64 = c.tensor("f64");
        assertEquals(DType.FLOAT32, f64.dtype());
        assertArrayEquals(new int[] {2, 3}, f64.shape());
        assertArrayEquals(new float[] {1.5f, -2.25f, 1e-3f, 3.0e38f, -0f, 0.1f}, f64.toFloatArray());
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(f64.toFloatArray()[4]));

        Tensor i32 = c.tensor("i32");
        assertEquals(DType.INT64, i32.dtype());
        assertArrayEquals(new long[] {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE}, i32.toLongArray());
        assertArrayEquals(new long[] {7, -9}, c.tensor("idx").toLongArray());
        assertArrayEquals(new int[] {2, 1}, c.tensor("idx").shape());
        assertArrayEquals(new boolean[] {true, false, true}, c.tensor("mask").toBoolArray());
        assertArrayEquals(new float[] {3.5f}, c.tensor("scalar").toFloatArray());
        assertArrayEquals(new int[] {1}, c.tensor("scalar").shape());
        assertEquals(DType.UINT8, c.tensor("u8").dtype());
        assertArrayEquals(new byte[] {0, 1, (byte) 128, (byte) 255}, c.tensor("u8").toByteArray());
        assertArrayEquals(new int[] {0, 3}, c.tensor("empty").shape());
    }

    @Test
    void convertsNarrowAndHalfPrecisionDtypes() {
        String header = "{'h':{'dtype':'F16','shape':[6],'data_offsets':[0,12]},"
                + "'b':{'dtype':'BF16','shape':[2,2],'data_offsets':[12,20]},"
                + "'i16':{'dtype':'I16','shape':[2],'data_offsets':[20,24]},"
                + "'u16':{'dtype':'U16','shape':[2],'data_offsets':[24,28]},"
                + "'u32':{'dtype':'U32','shape':[1],'data_offsets':[28,32]},"
                + "'i8':{'dtype':'I8','shape':[3],'data_offsets':[32,35]},"
                + "'bool':{'dtype':'BOOL','shape':[3],'data_offsets':[35,38]}}";
        byte[] data = concat(
                le16(0x3C00, 0xC000, 0x7C00, 0x3555, 0x0001, 0xFE00), // 1, -2, inf, 0.333, smallest subnormal, NaN
                le16(0x3F80, 0xC040, 0xFF80, 0x7FC0), // 1, -3, -inf, NaN
                le16(0x8000, 0x7FFF), le16(0xFFFF, 0x0001),
                HexFormat.of().parseHex("FEFFFFFF"),
                new byte[] {-128, 127, -1},
                new byte[] {0, 1, 2}); // any nonzero byte reads as true
        SafeTensors.Contents c = SafeTensors.read(file(header, data));

        float[] h = c.tensor("h").toFloatArray();
        assertEquals(1f, h[0]);
        assertEquals(-2f, h[1]);
        assertEquals(Float.POSITIVE_INFINITY, h[2]);
        assertEquals(0.33325195f, h[3]);
        assertEquals(5.9604645e-8f, h[4]);
        assertTrue(Float.isNaN(h[5]));
        float[] b = c.tensor("b").toFloatArray();
        assertEquals(1f, b[0]);
        assertEquals(-3f, b[1]);
        assertEquals(Float.NEGATIVE_INFINITY, b[2]);
        assertTrue(Float.isNaN(b[3]));
        assertArrayEquals(new int[] {2, 2}, c.tensor("b").shape());
        assertArrayEquals(new long[] {-32768, 32767}, c.tensor("i16").toLongArray());
        assertArrayEquals(new long[] {65535, 1}, c.tensor("u16").toLongArray());
        assertArrayEquals(new long[] {4294967294L}, c.tensor("u32").toLongArray());
        assertArrayEquals(new long[] {-128, 127, -1}, c.tensor("i8").toLongArray());
        assertArrayEquals(new boolean[] {false, true, true}, c.tensor("bool").toBoolArray());
        assertEquals(List.of("h", "b", "i16", "u16", "u32", "i8", "bool"), List.copyOf(c.tensors().keySet()));
    }

    @Test
    void acceptsWhatTheReferenceAccepts() {
        // tensors listed out of offset order, null metadata, leading/trailing JSON whitespace, unknown keys
        String header = " \n{'__metadata__':null,'b':{'shape':[1],'dtype':'U8','data_offsets':[4,5],'extra':[1]},"
                + "'a':{'dtype':'F32','shape':[],'data_offsets':[0,4]},'z':{'dtype':'F32','shape':[0],'data_offsets':[5,5]}}\t ";
        SafeTensors.Contents c = SafeTensors.read(file(header, concat(f32(new float[] {2}), new byte[] {7})));
        assertEquals(List.of("b", "a", "z"), List.copyOf(c.tensors().keySet()));
        assertEquals(2f, c.tensor("a").toFloatArray()[0]);
        assertArrayEquals(new int[0], c.tensor("a").shape());
        assertArrayEquals(new byte[] {7}, c.tensor("b").toByteArray());
        assertTrue(c.metadata().isEmpty());
    }

    // ------------------------------------------------------------------ reading errors that are not format errors

    @Test
    void fileErrorsNameThePath() throws IOException {
        Path missing = dir.resolve("missing.safetensors");
        assertThrows(NoSuchFileException.class, () -> SafeTensors.read(missing));

        Path empty = Files.write(dir.resolve("empty.safetensors"), new byte[0]);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(empty));
        assertEquals("file " + empty, e.source());
        assertTrue(e.getMessage().startsWith("safetensors file " + empty + ": expected at least 8 bytes"), e.getMessage());

        Path bad = Files.write(dir.resolve("bad.safetensors"),
                file("{'w':{'dtype':'F32','shape':[2],'data_offsets':[0,4]}}", new byte[4]));
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(bad));
        assertEquals("w", e.tensorName());
        assertEquals("safetensors file " + bad + ": tensor \"w\": \"data_offsets\" [0, 4] span 4 bytes but dtype F32 with"
                + " shape [2] needs 8 (2 elements of 4 bytes)", e.getMessage());
    }

    // ------------------------------------------------------------------ writing

    @Test
    void refusesInvalidArguments() {
        Tensor t = Tensor.of(new float[] {1}, 1);
        Map<String, Tensor> reserved = Map.of("__metadata__", t);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.toBytes(reserved));
        assertTrue(e.getMessage().contains("reserved"), e.getMessage());
        Map<String, Tensor> nullTensor = new LinkedHashMap<>();
        nullTensor.put("x", null);
        e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.toBytes(nullTensor));
        assertTrue(e.getMessage().contains("\"x\" is null"), e.getMessage());
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.toBytes(Map.of("x", t), nullValue));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.toBytes(Map.of("bad\uD800", t)));
        assertThrows(NullPointerException.class, () -> SafeTensors.toBytes(null));
    }

    @Test
    void overwritesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, Map.of("v", Tensor.of(new float[] {1}, 1)), Map.of());
        SafeTensors.write(file, Map.of("v", Tensor.of(new float[] {2}, 1)), Map.of("step", "2"));
        SafeTensors.Contents c = SafeTensors.read(file);
        assertArrayEquals(new float[] {2}, c.tensor("v").toFloatArray());
        assertEquals(Map.of("step", "2"), c.metadata());
        assertEquals(List.of(file), listDir());

        // relative paths work
        Path relative = Path.of("").toAbsolutePath().relativize(dir.resolve("rel.safetensors"));
        SafeTensors.write(relative, Map.of("v", Tensor.of(new float[] {3}, 1)));
        assertArrayEquals(new float[] {3}, SafeTensors.read(dir.resolve("rel.safetensors")).tensor("v").toFloatArray());
    }

    @Test
    void newFilesGetTheUsualPermissionsNotTempFilePermissions() throws IOException {
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Path plain = Files.write(dir.resolve("plain.bin"), new byte[1]);
        Path file = dir.resolve("perm.safetensors");
        SafeTensors.write(file, Map.of());
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file));
    }

    @Test
    void aWriteThatFailsMidwayLeavesTheOldFileIntact() throws IOException {
        Path file = dir.resolve("checkpoint.safetensors");
        SafeTensors.write(file, Map.of("w", Tensor.of(new float[] {42}, 1)), Map.of("step", "1"));
        byte[] before = Files.readAllBytes(file);

        Map<String, Tensor> large = Map.of("w", Tensor.of(new float[600_000], 600_000));
        long[] progress = new long[1];
        IOException e = assertThrows(IOException.class, () -> SafeTensors.write(file, large, Map.of("step", "2"),
                written -> {
                    progress[0] = written;
                    if (written > 1 << 20) { // after the header and the first 1 MiB chunk are on disk
                        throw new IOException("simulated: No space left on device");
                    }
                }));
        assertEquals("simulated: No space left on device", e.getMessage());
        assertTrue(progress[0] > 1 << 20 && progress[0] < 2_400_000, "failed midway, after " + progress[0] + " bytes");
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), listDir());

        // an unchecked failure takes the same path
        assertThrows(UncheckedIOException.class, () -> SafeTensors.write(file, large, Map.of(), written -> {
            throw new UncheckedIOException(new IOException("simulated"));
        }));
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), listDir());
        assertArrayEquals(new float[] {42}, SafeTensors.read(file).tensor("w").toFloatArray());
    }

    @Test
    void aFailedRenameDeletesTheTemporaryFile() throws IOException {
        // the data is written and flushed, then the rename onto a non-empty directory fails
        Path target = Files.createDirectory(dir.resolve("occupied.safetensors"));
        Path inside = Files.write(target.resolve("keep.txt"), new byte[] {1, 2, 3});
        assertThrows(IOException.class, () -> SafeTensors.write(target, Map.of("x", Tensor.of(new float[] {1}, 1))));
        assertEquals(List.of(target), listDir());
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(inside));

        Path noParent = dir.resolve("no/such/dir/x.safetensors");
        assertThrows(NoSuchFileException.class, () -> SafeTensors.write(noParent, Map.of()));
    }

    // ------------------------------------------------------------------ helpers

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith("plain")).sorted().toList();
        }
    }

    static void assertSameTensor(Tensor expected, Tensor actual, String name) {
        assertEquals(expected.dtype(), actual.dtype(), name);
        assertArrayEquals(expected.shape(), actual.shape(), name);
        switch (expected.dtype()) {
            case FLOAT32 -> {
                float[] e = expected.toFloatArray();
                float[] a = actual.toFloatArray();
                assertEquals(e.length, a.length, name);
                for (int i = 0; i < e.length; i++) { // bitwise, so NaN and -0.0 count
                    assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]), name + "[" + i + "]");
                }
            }
            case INT64 -> assertArrayEquals(expected.toLongArray(), actual.toLongArray(), name);
            case BOOL -> assertArrayEquals(expected.toBoolArray(), actual.toBoolArray(), name);
            case UINT8 -> assertArrayEquals(expected.toByteArray(), actual.toByteArray(), name);
            default -> throw new AssertionError(expected.dtype());
        }
    }

    /** A safetensors file with this header (single quotes stand for double quotes) and data section. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
        return concat(le64(h.length), h, data);
    }

    /** The expected bytes for a header of a given padded length: JSON, then spaces up to that length. */
    private static byte[] expectedFile(String json, int paddedLength, byte[] data) {
        assertTrue(json.length() <= paddedLength);
        return concat(le64(paddedLength), (json + " ".repeat(paddedLength - json.length())).getBytes(StandardCharsets.US_ASCII),
                data);
    }

    static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static byte[] le16(int... values) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putShort((short) v);
        }
        return b.array();
    }

    static byte[] f32(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }
}
