package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.data.CharVocab;
import dev.backprop.data.DataException;
import dev.backprop.text.Tokenizer;

/**
 * Tokenizer files (char, word, byte-level BPE, and the char vocabulary of the language models)
 * on arbitrary bytes: a {@link DataException} naming the file, or a tokenizer that works.
 */
class TokenizerFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void load(byte[] data) {
        var file = Fuzz.file("tokenizer.json", data);
        Fuzz.expect(() -> {
            Tokenizer t = Tokenizer.load(file);
            // a loaded tokenizer must encode and decode without an undocumented failure
            Fuzz.expect(() -> t.decode(t.encode("Hello, world! 123 \u00e9\u4e2d")), IllegalArgumentException.class);
            for (int id = 0; id < Math.min(t.vocabSize(), 64); id++) {
                t.token(id);
            }
        }, DataException.class);
        Fuzz.expect(() -> {
            CharVocab v = CharVocab.load(file);
            Fuzz.expect(() -> v.decode(v.encode("abc")), IllegalArgumentException.class);
        }, DataException.class);
    }
}
