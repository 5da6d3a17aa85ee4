package dev.backprop.io;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A small, strict JSON (RFC 8259) parser and a compact writer, working on plain Java values.
 *
 * <h2>Parsing</h2>
 *
 * {@link #parse(String)} maps JSON to Java as follows:
 *
 * <table>
 *   <caption>JSON to Java</caption>
 *   <tr><th>JSON</th><th>Java</th></tr>
 *   <tr><td>object</td><td>{@code LinkedHashMap<String, Object>} in document order</td></tr>
 *   <tr><td>array</td><td>{@code ArrayList<Object>}</td></tr>
 *   <tr><td>string</td><td>{@link String}</td></tr>
 *   <tr><td>number without fraction or exponent that fits a {@code long}</td><td>{@link Long}</td></tr>
 *   <tr><td>any other number</td><td>{@link Double} (finite)</td></tr>
 *   <tr><td>{@code true} / {@code false}</td><td>{@link Boolean}</td></tr>
 *   <tr><td>{@code null}</td><td>Java {@code null}</td></tr>
 * </table>
 *
 * <p>JSON {@code null} becomes Java {@code null}, so inside an object use
 * {@link Map#containsKey(Object)} to tell a {@code null} member from a missing one.
 *
 * <p>The parser is strict: no comments, no trailing commas, no single quotes, no leading zeros,
 * no {@code NaN}/{@code Infinity}, no unescaped control characters in strings, no unpaired UTF-16
 * surrogates (raw or escaped), no byte order mark, and nothing but whitespace after the value.
 * Duplicate keys in one object are an error. Numbers whose magnitude does not fit a double (such
 * as {@code 1e400}) are an error rather than silently becoming infinite. Nesting deeper than
 * {@link #DEFAULT_MAX_DEPTH} arrays/objects is refused, so deep input can never overflow the
 * stack; parsing is a single linear pass and always terminates. Every failure is a
 * {@link JsonException} that gives the position and what was expected.
 *
 * <h2>Writing</h2>
 *
 * {@link #write(Object)} produces compact JSON (no whitespace) from the same kinds of values, plus
 * a few convenient extras; see its documentation.
 */
public final class Json {
    /** Maximum nesting of arrays and objects accepted by {@link #parse(String)}. */
    public static final int DEFAULT_MAX_DEPTH = 64;

    /** Largest nesting depth that {@link #parse(String, int)} accepts as a limit, and that {@link #write} writes. */
    public static final int MAX_DEPTH_LIMIT = 512;

    private Json() {}

    /**
     * Parses one JSON value, allowing at most {@link #DEFAULT_MAX_DEPTH} levels of nesting.
     *
     * @param text the complete JSON text; surrounding whitespace is allowed
     * @return the value as described in the {@linkplain Json class documentation}; {@code null} for
     *     JSON {@code null}
     * @throws JsonException if the text is not a single valid JSON value
     */
    public static Object parse(String text) {
        return parse(text, DEFAULT_MAX_DEPTH);
    }

    /**
     * Parses one JSON value with a custom nesting limit.
     *
     * @param text the complete JSON text
     * @param maxDepth the most arrays/objects that may be nested in one another, 1 to
     *     {@link #MAX_DEPTH_LIMIT}; {@code [[1]]} has depth 2, a scalar has depth 0
     * @throws JsonException if the text is not a single valid JSON value within the limit
     * @throws IllegalArgumentException if {@code maxDepth} is out of range
     */
    public static Object parse(String text, int maxDepth) {
        if (text == null) {
            throw new NullPointerException("Json.parse: text is null");
        }
        if (maxDepth < 1 || maxDepth > MAX_DEPTH_LIMIT) {
            throw new IllegalArgumentException("Json.parse: maxDepth must be between 1 and " + MAX_DEPTH_LIMIT
                    + ", got " + maxDepth);
        }
        return new Parser(text, maxDepth).parseDocument();
    }

    /**
     * Parses JSON from UTF-8 bytes (for example a whole file), allowing at most
     * {@link #DEFAULT_MAX_DEPTH} levels of nesting.
     *
     * @throws JsonException if the bytes are not valid UTF-8 (the offset is then a byte offset),
     *     start with a byte order mark, or are not a single valid JSON value
     */
    public static Object parse(byte[] utf8) {
        return parse(decodeUtf8(utf8), DEFAULT_MAX_DEPTH);
    }

    /**
     * Parses a JSON text that must be an object, for example a manifest or a configuration.
     *
     * @throws JsonException if the text is not valid JSON or its top-level value is not an object
     */
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (value instanceof Map<?, ?>) {
            @SuppressWarnings("unchecked")
            Map<String, Object> map = (Map<String, Object>) value;
            return map;
        }
        throw new JsonException("expected a JSON object at the top level but found " + describeValue(value)
                + " at line 1, column 1 (offset 0)", 0, 1, 1);
    }

    /** A short English description of a parsed JSON value's type, for error messages. */
    static String describeValue(Object value) {
        return switch (value) {
            case null -> "null";
            case Map<?, ?> _ -> "an object";
            case List<?> _ -> "an array";
            case String _ -> "a string";
            case Boolean b -> "a boolean (" + b + ")";
            case Long n -> "an integer (" + n + ")";
            case Double d -> "a number (" + d + ")";
            default -> "a " + value.getClass().getSimpleName();
        };
    }

    private static String decodeUtf8(byte[] utf8) {
        if (utf8 == null) {
            throw new NullPointerException("Json.parse: bytes are null");
        }
        if (utf8.length >= 3 && (utf8[0] & 0xFF) == 0xEF && (utf8[1] & 0xFF) == 0xBB && (utf8[2] & 0xFF) == 0xBF) {
            throw new JsonException("expected JSON text but found a UTF-8 byte order mark (EF BB BF) at byte offset 0;"
                    + " RFC 8259 forbids it, save the file without a BOM", 0, -1, -1);
        }
        int at = firstInvalidUtf8(utf8);
        if (at < utf8.length) {
            throw new JsonException("expected UTF-8 text but found an invalid byte sequence at byte offset " + at
                    + " (byte 0x" + String.format("%02X", utf8[at] & 0xFF) + ")",
                    at, -1, -1);
        }
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /**
     * The offset of the first byte that is not part of a well-formed UTF-8 sequence (overlong forms
     * and encoded surrogates count as malformed), or {@code b.length} if all of {@code b} is valid.
     */
    static int firstInvalidUtf8(byte[] b) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        CharBuffer out = CharBuffer.allocate(Math.max(16, Math.min(b.length, 1 << 16)));
        while (true) {
            var result = decoder.decode(in, out, true);
            if (result.isError()) {
                return in.position();
            }
            if (result.isUnderflow()) {
                return b.length;
            }
            out.clear();
        }
    }

    // ------------------------------------------------------------------ parser

    private static final class Parser {
        private final String text;
        private final int maxDepth;
        private int pos;

        Parser(String text, int maxDepth) {
            this.text = text;
            this.maxDepth = maxDepth;
        }

        Object parseDocument() {
            if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
                throw error(0, "expected JSON text but found a byte order mark (U+FEFF); RFC 8259 forbids it");
            }
            skipWhitespace();
            if (pos >= text.length()) {
                throw error(pos, "expected a JSON value but found " + (text.isEmpty() ? "empty input" : "only whitespace"));
            }
            Object value = parseValue(0);
            skipWhitespace();
            if (pos < text.length()) {
                throw error(pos, "expected end of input after the JSON value but found " + found(pos)
                        + " (only whitespace may follow the value)");
            }
            return value;
        }

        private Object parseValue(int depth) {
            skipWhitespace();
            if (pos >= text.length()) {
                throw error(pos, "expected a value (object, array, string, number, true, false or null) but found "
                        + found(pos));
            }
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> parseObject(depth + 1);
                case '[' -> parseArray(depth + 1);
                case '"' -> parseString();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield parseNumber();
                    }
                    throw error(pos, "expected a value (object, array, string, number, true, false or null) but found "
                            + found(pos));
                }
            };
        }

        private void checkDepth(int depth) {
            if (depth > maxDepth) {
                throw error(pos, "expected at most " + maxDepth + " levels of nested arrays/objects but found "
                        + "deeper nesting");
            }
        }

        private Map<String, Object> parseObject(int depth) {
            checkDepth(depth);
            pos++; // '{'
            LinkedHashMap<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') {
                    throw error(pos, (map.isEmpty() ? "expected a string key or '}'" : "expected a string key after ','")
                            + " but found " + found(pos));
                }
                int keyAt = pos;
                String key = parseString();
                if (map.containsKey(key)) {
                    throw error(keyAt, "expected unique keys in an object but found the key " + quote(key)
                            + " a second time");
                }
                skipWhitespace();
                if (peek() != ':') {
                    throw error(pos, "expected ':' after the key " + quote(key) + " but found " + found(pos));
                }
                pos++;
                map.put(key, parseValue(depth));
                skipWhitespace();
                int c = peek();
                if (c == ',') {
                    pos++;
                } else if (c == '}') {
                    pos++;
                    return map;
                } else {
                    throw error(pos, "expected ',' or '}' after the value of " + quote(key) + " but found "
                            + found(pos));
                }
            }
        }

        private List<Object> parseArray(int depth) {
            checkDepth(depth);
            pos++; // '['
            ArrayList<Object> list = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                list.add(parseValue(depth));
                skipWhitespace();
                int c = peek();
                if (c == ',') {
                    pos++;
                    skipWhitespace();
                    if (peek() == ']') {
                        throw error(pos, "expected a value after ',' but found ']' (trailing commas are not allowed)");
                    }
                } else if (c == ']') {
                    pos++;
                    return list;
                } else {
                    throw error(pos, "expected ',' or ']' after array element " + (list.size() - 1) + " but found "
                            + found(pos));
                }
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) {
                int end = pos;
                while (end < text.length() && end - pos < 20 && Character.isLetter(text.charAt(end))) {
                    end++;
                }
                throw error(pos, "expected a value (object, array, string, number, true, false or null) but found "
                        + quote(text.substring(pos, end)));
            }
            pos += word.length();
            return value;
        }

        private Object parseNumber() {
            int start = pos;
            boolean integral = true;
            if (peek() == '-') {
                pos++;
            }
            int c = peek();
            if (c == '0') {
                pos++;
                if (isDigit(peek())) {
                    throw error(start, "expected a number without leading zeros but found " + quote(token(start)));
                }
            } else if (isDigit(c)) {
                skipDigits();
            } else {
                throw error(pos, "expected a digit after '-' but found " + found(pos));
            }
            if (peek() == '.') {
                integral = false;
                pos++;
                if (!isDigit(peek())) {
                    throw error(pos, "expected a digit after the decimal point but found " + found(pos));
                }
                skipDigits();
            }
            c = peek();
            if (c == 'e' || c == 'E') {
                integral = false;
                pos++;
                c = peek();
                if (c == '+' || c == '-') {
                    pos++;
                }
                if (!isDigit(peek())) {
                    throw error(pos, "expected a digit in the exponent but found " + found(pos));
                }
                skipDigits();
            }
            String literal = text.substring(start, pos);
            if (integral && pos - start <= 20) {
                try {
                    return Long.parseLong(literal);
                } catch (NumberFormatException tooBig) {
                    // falls through to double
                }
            }
            double d = Double.parseDouble(literal);
            if (Double.isInfinite(d)) {
                throw error(start, "expected a number within the range of a double (about ±1.8e308) but found "
                        + abbreviate(literal));
            }
            return d;
        }

        private String parseString() {
            int start = pos;
            pos++; // opening quote
            StringBuilder sb = null;
            int runStart = pos;
            while (true) {
                if (pos >= text.length()) {
                    throw error(start, "expected a closing '\"' for the string starting here but found end of input");
                }
                char c = text.charAt(pos);
                if (c == '"') {
                    String s = sb == null ? text.substring(runStart, pos)
                            : sb.append(text, runStart, pos).toString();
                    pos++;
                    return s;
                }
                if (c == '\\') {
                    if (sb == null) {
                        sb = new StringBuilder();
                    }
                    sb.append(text, runStart, pos);
                    parseEscape(sb);
                    runStart = pos;
                } else if (c < 0x20) {
                    throw error(pos, "expected an escaped control character in a string but found a raw "
                            + found(pos) + " (write it as " + escapeFor(c) + ")");
                } else if (Character.isHighSurrogate(c)) {
                    if (pos + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(pos + 1))) {
                        throw error(pos, "expected a low surrogate after the high surrogate "
                                + codePoint(c) + " but found " + found(pos + 1));
                    }
                    pos += 2;
                } else if (Character.isLowSurrogate(c)) {
                    throw error(pos, "expected a character but found the unpaired low surrogate " + codePoint(c));
                } else {
                    pos++;
                }
            }
        }

        /** Parses one escape sequence at {@code pos} (the backslash) and appends its character(s). */
        private void parseEscape(StringBuilder sb) {
            int at = pos;
            pos++; // backslash
            if (pos >= text.length()) {
                throw error(at, "expected an escape sequence after '\\' but found end of input");
            }
            char e = text.charAt(pos);
            pos++;
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    char unit = hex4(at);
                    if (Character.isHighSurrogate(unit)) {
                        int lowAt = pos;
                        if (!text.startsWith("\\u", pos)) {
                            throw error(lowAt, "expected a \\u escape of a low surrogate (\\uDC00-\\uDFFF) after "
                                    + "the high surrogate \\u" + hex(unit) + " but found " + found(lowAt));
                        }
                        pos += 2;
                        char low = hex4(lowAt);
                        if (!Character.isLowSurrogate(low)) {
                            throw error(lowAt, "expected a low surrogate (\\uDC00-\\uDFFF) after the high surrogate \\u"
                                    + hex(unit) + " but found \\u" + hex(low));
                        }
                        sb.append(unit).append(low);
                    } else if (Character.isLowSurrogate(unit)) {
                        throw error(at, "expected a character but found the unpaired low surrogate \\u" + hex(unit)
                                + " (a low surrogate must follow a high surrogate \\uD800-\\uDBFF)");
                    } else {
                        sb.append(unit);
                    }
                }
                default -> throw error(at, "expected an escape sequence (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) but "
                        + "found '\\' followed by " + found(at + 1));
            }
        }

        /** Reads the 4 hex digits after "\\u" at {@code pos}; {@code escapeAt} is the backslash. */
        private char hex4(int escapeAt) {
            int value = 0;
            for (int i = 0; i < 4; i++) {
                int digit = pos < text.length() ? hexDigit(text.charAt(pos)) : -1;
                if (digit < 0) {
                    throw error(pos, "expected 4 hex digits after \\u (escape at offset " + escapeAt + ") but found "
                            + found(pos));
                }
                value = value * 16 + digit;
                pos++;
            }
            return (char) value;
        }

        private void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    return;
                }
            }
        }

        private void skipDigits() {
            while (isDigit(peek())) {
                pos++;
            }
        }

        private int peek() {
            return pos < text.length() ? text.charAt(pos) : -1;
        }

        private static int hexDigit(char c) {
            if (c >= '0' && c <= '9') {
                return c - '0';
            }
            if (c >= 'a' && c <= 'f') {
                return c - 'a' + 10;
            }
            if (c >= 'A' && c <= 'F') {
                return c - 'A' + 10;
            }
            return -1;
        }

        private static boolean isDigit(int c) {
            return c >= '0' && c <= '9';
        }

        /** The run of number-like characters starting at {@code start}, for messages. */
        private String token(int start) {
            int end = start;
            while (end < text.length() && end - start < 40 && "+-.eE0123456789".indexOf(text.charAt(end)) >= 0) {
                end++;
            }
            return text.substring(start, end);
        }

        /** Describes the character at {@code at} for an error message. */
        private String found(int at) {
            if (at >= text.length()) {
                return "end of input";
            }
            char c = text.charAt(at);
            if (c >= 0x20 && c < 0x7F) {
                return "'" + c + "'";
            }
            return "character " + codePoint(c);
        }

        private JsonException error(int at, String message) {
            int line = 1;
            int lineStart = 0;
            int end = Math.min(at, text.length());
            for (int i = 0; i < end; i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            int column = at - lineStart + 1;
            return new JsonException(message + " at line " + line + ", column " + column + " (offset " + at + ")",
                    at, line, column);
        }
    }

    private static String codePoint(char c) {
        return "U+" + hex(c);
    }

    private static String hex(char c) {
        return String.format("%04X", (int) c);
    }

    private static String escapeFor(char c) {
        return switch (c) {
            case '\b' -> "\\b";
            case '\f' -> "\\f";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> String.format("\\u%04x", (int) c);
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    /** {@code s} as a JSON string literal, shortened for messages. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        writeString(s.length() <= 60 ? s : s.substring(0, 57) + "...", sb);
        return sb.toString();
    }

    // ------------------------------------------------------------------ writer

    /**
     * Writes a value as compact JSON (no insignificant whitespace).
     *
     * <p>Accepted values: {@code null}; {@link CharSequence} (as a string); {@link Boolean};
     * {@link Byte}, {@link Short}, {@link Integer}, {@link Long}, {@link BigInteger} and
     * {@link BigDecimal}; finite {@link Float} and {@link Double} (written with Java's shortest
     * round-trip representation, for example {@code 0.1} or {@code 1.0E-5}); {@link Map} with
     * {@link String} keys (written in the map's iteration order); {@link Iterable} and
     * {@code Object[]}; and {@code int[]}, {@code long[]}, {@code float[]}, {@code double[]},
     * {@code boolean[]}.
     *
     * <p>Strings escape {@code "} and {@code \}, write {@code \b \f \n \r \t} for those control
     * characters and {@code \}{@code u00XX} for the other characters below U+0020; everything
     * else, including non-ASCII text, is written as is (encode the result as UTF-8).
     *
     * @throws IllegalArgumentException naming the path of the offending value (such as
     *     {@code $.layers[2].rate}) for an unsupported type, a non-string map key, a NaN or
     *     infinite number, a string with an unpaired surrogate, a cyclic structure, or nesting
     *     deeper than {@link #MAX_DEPTH_LIMIT}
     */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        new Writer(out).write(value, 0);
        return out.toString();
    }

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private static final class Writer {
        private final StringBuilder out;
        private final ArrayList<Object> path = new ArrayList<>();
        /** The maps, iterables and arrays being written, to detect cycles. */
        private final Set<Object> open = Collections.newSetFromMap(new IdentityHashMap<>());

        Writer(StringBuilder out) {
            this.out = out;
        }

        void write(Object value, int depth) {
            switch (value) {
                case null -> out.append("null");
                case CharSequence s -> {
                    String str = s.toString();
                    int bad = unpairedSurrogate(str);
                    if (bad >= 0) {
                        throw fail("a string with an unpaired surrogate " + codePoint(str.charAt(bad)) + " at index "
                                + bad + " cannot be written as UTF-8 JSON; fix the string");
                    }
                    writeString(str, out);
                }
                case Boolean b -> out.append(b.booleanValue());
                case Byte n -> out.append(n.byteValue());
                case Short n -> out.append(n.shortValue());
                case Integer n -> out.append(n.intValue());
                case Long n -> out.append(n.longValue());
                case BigInteger n -> out.append(n);
                case BigDecimal n -> out.append(n);
                case Float f -> {
                    checkFinite(f.doubleValue());
                    out.append(f.floatValue());
                }
                case Double d -> {
                    checkFinite(d);
                    out.append(d.doubleValue());
                }
                case Map<?, ?> map -> {
                    enter(map, depth);
                    out.append('{');
                    boolean first = true;
                    for (Map.Entry<?, ?> e : map.entrySet()) {
                        if (!(e.getKey() instanceof String key)) {
                            throw fail("object keys must be strings, found a key of type "
                                    + (e.getKey() == null ? "null" : e.getKey().getClass().getName()));
                        }
                        if (!first) {
                            out.append(',');
                        }
                        first = false;
                        path.add(key);
                        write(key, depth + 1);
                        out.append(':');
                        write(e.getValue(), depth + 1);
                        path.removeLast();
                    }
                    out.append('}');
                    open.remove(map);
                }
                case Iterable<?> items -> {
                    enter(items, depth);
                    out.append('[');
                    int i = 0;
                    for (Object item : items) {
                        element(i++, item, depth);
                    }
                    out.append(']');
                    open.remove(items);
                }
                case Object[] items -> {
                    enter(items, depth);
                    out.append('[');
                    for (int i = 0; i < items.length; i++) {
                        element(i, items[i], depth);
                    }
                    out.append(']');
                    open.remove(items);
                }
                case int[] a -> {
                    out.append('[');
                    for (int i = 0; i < a.length; i++) {
                        out.append(i == 0 ? "" : ",").append(a[i]);
                    }
                    out.append(']');
                }
                case long[] a -> {
                    out.append('[');
                    for (int i = 0; i < a.length; i++) {
                        out.append(i == 0 ? "" : ",").append(a[i]);
                    }
                    out.append(']');
                }
                case boolean[] a -> {
                    out.append('[');
                    for (int i = 0; i < a.length; i++) {
                        out.append(i == 0 ? "" : ",").append(a[i]);
                    }
                    out.append(']');
                }
                case float[] a -> {
                    out.append('[');
                    for (int i = 0; i < a.length; i++) {
                        path.add(i);
                        checkFinite(a[i]);
                        path.removeLast();
                        out.append(i == 0 ? "" : ",").append(a[i]);
                    }
                    out.append(']');
                }
                case double[] a -> {
                    out.append('[');
                    for (int i = 0; i < a.length; i++) {
                        path.add(i);
                        checkFinite(a[i]);
                        path.removeLast();
                        out.append(i == 0 ? "" : ",").append(a[i]);
                    }
                    out.append(']');
                }
                default -> throw fail("cannot write a value of type " + value.getClass().getName()
                        + " as JSON (expected null, a string, a boolean, a number, a Map with String keys, "
                        + "an Iterable or an array)");
            }
        }

        private void element(int index, Object item, int depth) {
            if (index > 0) {
                out.append(',');
            }
            path.add(index);
            write(item, depth + 1);
            path.removeLast();
        }

        private void enter(Object container, int depth) {
            if (!open.add(container)) {
                throw fail("the structure is cyclic: this " + (container instanceof Map ? "map" : "list")
                        + " contains itself");
            }
            if (depth >= MAX_DEPTH_LIMIT) {
                throw fail("nesting deeper than " + MAX_DEPTH_LIMIT + " levels");
            }
        }

        private void checkFinite(double d) {
            if (!Double.isFinite(d)) {
                throw fail("JSON has no representation for " + d + "; write a finite number, null or a string");
            }
        }

        private IllegalArgumentException fail(String why) {
            return new IllegalArgumentException("Json.write: at " + pathString() + ": " + why);
        }

        private String pathString() {
            StringBuilder sb = new StringBuilder("$");
            for (Object p : path) {
                if (p instanceof Integer i) {
                    sb.append('[').append(i).append(']');
                } else if (IDENTIFIER.matcher((String) p).matches()) {
                    sb.append('.').append(p);
                } else {
                    sb.append('[').append(quote((String) p)).append(']');
                }
            }
            return sb.toString();
        }
    }

    /** Index of the first unpaired surrogate in {@code s}, or -1. */
    private static int unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            } else if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private static void writeString(String s, StringBuilder out) {
        out.append('"');
        int runStart = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            out.append(s, runStart, i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
            runStart = i + 1;
        }
        out.append(s, runStart, s.length()).append('"');
    }
}
