package dev.backprop.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.CharVocab;
import dev.backprop.data.DataException;
import dev.backprop.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CharTokenizerTest {
    @TempDir
    Path dir;

    @Test
    void idsAreThoseOfCharVocabAndPythonsSortedSet() {
        String text = "hello, world \uD83D\uDE00 caf\u00e9";
        CharTokenizer tok = CharTokenizer.fromText(text);
        CharVocab vocab = CharVocab.of(text);
        assertEquals(vocab.chars(), tok.chars());
        assertEquals(vocab.size(), tok.vocabSize());
        long[] expected = vocab.encode(text);
        int[] ids = tok.encode(text);
        assertEquals(expected.length, ids.length, "one id per code point: the emoji is one character");
        for (int i = 0; i < ids.length; i++) {
            assertEquals(expected[i], ids[i]);
        }
        assertEquals(text, tok.decode(ids));
        assertEquals(-1, tok.padId());
        assertEquals(-1, tok.unkId());
        assertEquals("\uD83D\uDE00", tok.token(tok.vocabSize() - 1), "the emoji sorts last");
        assertEquals(tok.vocabSize() - 1, tok.id("\uD83D\uDE00"));
        assertEquals(-1, tok.id("he"));
    }

    @Test
    void savesExactlyTheFormatOfTheCharacterModels() throws IOException {
        CharTokenizer tok = CharTokenizer.fromText("abca\n");
        assertEquals("{\"type\":\"char\",\"chars\":\"\\nabc\"}", Json.write(tok.toJson()));
        Path p = dir.resolve("tokenizer.json");
        tok.save(p);
        assertEquals("{\"type\":\"char\",\"chars\":\"\\nabc\"}\n", Files.readString(p));

        // a file as the char language models write it, with an extra field a newer writer might add
        Files.writeString(p, "{\"type\": \"char\", \"chars\": \"ba\", \"note\": \"ignored\"}", StandardCharsets.UTF_8);
        Tokenizer loaded = Tokenizer.load(p);
        assertTrue(loaded instanceof CharTokenizer);
        assertArrayEquals(new int[] {1, 0, 0}, loaded.encode("abb"), "ids follow the order of \"chars\"");
        assertEquals(2, loaded.vocabSize());
    }

    @Test
    void unknownCharacterIsAnErrorNamingItAndItsPosition() {
        CharTokenizer tok = CharTokenizer.fromText("abc");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.encode("ab\uD83D\uDE00cz"));
        assertTrue(e.getMessage().contains("U+1F600") && e.getMessage().contains("position 2"), e.getMessage());
        CharTokenizer withEmoji = CharTokenizer.fromText("abc\uD83D\uDE00");
        e = assertThrows(IllegalArgumentException.class, () -> withEmoji.encode("a\uD83D\uDE00cz"));
        assertTrue(e.getMessage().contains("'z' (U+007A) at position 3 (UTF-16 index 4)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tok.encode("a\uDE00"));
        assertTrue(e.getMessage().contains("character an unpaired surrogate (U+DE00) at position 1"), e.getMessage());
        assertArrayEquals(new int[] {0, 6}, CharTokenizer.fromText("abc", SpecialTokens.DEFAULT).encode("a\uDE00"),
                "an unpaired surrogate is an unknown character");
    }

    @Test
    void unknownCharacterMapsToUnkWhenThereIsOne() {
        CharTokenizer tok = CharTokenizer.fromText("abc", SpecialTokens.DEFAULT);
        assertEquals(7, tok.vocabSize());
        assertEquals(3, tok.padId());
        assertEquals(4, tok.bosId());
        assertEquals(5, tok.eosId());
        assertEquals(6, tok.unkId());
        assertArrayEquals(new int[] {0, 6, 2}, tok.encode("a?c"));
        assertEquals("a<unk>c", tok.decode(new int[] {0, 6, 2}));
        assertEquals("ac", tok.decode(new int[] {4, 0, 6, 2, 5, 3}, true));
        assertTrue(tok.isSpecial(3));
        assertFalse(tok.isSpecial(2));
        assertEquals("<eos>", tok.token(5));
        assertEquals(5, tok.id("<eos>"));
        // a special token's text in the input is plain text, not the special id
        CharTokenizer wide = CharTokenizer.fromText("<eos>", SpecialTokens.DEFAULT);
        assertEquals(5, wide.encode("<eos>").length);
    }

    @Test
    void specialTokensSurviveSaveAndLoad() {
        CharTokenizer tok = CharTokenizer.fromText("xyz", SpecialTokens.NONE.withPad("<pad>").withExtra("<sep>"));
        Path p = dir.resolve("t.json");
        tok.save(p);
        Tokenizer back = Tokenizer.load(p);
        assertEquals(tok.toJson(), back.toJson());
        assertEquals(3, back.padId());
        assertEquals(4, back.id("<sep>"));
        assertEquals(-1, back.eosId());
    }

    @Test
    void refusesBadVocabularies() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CharTokenizer.fromText("ab", SpecialTokens.NONE.withPad("a")));
        assertTrue(e.getMessage().contains("special token \"a\" is also a character"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CharTokenizer.of("aba", SpecialTokens.NONE));
        assertTrue(e.getMessage().contains("'a' (U+0061) occurs twice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromText("a\uD800b"));
        assertTrue(e.getMessage().contains("unpaired surrogate (U+D800) at UTF-16 index 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromText("ab").decode(new int[] {2}));
    }

    @Test
    void loadingReportsTheFileAndTheKey() throws IOException {
        Path p = dir.resolve("bad.json");
        Files.writeString(p, "{\"type\":\"char\",\"chars\":3}");
        DataException e = assertThrows(DataException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().startsWith(p.toString()) && e.getMessage().contains("key \"chars\": expected a"
                + " string, found the number 3"), e.getMessage());
        Files.writeString(p, "{\"type\":\"sentencepiece\"}");
        e = assertThrows(DataException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().contains("unknown tokenizer type \"sentencepiece\""), e.getMessage());
        Files.writeString(p, "{\"chars\":\"ab\"}");
        e = assertThrows(DataException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().contains("missing key \"type\""), e.getMessage());
        Files.writeString(p, "{\"type\":\"char\",\"chars\":\"ab\",\"special_tokens\":{\"pad\":7}}");
        e = assertThrows(DataException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().contains("key \"special_tokens.pad\": expected a string"), e.getMessage());
        e = assertThrows(DataException.class, () -> Tokenizer.load(dir.resolve("missing.json")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
        Files.writeString(p, "{\"type\":\"char\",");
        e = assertThrows(DataException.class, () -> Tokenizer.load(p));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }
}
