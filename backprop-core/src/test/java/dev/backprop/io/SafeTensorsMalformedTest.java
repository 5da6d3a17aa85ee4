package dev.backprop.io;

import static dev.backprop.io.SafeTensorsTest.concat;
import static dev.backprop.io.SafeTensorsTest.file;
import static dev.backprop.io.SafeTensorsTest.le64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.backprop.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hand-made malformed inputs, truncations and random corruptions: each must fail with a
 * {@link SafeTensorsException} that explains itself, and never with an unchecked exception from
 * inside the parser, an OutOfMemoryError or a hang.
 */
class SafeTensorsMalformedTest {

    private static final String PREFIX = "safetensors byte array: ";

    /** One F32 tensor "w" of shape [2]. */
    private static byte[] single(String entry, int dataBytes) {
        return file("{'w':" + entry + "}", new byte[dataBytes]);
    }

    private static byte[] withLength(long declaredHeaderLength, byte[] rest) {
        return concat(le64(declaredHeaderLength), rest);
    }

    static Stream<Arguments> malformed() {
        String ok = "{'dtype':'F32','shape':[2],'data_offsets':[0,8]}";
        return Stream.of(
                // the 8-byte length prefix
                bad("empty input", new byte[0], null, "expected at least 8 bytes", "has 0"),
                bad("7 bytes", new byte[7], null, "expected at least 8 bytes", "has 7"),
                bad("length 2^64-1", withLength(-1, new byte[8]), null, "18446744073709551615", "limit of 100000000"),
                bad("length 2^63", withLength(Long.MIN_VALUE, new byte[8]), null, "9223372036854775808"),
                bad("length over the cap", withLength(100_000_001, new byte[8]), null, "100000001",
                        "more than the limit"),
                bad("length past the end", withLength(100, "{}".getBytes(StandardCharsets.UTF_8)), null,
                        "says 100 bytes but only 2 bytes follow", "truncated"),
                bad("length zero", withLength(0, new byte[0]), null, "not valid JSON", "empty input"),
                // the header text
                bad("invalid UTF-8", withLength(4, new byte[] {'{', (byte) 0xFF, '}', ' '}), null,
                        "invalid byte 0xFF at header offset 1 (file offset 9)"),
                bad("truncated UTF-8 sequence", withLength(3, new byte[] {'{', '}', (byte) 0xC3}), null,
                        "invalid byte 0xC3 at header offset 2"),
                bad("not JSON", file("{'w':", new byte[0]), null, "not valid JSON", "end of input"),
                bad("NUL padding", withLength(8, new byte[] {'{', '}', 0, 0, 0, 0, 0, 0}), null, "not valid JSON",
                        "U+0000"),
                bad("garbage before", file("x{}", new byte[0]), null, "not valid JSON", "found 'x'"),
                bad("trailing garbage", file("{} {}", new byte[0]), null, "not valid JSON", "expected end of input"),
                bad("header is an array", file("[]", new byte[0]), null, "expected the header to be a JSON object",
                        "found an array"),
                bad("header is null", file("null", new byte[0]), null, "expected the header to be a JSON object",
                        "found null"),
                bad("header is a string", file("'x'", new byte[0]), null, "found a string"),
                bad("duplicate tensor", file("{'w':" + ok + ",'w':" + ok + "}", new byte[8]), null, "\"w\" a second time"),
                bad("deep nesting", file("{'w':" + "[".repeat(100) + "]".repeat(100) + "}", new byte[0]), null,
                        "at most 64 levels"),
                // tensor entries
                bad("entry is a number", single("1", 0), "w", "expected an object with \"dtype\"", "integer (1)"),
                bad("entry is null", single("null", 0), "w", "expected an object", "found null"),
                bad("missing dtype", single("{'shape':[2],'data_offsets':[0,8]}", 8), "w", "missing \"dtype\""),
                bad("missing shape", single("{'dtype':'F32','data_offsets':[0,8]}", 8), "w", "missing \"shape\""),
                bad("missing data_offsets", single("{'dtype':'F32','shape':[2]}", 8), "w", "missing \"data_offsets\""),
                bad("misspelled data_offsets", single("{'dtype':'F32','shape':[2],'data_offset':[0,8]}", 8), "w",
                        "missing \"data_offsets\"", "data_offset]"),
                bad("null dtype", single("{'dtype':null,'shape':[2],'data_offsets':[0,8]}", 8), "w",
                        "\"dtype\" is null"),
                bad("dtype not a string", single("{'dtype':4,'shape':[2],'data_offsets':[0,8]}", 8), "w",
                        "expected \"dtype\" to be a string", "integer (4)"),
                bad("unknown dtype", single("{'dtype':'F8_E4M3','shape':[2],'data_offsets':[0,2]}", 2), "w",
                        "unsupported dtype \"F8_E4M3\"", "supported: BOOL, U8", "F32", "BF16"),
                bad("U64", single("{'dtype':'U64','shape':[1],'data_offsets':[0,8]}", 8), "w",
                        "unsupported dtype \"U64\""),
                bad("lowercase dtype", single("{'dtype':'f32','shape':[2],'data_offsets':[0,8]}", 8), "w",
                        "unsupported dtype \"f32\""),
                bad("shape not an array", single("{'dtype':'F32','shape':2,'data_offsets':[0,8]}", 8), "w",
                        "expected \"shape\" to be an array", "integer (2)"),
                bad("negative dimension", single("{'dtype':'F32','shape':[-2],'data_offsets':[0,8]}", 8), "w",
                        "\"shape\" element 0 to be a non-negative integer", "found -2"),
                bad("fractional dimension", single("{'dtype':'F32','shape':[2.0],'data_offsets':[0,8]}", 8), "w",
                        "non-negative integer", "found 2.0"),
                bad("string dimension", single("{'dtype':'F32','shape':[1,'2'],'data_offsets':[0,8]}", 8), "w",
                        "\"shape\" element 1", "found \"2\""),
                bad("null dimension", single("{'dtype':'F32','shape':[null],'data_offsets':[0,8]}", 8), "w",
                        "found null"),
                bad("dimension over int", single("{'dtype':'U8','shape':[3000000000],'data_offsets':[0,8]}", 8), "w",
                        "element 0 is 3000000000", "largest supported size 2147483647"),
                bad("dimension over long", single("{'dtype':'U8','shape':[99999999999999999999],'data_offsets':[0,8]}", 8),
                        "w", "non-negative integer", "1.0E20"),
                bad("element count overflows", single(
                        "{'dtype':'F32','shape':[2147483647,2147483647,2147483647,4],'data_offsets':[0,8]}", 8),
                        "w", "more than 2147483639 elements"),
                bad("more elements than an array holds", single(
                        "{'dtype':'U8','shape':[46341,46341],'data_offsets':[0,2147488281]}", 8), "w",
                        "[46341, 46341] has more than 2147483639 elements"),
                bad("offsets not an array", single("{'dtype':'F32','shape':[2],'data_offsets':8}", 8), "w",
                        "\"data_offsets\" to be an array of two non-negative integers", "found 8"),
                bad("one offset", single("{'dtype':'F32','shape':[2],'data_offsets':[8]}", 8), "w",
                        "array of two", "found [8]"),
                bad("three offsets", single("{'dtype':'F32','shape':[2],'data_offsets':[0,4,8]}", 8), "w",
                        "found [0,4,8]"),
                bad("negative begin", single("{'dtype':'F32','shape':[0],'data_offsets':[-1,0]}", 0), "w",
                        "\"data_offsets\" begin to be a non-negative integer", "found -1"),
                bad("string end", single("{'dtype':'F32','shape':[2],'data_offsets':[0,'8']}", 8), "w",
                        "\"data_offsets\" end", "found \"8\""),
                bad("huge end", single("{'dtype':'F32','shape':[2],'data_offsets':[0,1e30]}", 8), "w",
                        "\"data_offsets\" end", "1.0E30"),
                bad("begin after end", single("{'dtype':'F32','shape':[2],'data_offsets':[8,0]}", 8), "w",
                        "begin <= end", "[8, 0]"),
                bad("size mismatch", single("{'dtype':'F32','shape':[2],'data_offsets':[0,12]}", 12), "w",
                        "span 12 bytes but dtype F32 with shape [2] needs 8 (2 elements of 4 bytes)"),
                bad("size mismatch for an empty shape", single("{'dtype':'I64','shape':[3,0],'data_offsets':[0,8]}", 8),
                        "w", "needs 0 (0 elements"),
                bad("end past the data", single(ok, 4), "w", "reach past the end of the data section, which has 4 bytes"),
                bad("lying size, nothing to back it", single(
                        "{'dtype':'U8','shape':[2147483000],'data_offsets':[0,2147483000]}", 0), "w",
                        "reach past the end", "truncated"),
                // how the tensors tile the data section
                bad("overlap", file("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},"
                        + "'b':{'dtype':'F32','shape':[2],'data_offsets':[4,12]}}", new byte[12]), "b",
                        "[4, 12] overlap tensor \"a\" at [0, 8]"),
                bad("shared data", file("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},"
                        + "'b':{'dtype':'I32','shape':[2],'data_offsets':[0,8]}}", new byte[8]), "b", "overlap tensor \"a\""),
                bad("empty tensor inside another", file("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},"
                        + "'b':{'dtype':'F32','shape':[0],'data_offsets':[4,4]}}", new byte[8]), "b", "overlap"),
                bad("gap between tensors", file("{'a':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},"
                        + "'b':{'dtype':'F32','shape':[1],'data_offsets':[8,12]}}", new byte[12]), "b",
                        "leave bytes [4, 8) after the end of tensor \"a\" at [0, 4] unused", "without gaps"),
                bad("gap at the start", single("{'dtype':'F32','shape':[1],'data_offsets':[4,8]}", 8), "w",
                        "bytes [0, 4) after the start of the data section unused"),
                bad("trailing bytes", single(ok, 11), null, "data section has 11 bytes but the tensors cover only the"
                        + " first 8", "3 bytes after them"),
                bad("data but no tensors", file("{}", new byte[5]), null, "has 5 bytes but the tensors cover only the"
                        + " first 0"),
                // metadata
                bad("metadata is a string", file("{'__metadata__':'x'}", new byte[0]), null,
                        "expected \"__metadata__\" to be an object of string values but found a string"),
                bad("metadata is an array", file("{'__metadata__':[]}", new byte[0]), null, "found an array"),
                bad("metadata value is a number", file("{'__metadata__':{'a':'b','step':3}}", new byte[0]), null,
                        "the value of \"step\" is an integer (3)", "store it as a string"),
                bad("metadata value is an object", file("{'__metadata__':{'nested':{}}}", new byte[0]), null,
                        "\"nested\" is an object"),
                bad("metadata value is null", file("{'__metadata__':{'k':null}}", new byte[0]), null,
                        "\"k\" is null"));
    }

    private static Arguments bad(String name, byte[] bytes, String tensor, String... fragments) {
        return Arguments.of(name, bytes, tensor, fragments);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedInputIsRefusedWithAClearMessage(String name, byte[] bytes, String tensor, String[] fragments) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(bytes), name);
        String message = e.getMessage();
        assertTrue(message.startsWith(PREFIX + (tensor == null ? "" : "tensor \"" + tensor + "\": ")), message);
        assertEquals(tensor, e.tensorName(), message);
        assertEquals("byte array", e.source());
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), "expected <" + fragment + "> in: " + message);
        }
        // the same bytes through a ByteBuffer fail the same way
        SafeTensorsException viaBuffer = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.read(ByteBuffer.wrap(bytes)));
        assertEquals(message.substring(PREFIX.length()), viaBuffer.getMessage().substring("safetensors ByteBuffer: ".length()));
    }

    /** A valid file with several dtypes, metadata and padding. */
    private static byte[] validFile() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        tensors.put("i", Tensor.ofLongs(new long[] {1, -2}, 2));
        tensors.put("m", Tensor.ofBools(new boolean[] {true, false, true}, 3));
        tensors.put("u", Tensor.ofBytes(new byte[] {7}));
        tensors.put("e", Tensor.of(new float[0], 0, 2));
        return SafeTensors.toBytes(tensors, Map.of("format", "pt"));
    }

    @Test
    void everyTruncationIsRefused() {
        byte[] valid = validFile();
        SafeTensors.read(valid);
        for (int length = 0; length < valid.length; length++) {
            byte[] truncated = Arrays.copyOf(valid, length);
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(truncated),
                    "truncated to " + length + " of " + valid.length + " bytes");
            assertTrue(e.getMessage().startsWith(PREFIX) && e.getMessage().length() > PREFIX.length() + 20,
                    e.getMessage());
        }
        byte[] extended = Arrays.copyOf(valid, valid.length + 1);
        assertThrows(SafeTensorsException.class, () -> SafeTensors.read(extended));
    }

    @Test
    void randomHeaderCorruptionIsRefusedOrHarmless() {
        byte[] valid = validFile();
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Random random = new Random(20240607);
        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int trial = 0; trial < 20_000; trial++) {
                byte[] corrupt = valid.clone();
                int flips = 1 + random.nextInt(3);
                for (int f = 0; f < flips; f++) {
                    int at = random.nextInt(headerEnd);
                    if (random.nextBoolean()) {
                        corrupt[at] ^= (byte) (1 << random.nextInt(8));
                    } else {
                        corrupt[at] = (byte) random.nextInt(256);
                    }
                }
                outcomes[readOutcome(corrupt, "trial " + trial)]++;
            }
        });
        assertTrue(outcomes[1] > 15_000, "most corruptions must be detected, got " + Arrays.toString(outcomes));
    }

    @Test
    void randomGarbageIsRefused() {
        Random random = new Random(7);
        for (int trial = 0; trial < 5_000; trial++) {
            int length = random.nextInt(64);
            byte[] garbage = new byte[length];
            random.nextBytes(garbage);
            if (length >= 8 && random.nextBoolean()) { // a plausible header length, to get past the prefix
                System.arraycopy(le64(random.nextInt(length - 7)), 0, garbage, 0, 8);
            }
            readOutcome(garbage, "garbage trial " + trial);
        }
        // and structurally plausible headers with random numbers
        for (int trial = 0; trial < 5_000; trial++) {
            long dim = random.nextInt(5) - 1;
            long begin = random.nextInt(6) - 1;
            long end = random.nextInt(10) - 1;
            String dtype = new String[] {"F32", "I64", "U8", "BOOL", "F16", "X"}[random.nextInt(6)];
            byte[] bytes = file("{'t':{'dtype':'" + dtype + "','shape':[" + dim + ",2],'data_offsets':[" + begin + ","
                    + end + "]}}", new byte[random.nextInt(9)]);
            readOutcome(bytes, "plausible trial " + trial);
        }
    }

    /** 0 when the input reads fine, 1 when it is refused with a SafeTensorsException; fails otherwise. */
    private static int readOutcome(byte[] bytes, String what) {
        try {
            SafeTensors.read(bytes);
            return 0;
        } catch (SafeTensorsException e) {
            assertTrue(e.getMessage().startsWith(PREFIX) && e.getMessage().length() > PREFIX.length() + 20,
                    e.getMessage());
            return 1;
        } catch (RuntimeException | Error e) {
            return fail(what + ": expected SafeTensorsException, got " + e, e);
        }
    }

    @Test
    void randomDataCorruptionNeverBreaksReading() {
        byte[] valid = validFile();
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Random random = new Random(99);
        IntStream.range(0, 200).forEach(trial -> {
            byte[] corrupt = valid.clone();
            corrupt[headerEnd + random.nextInt(valid.length - headerEnd)] ^= (byte) (1 + random.nextInt(255));
            assertEquals(0, readOutcome(corrupt, "data flip " + trial), "data bytes are not validated");
        });
    }
}
