package dev.backprop.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads UTF-8 text files for the text readers ({@link SentencePairs}, {@link LabeledTexts}):
 * invalid UTF-8 is an error naming the file, the line and the byte offset, or, when asked, is
 * replaced by U+FFFD and counted; an empty file is an error.
 */
public final class TextFiles {
    /** How many line numbers a reader keeps for its warning. */
    static final int LINES_KEPT = 10;

    private TextFiles() {}

    /** What to do with bytes that are not valid UTF-8. */
    public enum InvalidUtf8 {
        /** Stop with a {@link DataException} naming the file, the line and the byte offset. */
        FAIL,
        /**
         * Replace each invalid sequence (each maximal invalid part, as Java's and Python's decoders
         * do) by U+FFFD and count it, with the first few line numbers, for a warning.
         */
        REPLACE
    }

    /**
     * A decoded file.
     *
     * @param text the text, without a leading byte order mark
     * @param replaced how many invalid UTF-8 sequences were replaced by U+FFFD (0 with
     *     {@link InvalidUtf8#FAIL})
     * @param replacedLines the 1-based lines of the first few of them
     */
    public record Content(String text, int replaced, List<Long> replacedLines) {
        /** Copies the list. */
        public Content {
            replacedLines = List.copyOf(replacedLines);
        }
    }

    /**
     * Reads and decodes a UTF-8 file.
     *
     * @throws DataException if the file is missing, unreadable or empty (no bytes, or only a byte
     *     order mark), or, with {@link InvalidUtf8#FAIL}, at the first invalid byte sequence,
     *     naming its line, its byte offset and the bytes
     */
    public static Content read(Path file, InvalidUtf8 mode) {
        String source = file.toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(source, "no such file", e);
        } catch (IOException e) {
            throw new DataException(source, "cannot read the file: " + e, e);
        }
        Content content = decode(bytes, source, mode);
        if (content.text().isEmpty()) {
            throw new DataException(source, "the file is empty (0 bytes" + (bytes.length > 0 ? " after the byte order"
                    + " mark" : "") + "); expected UTF-8 text");
        }
        return content;
    }

    /**
     * Decodes UTF-8 bytes, dropping a leading byte order mark.
     *
     * @param source names the input in messages
     * @throws DataException with {@link InvalidUtf8#FAIL}, at the first invalid byte sequence
     */
    public static Content decode(byte[] bytes, String source, InvalidUtf8 mode) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never needs more chars than bytes
        int replaced = 0;
        List<Long> lines = new ArrayList<>();
        long line = 1;
        int counted = 0; // bytes before this offset are counted in line
        while (true) {
            CoderResult r = decoder.decode(in, out, true);
            if (r.isUnderflow()) {
                r = decoder.flush(out);
                if (r.isUnderflow()) {
                    break;
                }
            }
            int at = in.position();
            for (; counted < at; counted++) {
                line += bytes[counted] == '\n' ? 1 : 0;
            }
            if (mode == InvalidUtf8.FAIL) {
                StringBuilder shown = new StringBuilder();
                for (int i = at; i < Math.min(bytes.length, at + Math.max(r.length(), 1)); i++) {
                    shown.append(String.format(" 0x%02X", bytes[i] & 0xFF));
                }
                throw new DataException(source, line, null, "invalid UTF-8 at byte offset " + at + " (bytes" + shown
                        + " do not form a character); save the file as UTF-8, or read it with InvalidUtf8.REPLACE to"
                        + " replace such bytes by U+FFFD", null);
            }
            out.put('\uFFFD');
            in.position(at + r.length());
            if (replaced++ < LINES_KEPT) {
                lines.add(line);
            }
        }
        out.flip();
        int start = out.length() > 0 && out.charAt(0) == '\uFEFF' ? 1 : 0;
        return new Content(out.subSequence(start, out.length()).toString(), replaced, lines);
    }

    /** "replaced 3 invalid UTF-8 sequences by U+FFFD (lines 2, 7, 9)", or null when none were. */
    static String replacedWarning(Content content) {
        if (content.replaced() == 0) {
            return null;
        }
        return String.format("replaced %,d invalid UTF-8 sequences by U+FFFD (line%s %s%s)", content.replaced(),
                content.replaced() == 1 ? "" : "s", String.join(", ", content.replacedLines().stream()
                        .map(String::valueOf).toList()), content.replaced() > content.replacedLines().size() ? ", ..."
                        : "");
    }

    /**
     * The lines of a text: split at {@code \n}, a {@code \r} before it dropped (Windows line ends),
     * no empty last line after a final line break.
     */
    public static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            int stop = end > start && text.charAt(end - 1) == '\r' ? end - 1 : end;
            out.add(text.substring(start, stop));
            start = end + 1;
        }
        return out;
    }
}
