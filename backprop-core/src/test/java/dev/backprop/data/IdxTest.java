package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxTest {
    @TempDir
    Path dir;

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(b);
        }
        return out.toByteArray();
    }

    /** An IDX header with the given magic and dimensions (unsigned 32-bit each), then {@code data}. */
    static byte[] idx(int magic, long[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (long d : dims) {
            b.putInt((int) d);
        }
        b.put(data);
        return b.array();
    }

    Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** Asserts a DataException whose message names the file and contains each fragment. */
    static DataException assertBad(Path file, Runnable read, String... fragments) {
        DataException e = assertThrows(DataException.class, read::run);
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected \"" + f + "\" in: " + e.getMessage());
        }
        return e;
    }

    static Tensor sampleImages() {
        byte[] px = new byte[3 * 4 * 5];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 17);
        }
        return Tensor.ofBytes(px, 3, 4, 5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"images-idx3-ubyte", "images-idx3-ubyte.gz"})
    void imagesAndLabelsRoundTrip(String name) throws IOException {
        Tensor images = sampleImages();
        Path imagesFile = dir.resolve(name);
        Idx.write(imagesFile, images);
        byte[] onDisk = Files.readAllBytes(imagesFile);
        assertEquals(name.endsWith(".gz"), (onDisk[0] & 0xFF) == 0x1F && (onDisk[1] & 0xFF) == 0x8B);

        Tensor raw = Idx.imagesUint8(imagesFile);
        assertEquals(DType.UINT8, raw.dtype());
        assertArrayEquals(new int[] {3, 4, 5}, raw.shape());
        assertArrayEquals(images.toByteArray(), raw.toByteArray());

        Tensor scaled = Idx.images(imagesFile);
        assertEquals(DType.FLOAT32, scaled.dtype());
        float[] f = scaled.toFloatArray();
        byte[] b = images.toByteArray();
        for (int i = 0; i < f.length; i++) {
            assertEquals((b[i] & 0xFF) / 255f, f[i]);
        }
        assertEquals(1f, f[15], "255 maps to 1"); // 15 * 17 = 255

        Path labelsFile = dir.resolve("labels" + (name.endsWith(".gz") ? ".gz" : ""));
        Idx.write(labelsFile, Tensor.ofLongs(new long[] {0, 9, 255}, 3), Idx.Type.UBYTE);
        Tensor labels = Idx.labels(labelsFile);
        assertEquals(DType.INT64, labels.dtype());
        assertArrayEquals(new long[] {0, 9, 255}, labels.toLongArray());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void everyElementTypeRoundTrips(boolean gz) {
        String ext = gz ? ".gz" : "";
        Tensor ints = Tensor.ofLongs(new long[] {-5, 0, 7, 100, -100, 3}, 2, 3);
        for (Idx.Type type : new Idx.Type[] {Idx.Type.BYTE, Idx.Type.SHORT, Idx.Type.INT}) {
            Path p = dir.resolve("t-" + type + ext);
            Idx.write(p, ints, type);
            Tensor back = Idx.read(p);
            assertEquals(DType.INT64, back.dtype(), type.toString());
            assertArrayEquals(ints.shape(), back.shape());
            assertArrayEquals(ints.toLongArray(), back.toLongArray(), type.toString());
        }
        Tensor floats = Tensor.of(new float[] {1.5f, -2.25f, 3e-8f, 1e30f}, 4);
        for (Idx.Type type : new Idx.Type[] {Idx.Type.FLOAT, Idx.Type.DOUBLE}) {
            Path p = dir.resolve("f-" + type + ext);
            Idx.write(p, floats, type);
            Tensor back = Idx.read(p);
            assertEquals(DType.FLOAT32, back.dtype());
            assertArrayEquals(floats.toFloatArray(), back.toFloatArray(), type.toString());
        }
        Path u = dir.resolve("u" + ext);
        Idx.write(u, Tensor.ofBytes(new byte[] {0, (byte) 200}, 2));
        assertArrayEquals(new byte[] {0, (byte) 200}, Idx.read(u).toByteArray());
        Path big = dir.resolve("int" + ext);
        Idx.write(big, Tensor.ofLongs(new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE}, 2));
        assertArrayEquals(new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE}, Idx.read(big).toLongArray());
    }

    @Test
    void writingRefusesValuesThatDoNotFit() {
        assertThrows(IllegalArgumentException.class,
                () -> Idx.toBytes(Tensor.ofLongs(new long[] {256}, 1), Idx.Type.UBYTE));
        assertThrows(IllegalArgumentException.class,
                () -> Idx.toBytes(Tensor.ofLongs(new long[] {1L << 40}, 1), Idx.Type.INT));
        assertThrows(IllegalArgumentException.class,
                () -> Idx.toBytes(Tensor.of(new float[] {0.5f}, 1), Idx.Type.UBYTE));
    }

    @Test
    void emptyAndScalarTensors() {
        Path e = dir.resolve("empty");
        Idx.write(e, Tensor.empty(DType.UINT8, 0, 28, 28));
        assertArrayEquals(new int[] {0, 28, 28}, Idx.imagesUint8(e).shape());
        Path s = dir.resolve("scalar");
        Idx.write(s, Tensor.scalar(2.5f));
        assertEquals(2.5f, Idx.read(s).item());
    }

    @Test
    void aLabelFileIsNotAnImageFile() throws IOException {
        Path labels = file("train-labels-idx1-ubyte", idx(Idx.LABELS_MAGIC, new long[] {2}, new byte[] {1, 2}));
        assertBad(labels, () -> Idx.images(labels), "expected magic number 0x00000803", "found 0x00000801",
                "looks like a label file");
        Path images = file("imgs", idx(Idx.IMAGES_MAGIC, new long[] {1, 1, 1}, new byte[] {1}));
        assertBad(images, () -> Idx.labels(images), "expected magic number 0x00000801", "found 0x00000803",
                "looks like an image file");
    }

    @Test
    void badMagicNumbers() throws IOException {
        Path text = file("notes.txt", "hello world, not IDX".getBytes());
        assertBad(text, () -> Idx.read(text), "not an IDX file", "two zero bytes");
        assertBad(text, () -> Idx.images(text), "expected magic number 0x00000803", "not an IDX magic number");
        Path type = file("type", idx(0x00000A01, new long[] {1}, new byte[] {1}));
        assertBad(type, () -> Idx.read(type), "unknown IDX data type 0x0A");
        Path floats = file("floats", idx(0x00000D03, new long[] {1, 1, 1}, new byte[4]));
        assertBad(floats, () -> Idx.images(floats), "found 0x00000D03 (float (32-bit), 3 dimensions)");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void truncatedFiles(boolean gz) throws IOException {
        byte[] full = Idx.toBytes(sampleImages(), Idx.Type.UBYTE);
        String what = gz ? "the decompressed data" : "the file";
        for (int cut : new int[] {0, 3, 4, 10, 16, 17, full.length - 1}) {
            byte[] part = Arrays.copyOf(full, cut);
            Path p = file("cut" + cut + (gz ? ".gz" : ""), gz ? gzip(part) : part);
            DataException e = assertThrows(DataException.class, () -> Idx.images(p));
            assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
            String m = e.getMessage();
            if (cut < 4) {
                assertTrue(m.contains("too short for an IDX file") && m.contains(what + " has " + cut + " bytes"), m);
            } else if (cut < 16) {
                assertTrue(m.contains("truncated header"), m);
            } else {
                assertTrue(m.contains("[3, 4, 5], 60 bytes") && m.contains("truncated"), m);
            }
        }
    }

    @Test
    void truncatedOrCorruptGzipStreams() throws IOException {
        byte[] gz = gzip(Idx.toBytes(sampleImages(), Idx.Type.UBYTE));
        Path cut = file("cut.gz", Arrays.copyOf(gz, gz.length / 2));
        assertBad(cut, () -> Idx.images(cut), "truncated gzip data");
        byte[] flipped = gz.clone();
        flipped[gz.length / 2] ^= (byte) 0xFF;
        flipped[gz.length / 2 + 1] ^= (byte) 0x55;
        Path bad = file("bad.gz", flipped);
        DataException e = assertThrows(DataException.class, () -> Idx.images(bad));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        Path header = file("header-only.gz", new byte[] {0x1F, (byte) 0x8B});
        assertBad(header, () -> Idx.images(header), "gzip");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void lyingSizesNeverAllocateWhatTheHeaderClaims(boolean gz) throws IOException {
        long[][] lies = {
            {60000, 28, 28}, // plausible, but the file holds 4 bytes
            {0x7FFFFFFFL, 0x7FFFFFFFL, 0x7FFFFFFFL}, // 2^93 elements: overflows a long
            {0x7FFFFFFFL, 1, 1}, // just under the array limit: would be a 2 GB allocation
            {0xFFFFFFFFL, 1, 1}, // negative as a signed int
            {3, 0x40000000L, 0x40000000L},
        };
        for (long[] dims : lies) {
            byte[] body = idx(Idx.IMAGES_MAGIC, dims, new byte[] {1, 2, 3, 4});
            Path p = file("lie-" + Arrays.toString(dims).replaceAll("[^0-9]+", "_") + (gz ? ".gz" : ""),
                    gz ? gzip(body) : body);
            DataException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(DataException.class, () -> Idx.images(p)));
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        }
    }

    @Test
    void aGzipBombStopsAtTheDeclaredSize() throws IOException {
        // declares 10 bytes, then 50 MB of zeros follow: read 10 + 1 bytes, then refuse
        byte[] bomb = new byte[50 << 20];
        ByteBuffer.wrap(bomb).putInt(Idx.LABELS_MAGIC).putInt(10);
        Path p = file("bomb.gz", gzip(bomb));
        assertBad(p, () -> Idx.labels(p), "continues past them");
    }

    @Test
    void trailingDataIsRefused() throws IOException {
        byte[] full = Idx.toBytes(Tensor.ofBytes(new byte[] {1, 2, 3}, 3), Idx.Type.UBYTE);
        byte[] longer = Arrays.copyOf(full, full.length + 2);
        Path plain = file("trailing", longer);
        assertBad(plain, () -> Idx.labels(plain), "5 bytes follow the header (2 too many)");
        Path gz = file("trailing.gz", gzip(longer));
        assertBad(gz, () -> Idx.labels(gz), "continues past them");
    }

    @Test
    void missingAndEmptyFiles() throws IOException {
        Path missing = dir.resolve("nope-idx3-ubyte.gz");
        DataException e = assertBad(missing, () -> Idx.images(missing), "no such file");
        assertTrue(e.getCause() instanceof IOException);
        Path empty = file("empty", new byte[0]);
        assertBad(empty, () -> Idx.images(empty), "has 0 bytes");
    }
}
