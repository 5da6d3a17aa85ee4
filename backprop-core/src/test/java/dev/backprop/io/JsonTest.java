package dev.backprop.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {

    // ------------------------------------------------------------------ valid documents

    @Test
    void parsesObjectsKeepingKeyOrder() {
        Object v = Json.parse(" {\"z\": 1, \"a\": [true, false, null], \"m\": {\"x\": \"y\"}, \"e\": {}, \"l\": []} ");
        Map<?, ?> map = assertInstanceOf(LinkedHashMap.class, v);
        assertEquals(List.of("z", "a", "m", "e", "l"), new ArrayList<>(map.keySet()));
        assertEquals(1L, map.get("z"));
        assertEquals(Arrays.asList(true, false, null), map.get("a"));
        assertInstanceOf(ArrayList.class, map.get("a"));
        assertEquals(Map.of("x", "y"), map.get("m"));
        assertEquals(Map.of(), map.get("e"));
        assertEquals(List.of(), map.get("l"));
    }

    @Test
    void scalarsAtTopLevel() {
        assertEquals("hi", Json.parse("\"hi\""));
        assertEquals(Boolean.TRUE, Json.parse("true"));
        assertEquals(Boolean.FALSE, Json.parse("\tfalse\r\n"));
        assertNull(Json.parse("null"));
        assertEquals(42L, Json.parse("42"));
    }

    @Test
    void nullMembersAreJavaNull() {
        Map<String, Object> map = Json.parseObject("{\"a\": null}");
        assertTrue(map.containsKey("a"));
        assertNull(map.get("a"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0                      | 0",
        "-0                     | 0",
        "7                      | 7",
        "-123                   | -123",
        "9223372036854775807    | 9223372036854775807",
        "-9223372036854775808   | -9223372036854775808",
    })
    void integersThatFitALongAreLongs(String text, long expected) {
        assertEquals(expected, assertInstanceOf(Long.class, Json.parse(text)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "9223372036854775808      | 9.223372036854775808E18",
        "-9223372036854775809     | -9.223372036854775809E18",
        "123456789012345678901234567890 | 1.2345678901234568E29",
        "1.5                      | 1.5",
        "-0.0                     | -0.0",
        "2.0                      | 2.0",
        "1e3                      | 1000.0",
        "1E+3                     | 1000.0",
        "25e-1                    | 2.5",
        "-1.25E-2                 | -0.0125",
        "1e-400                   | 0.0",
        "1.7976931348623157e308   | 1.7976931348623157E308",
    })
    void otherNumbersAreDoubles(String text, double expected) {
        assertEquals(expected, assertInstanceOf(Double.class, Json.parse(text)));
    }

    @Test
    void stringEscapes() {
        assertEquals("\" \\ / \b \f \n \r \t A é", Json.parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9\""));
        assertEquals("\u0000\u001f", Json.parse("\"\\u0000\\u001F\""));
        // a surrogate pair escape decodes to one supplementary code point
        String emoji = (String) Json.parse("\"\\uD83D\\uDE00\"");
        assertEquals("😀", emoji);
        assertEquals(0x1F600, emoji.codePointAt(0));
        // raw non-ASCII, including a supplementary character, passes through
        assertEquals("日本語 😀 \u2028", Json.parse("\"日本語 😀 \u2028\""));
        assertEquals("", Json.parse("\"\""));
    }

    @Test
    void parsesUtf8Bytes() {
        byte[] bytes = "{\"name\": \"café 😀\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals(Map.of("name", "café 😀"), Json.parse(bytes));
    }

    @Test
    void acceptsTheConfiguredDepthExactly() {
        assertEquals(64, depthOf(Json.parse("[".repeat(64) + "]".repeat(64))));
        String objects = "{\"a\":".repeat(64) + "1" + "}".repeat(64);
        assertInstanceOf(Map.class, Json.parse(objects));
        assertEquals(3, depthOf(Json.parse("[[[]]]", 3)));
    }

    private static int depthOf(Object v) {
        int depth = 0;
        while (v instanceof List<?> l) {
            depth++;
            v = l.isEmpty() ? null : l.get(0);
        }
        return depth;
    }

    // ------------------------------------------------------------------ invalid documents

    @ParameterizedTest
    @ValueSource(strings = {
        "", "   ", "{", "}", "[", "]", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":}", "{a:1}",
        "{'a':1}", "['a']", "{\"a\":1 \"b\":2}", "[1 2]", "tru", "truee", "nul", "True", "NULL",
        "01", "-01", "00", "-", "+1", ".5", "1.", "1.e3", "1e", "1e+", "-e1", "0x10", "NaN", "Infinity", "-Infinity",
        "1e400", "-1e400", "\"abc", "\"a\nb\"", "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\\"",
        "\"\\uD83D\"", "\"\\uD83Dx\"", "\"\\uD83D\\u0041\"", "\"\\uDE00\"", "\"\uD83D\"", "\"\uDE00\"",
        "// comment\n1", "/* c */ 1", "[1] // c", "{} x", "[1]]", "1 2", "{}{}", "\"a\" \"b\"", "\uFEFF{}", "[1,\u00a0 2]",
    })
    void rejectsInvalidJson(String text) {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text));
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
        assertTrue(e.getMessage().contains("offset " + e.offset()), e.getMessage());
        assertTrue(e.offset() >= 0 && e.offset() <= text.length(), "offset " + e.offset());
    }

    @Test
    void errorsGiveLineColumnAndWhatWasExpected() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\n  \"a\": 1,\n  \"b\" 2\n}"));
        assertEquals(3, e.line());
        assertEquals(7, e.column());
        assertEquals(18, e.offset());
        assertEquals("expected ':' after the key \"b\" but found '2' at line 3, column 7 (offset 18)", e.getMessage());
    }

    @Test
    void trailingGarbageIsRefused() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\"a\": 1} true"));
        assertEquals(9, e.offset());
        assertTrue(e.getMessage().contains("expected end of input after the JSON value but found 't'"), e.getMessage());
    }

    @Test
    void duplicateKeysAreRefused() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\"a\": 1, \"b\": {}, \"a\": 2}"));
        assertEquals(18, e.offset());
        assertTrue(e.getMessage().contains("\"a\" a second time"), e.getMessage());
        // the same key in different objects is fine
        Json.parse("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}");
    }

    @Test
    void deepNestingIsRefusedCleanly() {
        for (String open : List.of("[", "{\"k\":")) {
            String tooDeep = open.repeat(65) + "1";
            JsonException e = assertThrows(JsonException.class, () -> Json.parse(tooDeep));
            assertTrue(e.getMessage().contains("at most 64 levels"), e.getMessage());
            // far deeper than any stack could recurse: still a clean JsonException
            String absurd = open.repeat(1_000_000);
            assertThrows(JsonException.class, () -> Json.parse(absurd));
        }
        assertThrows(JsonException.class, () -> Json.parse("[[[[]]]]", 3));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("1", 0));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("1", Json.MAX_DEPTH_LIMIT + 1));
    }

    @Test
    void invalidUtf8IsReportedWithItsByteOffset() {
        byte[] bytes = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(bytes));
        assertEquals(6, e.offset());
        assertTrue(e.getMessage().contains("byte offset 6"), e.getMessage());
        // overlong encoding of '/' and an encoded surrogate are invalid too
        assertThrows(JsonException.class, () -> Json.parse(new byte[] {'"', (byte) 0xC0, (byte) 0xAF, '"'}));
        assertThrows(JsonException.class, () -> Json.parse(new byte[] {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'}));
        assertThrows(JsonException.class, () -> Json.parse(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '1'}));
    }

    @Test
    void parseObjectRequiresAnObject() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parseObject("[1]"));
        assertTrue(e.getMessage().contains("expected a JSON object at the top level but found an array"), e.getMessage());
    }

    @Test
    void randomInputOnlyEverThrowsJsonException() {
        String alphabet = "{}[]:,\"\\ /-+.eE0123456789tfnrulasbxu\n\tDdé😀\u0001";
        Random random = new Random(12345);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int i = 0; i < 50_000; i++) {
                StringBuilder sb = new StringBuilder();
                int length = random.nextInt(30);
                for (int j = 0; j < length; j++) {
                    sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
                }
                try {
                    Object v = Json.parse(sb.toString());
                    assertEquals(v, Json.parse(Json.write(v)), "round trip of " + sb);
                } catch (JsonException expected) {
                    // fine: only JsonException may escape
                }
            }
        });
    }

    // ------------------------------------------------------------------ writer

    @Test
    void writesCompactJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "model");
        m.put("layers", List.of(1, 2L, 3.5, -0.25f));
        m.put("ok", true);
        m.put("none", null);
        m.put("nested", Map.of("shape", new int[] {2, 3}));
        m.put("big", new BigInteger("123456789012345678901234567890"));
        m.put("dec", new BigDecimal("1.50"));
        m.put("arr", new Object[] {"a", new long[] {-1}, new double[] {1e-5}, new boolean[] {false}});
        assertEquals("{\"name\":\"model\",\"layers\":[1,2,3.5,-0.25],\"ok\":true,\"none\":null,"
                + "\"nested\":{\"shape\":[2,3]},\"big\":123456789012345678901234567890,\"dec\":1.50,"
                + "\"arr\":[\"a\",[-1],[1.0E-5],[false]]}", Json.write(m));
        assertEquals("[]", Json.write(List.of()));
        assertEquals("{}", Json.write(Map.of()));
        assertEquals("null", Json.write(null));
        assertEquals("0.1", Json.write(0.1f)); // shortest float representation, not 0.10000000149011612
    }

    @Test
    void writesEscapedStrings() {
        assertEquals("\"a\\\"b\\\\c/d\"", Json.write("a\"b\\c/d"));
        assertEquals("\"\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\u007f\"", Json.write("\b\f\n\r\t\u0000\u0001\u001f\u007f"));
        assertEquals("\"café 😀 \u2028\"", Json.write("café 😀 \u2028"));
        for (int c = 0; c < 0x20; c++) {
            String s = "x" + (char) c + "y";
            assertEquals(s, Json.parse(Json.write(s)));
        }
    }

    @Test
    void writeThenParseRoundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "line\nbreak \"quoted\" 😀");
        m.put("i", Long.MIN_VALUE);
        m.put("d", 1.0E-300);
        m.put("list", new ArrayList<>(Arrays.asList(1L, null, "x", new ArrayList<>(List.of(2.5)))));
        m.put("", Map.of());
        assertEquals(m, Json.parse(Json.write(m)));
    }

    @Test
    void writerRefusesWhatJsonCannotHold() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("rate", Double.NaN);
        Map<String, Object> outer = Map.of("layers", List.of(Map.of(), inner));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(outer));
        assertTrue(e.getMessage().contains("$.layers[1].rate"), e.getMessage());
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> Json.write(new float[] {1, Float.POSITIVE_INFINITY}));
        assertTrue(e.getMessage().contains("$[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, "x")));
        assertTrue(e.getMessage().contains("keys must be strings"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
        assertTrue(e.getMessage().contains("java.lang.Object"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of("a b", "\uD800")));
        assertTrue(e.getMessage().contains("$[\"a b\"]") && e.getMessage().contains("surrogate"), e.getMessage());

        List<Object> deep = new ArrayList<>();
        for (int i = 1; i < Json.MAX_DEPTH_LIMIT; i++) {
            deep = new ArrayList<>(List.of(deep));
        }
        String deepJson = Json.write(deep); // exactly at the limit
        assertEquals(deep, Json.parse(deepJson, Json.MAX_DEPTH_LIMIT));
        List<Object> tooDeep = List.of(deep);
        e = assertThrows(IllegalArgumentException.class, () -> Json.write(tooDeep));
        assertTrue(e.getMessage().contains("nesting deeper than " + Json.MAX_DEPTH_LIMIT), e.getMessage());
        List<Object> shared = List.of(1L);
        assertEquals("[[1],[1]]", Json.write(List.of(shared, shared))); // shared is not cyclic

        List<Object> cyclic = new ArrayList<>();
        cyclic.add(cyclic);
        e = assertThrows(IllegalArgumentException.class, () -> Json.write(cyclic));
        assertTrue(e.getMessage().contains("cyclic"), e.getMessage());
    }
}
