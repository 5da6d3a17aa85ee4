package dev.backprop.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.DataException;
import dev.backprop.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WordPieceTokenizer on a small hand-made vocabulary, each case worked by hand from HuggingFace's
 * BertNormalizer / BertPreTokenizer / WordPiece rules (the MiniLM parity test checks the real
 * vocabulary against HuggingFace's own tokenizers on 100+ sentences).
 */
class WordPieceTokenizerTest {
    @TempDir
    Path dir;

    static final List<String> VOCAB = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able",
            "hello", "world", ",", "!", "cafe", "naive", "$", "5", "##0", "中", "国", "the", "a", "##b", "##c", "is",
            "greek", "οδοσ", "i", "##̇", "'", "s", "don", "t", "-");

    static Path hfJson(Path dir, String modelType) throws Exception {
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int i = 0; i < VOCAB.size(); i++) {
            vocab.put(VOCAB.get(i), i);
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", modelType);
        model.put("unk_token", "[UNK]");
        model.put("continuing_subword_prefix", "##");
        model.put("max_input_chars_per_word", 10);
        model.put("vocab", vocab);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", "1.0");
        List<Object> added = new ArrayList<>();
        for (String s : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
            added.add(Map.of("id", VOCAB.indexOf(s), "content", s, "special", true));
        }
        json.put("added_tokens", added);
        Map<String, Object> norm = new LinkedHashMap<>();
        norm.put("type", "BertNormalizer");
        norm.put("clean_text", true);
        norm.put("handle_chinese_chars", true);
        norm.put("strip_accents", null);
        norm.put("lowercase", true);
        json.put("normalizer", norm);
        json.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        json.put("post_processor", Map.of("type", "TemplateProcessing", "single", List.of(
                Map.of("SpecialToken", Map.of("id", "[CLS]", "type_id", 0)),
                Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                Map.of("SpecialToken", Map.of("id", "[SEP]", "type_id", 0)))));
        json.put("model", model);
        Path f = dir.resolve(modelType + "-tokenizer.json");
        Files.writeString(f, Json.write(json));
        return f;
    }

    private WordPieceTokenizer tok() throws Exception {
        return WordPieceTokenizer.fromHuggingFace(hfJson(dir, "WordPiece"));
    }

    private List<String> tokens(WordPieceTokenizer t, String text) {
        List<String> out = new ArrayList<>();
        for (int id : t.encode(text)) {
            out.add(t.token(id));
        }
        return out;
    }

    @Test
    void greedyLongestMatchWithContinuations() throws Exception {
        WordPieceTokenizer t = tok();
        assertEquals(List.of("un", "##aff", "##able"), tokens(t, "unaffable"));
        assertEquals(List.of("a", "##b", "##c"), tokens(t, "abc"));
        assertEquals(List.of("[UNK]"), tokens(t, "abx"), "a word with no full split is one [UNK]");
        assertEquals(List.of("[UNK]"), tokens(t, "aaaaaaaaaaa"), "longer than max_input_chars_per_word (10)");
    }

    @Test
    void normalizerAndPreTokenizer() throws Exception {
        WordPieceTokenizer t = tok();
        assertEquals(List.of("hello", ",", "world", "!"), tokens(t, "  HeLLo,\tWORLD!  "));
        assertEquals(List.of("cafe", "naive"), tokens(t, "Café Naïve"), "accents stripped when lower-casing");
        assertEquals(List.of("中", "国"), tokens(t, "中国"), "CJK ideographs are words of their own");
        assertEquals(List.of("$", "5", "##0"), tokens(t, "$50"), "ASCII symbols are punctuation in BERT");
        assertEquals(List.of("hello", "world"), tokens(t, "hello\u0000\u0007 world\u200b"), "control/format chars dropped");
        assertEquals(List.of("hello", "world"), tokens(t, "hello\u00a0world"), "no-break space is whitespace");
        assertEquals(List.of("οδοσ"), tokens(t, "ΟΔΟΣ"), "lower-cased char by char: no final sigma");
        assertEquals(List.of("i"), tokens(t, "İ"), "İ: NFD gives I + combining dot, the dot is stripped");
        assertEquals(List.of("don", "'", "t"), tokens(t, "don't"));
        assertEquals(List.of("a", "-", "a"), tokens(t, "a-a"));
        assertEquals(List.of(), tokens(t, " \t\n"));
    }

    @Test
    void specialTokensAndTemplate() throws Exception {
        WordPieceTokenizer t = tok();
        assertArrayEquals(new int[] {2, 8, 10, 9, 11, 3}, t.encodeForModel("Hello, world!", 512));
        assertArrayEquals(new int[] {2, 8, 3}, t.encodeForModel("hello world !", 3), "truncated before [SEP]");
        assertArrayEquals(new int[] {8, 4, 9}, t.encode("hello [MASK] world"), "added tokens kept literally");
        assertEquals(0, t.padId());
        assertEquals(1, t.unkId());
        assertTrue(t.isSpecial(2) && !t.isSpecial(8));
        assertEquals("hello, world!", t.decode(t.encode("Hello, world!")));
        assertEquals("unaffable", t.decode(t.encode("unaffable")));
        assertThrows(IllegalArgumentException.class, () -> t.encodeForModel("x", 1));
    }

    @Test
    void savesAndLoadsAsABackpropTokenizer() throws Exception {
        WordPieceTokenizer t = tok();
        Path f = dir.resolve("tok.json");
        t.save(f);
        Tokenizer back = Tokenizer.load(f);
        WordPieceTokenizer wp = assertInstanceOf(WordPieceTokenizer.class, back);
        for (String s : List.of("Hello, world!", "Café Naïve $50", "中国 unaffable [MASK]")) {
            assertArrayEquals(t.encodeForModel(s, 512), wp.encodeForModel(s, 512), s);
        }
        // Tokenizer.load also reads a HuggingFace tokenizer.json directly
        assertInstanceOf(WordPieceTokenizer.class, Tokenizer.load(hfJson(dir, "WordPiece")));
    }

    @Test
    void anotherKindOfTokenizerJsonIsAClearError() throws Exception {
        Path bpe = hfJson(dir, "BPE");
        DataException e = assertThrows(DataException.class, () -> WordPieceTokenizer.fromHuggingFace(bpe));
        assertTrue(e.getMessage().contains("model.type") && e.getMessage().contains("WordPiece")
                && e.getMessage().contains("BPE") && e.getMessage().contains(bpe.toString()), e.getMessage());

        Path other = dir.resolve("other.json");
        Files.writeString(other, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}, "
                + "\"normalizer\": {\"type\": \"NFKC\"}}");
        e = assertThrows(DataException.class, () -> WordPieceTokenizer.fromHuggingFace(other));
        assertTrue(e.getMessage().contains("BertNormalizer") && e.getMessage().contains("NFKC"), e.getMessage());

        Path ours = dir.resolve("char.json");
        CharTokenizer.fromText("abc").save(ours);
        e = assertThrows(DataException.class, () -> WordPieceTokenizer.fromHuggingFace(ours));
        assertTrue(e.getMessage().contains("Tokenizer.load"), e.getMessage());

        Path noUnk = dir.resolve("nounk.json");
        Files.writeString(noUnk, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}");
        e = assertThrows(DataException.class, () -> WordPieceTokenizer.fromHuggingFace(noUnk));
        assertTrue(e.getMessage().contains("[UNK]"), e.getMessage());
    }
}
