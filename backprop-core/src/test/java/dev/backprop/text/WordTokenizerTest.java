package dev.backprop.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordTokenizerTest {
    @TempDir
    Path dir;

    @Test
    void splitsIntoWordsAndPunctuation() {
        assertEquals(List.of("Hello", ",", "world", ".", ".", ".", "it's", "3", ".", "5km", "!"),
                WordTokenizer.split("Hello, world... it's 3.5km!", false));
        assertEquals(List.of("l'homme", "\u2019", "s", "'", "na\u0308ive", "snake_case", "\uD83D\uDE00", "\u4E2D\u6587"),
                WordTokenizer.split("l'homme \u2019s 'na\u0308ive snake_case\uD83D\uDE00 \u4E2D\u6587", false),
                "inner apostrophes join, combining marks stay in the word, emoji stand alone");
        assertEquals(List.of("stra\u00dfe", "gross"), WordTokenizer.split("STRA\u00dfE\u00a0Gross", true));
        assertEquals(List.of(), WordTokenizer.split(" \t\r\n ", false));
    }

    @Test
    void vocabularyIsMostFrequentFirstTiesByCodePoint() {
        List<String> corpus = List.of("b a c a", "b a d", "e e");
        // counts: a 3, b 2, e 2, c 1, d 1 -> a, then b before e (tie), then c before d (tie)
        WordTokenizer tok = WordTokenizer.train(corpus, WordTokenizer.Options.DEFAULT);
        assertEquals(List.of("a", "b", "e", "c", "d"), tok.words());
        assertEquals(5 + 4, tok.vocabSize());
        assertEquals(List.of("a", "b", "e"), WordTokenizer.train(corpus, WordTokenizer.Options.DEFAULT.withMaxWords(3))
                .words(), "the cap keeps the most frequent");
        assertEquals(List.of("a", "b", "e"), WordTokenizer.train(corpus, WordTokenizer.Options.DEFAULT
                .withMinFrequency(2)).words());
        // code point order, not UTF-16 order: U+1F600 (a surrogate pair D83D DE00) sorts after U+FF21
        assertEquals(List.of("\uFF21", "\uD83D\uDE00"), WordTokenizer.train(List.of("\uD83D\uDE00 \uFF21"),
                WordTokenizer.Options.DEFAULT).words());
    }

    @Test
    void unknownWordsMapToUnkOrFail() {
        WordTokenizer tok = WordTokenizer.train(List.of("the cat sat"), WordTokenizer.Options.DEFAULT);
        // words: cat, sat, the (all count 1, code point order); then <pad> 3, <bos> 4, <eos> 5, <unk> 6
        assertArrayEquals(new int[] {2, 6, 1, 6}, tok.encode("the dog sat!"));
        assertEquals("the <unk> sat <unk>", tok.decode(tok.encode("the dog sat!")));
        assertEquals("the sat", tok.decode(tok.encode("the dog sat!"), true));
        WordTokenizer strict = WordTokenizer.train(List.of("the cat sat"), WordTokenizer.Options.DEFAULT
                .withSpecials(SpecialTokens.NONE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> strict.encode("the dog"));
        assertTrue(e.getMessage().contains("word \"dog\" at index 4 is not in the vocabulary of 3 words"),
                e.getMessage());
    }

    @Test
    void lowercasesInTrainingAndEncoding() {
        WordTokenizer tok = WordTokenizer.train(List.of("The THE the"), WordTokenizer.Options.DEFAULT
                .withLowercase(true));
        assertEquals(List.of("the"), tok.words());
        assertArrayEquals(new int[] {0, 0}, tok.encode("tHe The"));
    }

    @Test
    void saveAndLoadGiveTheSameTokenizer() {
        WordTokenizer tok = WordTokenizer.train(List.of("Ein Hund, ein Haus.", "Ein Baum!"), WordTokenizer.Options.DEFAULT
                .withLowercase(true).withSpecials(SpecialTokens.DEFAULT.withExtra("<sep>")));
        Path p = dir.resolve("words.json");
        tok.save(p);
        Tokenizer back = Tokenizer.load(p);
        assertTrue(back instanceof WordTokenizer w && w.lowercase());
        assertEquals(tok.toJson(), back.toJson());
        assertArrayEquals(tok.encode("Ein Haus, kein Baum."), back.encode("Ein Haus, kein Baum."));
        assertEquals(tok.vocabSize() - 1, back.id("<sep>"));
    }

    @Test
    void refusesBadInput() {
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.train(List.of(" ", ""),
                WordTokenizer.Options.DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.Options.DEFAULT.withMaxWords(0));
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.of(List.of("a", "a"), false,
                SpecialTokens.NONE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WordTokenizer.of(
                List.of("a", "<unk>"), false, SpecialTokens.DEFAULT));
        assertTrue(e.getMessage().contains("\"<unk>\" is also a word"), e.getMessage());
    }
}
