package dev.backprop.cli;

import picocli.CommandLine.Option;

/** The options of {@code train translate} (a picocli mixin of {@link TrainCommand}); other recipes ignore them. */
final class TranslateOptions {
    static final String DEFAULT_DATA = "../shared/data/tatoeba-eng-deu-50k.tsv";

    @Option(names = "--minutes", paramLabel = "M",
            description = "translate: stop training after M minutes of wall time (default: no limit; --epochs bounds it)")
    Double minutes;

    @Option(names = "--vocab-size", paramLabel = "N", defaultValue = "8000",
            description = "translate: size of the joint source/target BPE vocabulary (default: ${DEFAULT-VALUE})")
    int vocabSize;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "3000",
            description = "translate: tokens per batch (sentences of similar length are batched together; default: "
                    + "${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "400",
            description = "translate: linear warm-up steps of the inverse-square-root schedule (default: ${DEFAULT-VALUE})")
    int warmupSteps;

    @Option(names = "--d-model", paramLabel = "D", defaultValue = "256",
            description = "translate: model width; heads = D/64, feed-forward 4·D (default: ${DEFAULT-VALUE})")
    int dModel;

    @Option(names = "--layers", paramLabel = "N", defaultValue = "3",
            description = "translate: encoder and decoder layers each (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--max-len", paramLabel = "N", defaultValue = "64",
            description = "translate: longest sentence in tokens; longer ones are truncated and counted "
                    + "(default: ${DEFAULT-VALUE})")
    int maxLen;

    @Option(names = "--beam", paramLabel = "K", defaultValue = "4",
            description = "translate: beam size for the test BLEU (default: ${DEFAULT-VALUE})")
    int beam;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "0",
            description = "translate: score only the first N held-out pairs (default: all)")
    int testLimit;
}
