package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.optim.AdamW;
import dev.backprop.optim.LRScheduler;
import dev.backprop.tensor.Tensor;
import dev.backprop.text.Bleu;
import dev.backprop.text.BpeTokenizer;
import dev.backprop.text.Padding;
import dev.backprop.text.SpecialTokens;
import dev.backprop.text.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java example of docs/translation.md, run as written (and kept in sync with the page). */
class TranslationExampleTest {

    @Test
    void docsExampleLearnsItsSentences() {
        List<String> english = List.of("I am hungry.", "I am tired.", "You are hungry.", "You are tired.",
                "We are here.", "Tom is here.");
        List<String> german = List.of("Ich habe Hunger.", "Ich bin müde.", "Du hast Hunger.", "Du bist müde.",
                "Wir sind hier.", "Tom ist hier.");
        List<String> both = new ArrayList<>(english);
        both.addAll(german);
        Tokenizer tok = BpeTokenizer.train(both, 300, SpecialTokens.DEFAULT);     // one joint vocabulary
        var model = new Seq2SeqTransformer(new Seq2SeqTransformer.Config(tok.vocabSize(), tok.padId(), tok.bosId(),
                tok.eosId(), 64, 4, 2, 2, 256, 0f, 64));   // d 64, 4 heads, 2+2 layers, FFN 256, no dropout
        Tensor src = Padding.of(tok).encode(tok, english).ids();                       // (N, S), right-padded
        Tensor tgtIn = Padding.of(tok).withBos(tok.bosId()).encode(tok, german).ids(); // bos + target
        Tensor tgtOut = Padding.of(tok).withEos(tok.eosId()).encode(tok, german).ids(); // target + eos
        var opt = new AdamW(model.parameters(), 3e-3, 0.9, 0.98, 1e-9, 0.0);
        var schedule = LRScheduler.inverseSqrt(opt, 20);
        for (int step = 0; step < 150; step++) {
            model.zeroGrad();
            model.loss(src, tgtIn, tgtOut, 0.1f).backward();                      // label smoothing 0.1
            opt.step();
            schedule.step();
        }
        List<String> out = new ArrayList<>();
        for (int[] ids : model.beamSearch(src, 4, 0.6, 50)) {                     // beam 4, GNMT α 0.6
            out.add(tok.decode(ids, true));
        }
        Bleu.Score bleu = Bleu.corpusScore(out, german);                          // sacreBLEU 13a
        System.out.println(out + "\n" + bleu);
        assertEquals(german, out);
        assertTrue(bleu.score() > 99, bleu.toString());
    }

    @Test
    void docsShowThisExample() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "translation.md"));
        int start = page.indexOf("```java");
        int end = page.indexOf("```", start + 7);
        String source = Files.readString(Path.of("src", "test", "java", "dev", "backprop", "models",
                "TranslationExampleTest.java"));
        for (String line : page.substring(start + 7, end).split("\n")) {
            if (!line.isBlank()) {
                assertTrue(source.contains(line.strip()), "docs/translation.md line not in the test: " + line);
            }
        }
    }
}
