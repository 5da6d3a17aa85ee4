package dev.backprop.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.TextFiles.Content;
import dev.backprop.data.TextFiles.InvalidUtf8;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextFilesTest {
    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    @Test
    void replacesEachMaximalInvalidPartAndCountsThem() {
        // a, a cut-off 3-byte sequence (E2 82), b, a lone continuation byte (80), newline, an overlong (C0 AF), c
        Content c = TextFiles.decode(bytes('a', 0xE2, 0x82, 'b', 0x80, '\n', 0xC0, 0xAF, 'c'), "x", InvalidUtf8.REPLACE);
        assertEquals("a\uFFFDb\uFFFD\n\uFFFD\uFFFDc", c.text());
        assertEquals(4, c.replaced());
        assertEquals(List.of(1L, 1L, 2L, 2L), c.replacedLines());
    }

    @Test
    void failsAtTheFirstInvalidSequence() {
        DataException e = assertThrows(DataException.class, () -> TextFiles.decode(bytes('o', 'k', '\n', '\n', 0xED,
                0xA0, 0x80), "surrogate.txt", InvalidUtf8.FAIL));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().startsWith("surrogate.txt: line 3: invalid UTF-8 at byte offset 4 (bytes 0xED"),
                e.getMessage());
    }

    @Test
    void dropsTheByteOrderMarkAndSplitsLines() {
        assertEquals("x", TextFiles.decode(bytes(0xEF, 0xBB, 0xBF, 'x'), "x", InvalidUtf8.FAIL).text());
        assertEquals(List.of("a", "", "b", "c "), TextFiles.lines("a\r\n\nb\nc \r\n"));
        assertEquals(List.of("a", "b"), TextFiles.lines("a\nb"));
        assertEquals(List.of("a\rb"), TextFiles.lines("a\rb"), "a lone CR is not a line break");
        assertEquals(List.of(), TextFiles.lines(""));
    }
}
