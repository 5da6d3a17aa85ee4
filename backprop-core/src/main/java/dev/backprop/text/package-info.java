/**
 * Text for language and sequence models: tokenizers, padded batches, and BLEU.
 *
 * <ul>
 *   <li>{@link dev.backprop.text.Tokenizer}: text to ids and back, saved with the model as JSON
 *       ({@link dev.backprop.text.Tokenizer#save}, {@link dev.backprop.text.Tokenizer#load}
 *       dispatching on {@code "type"}). {@link dev.backprop.text.CharTokenizer} (Unicode code
 *       points, the ids of {@link dev.backprop.data.CharVocab}),
 *       {@link dev.backprop.text.WordTokenizer} (words and punctuation, a capped vocabulary and an
 *       unknown token) and {@link dev.backprop.text.BpeTokenizer} (GPT-2 style byte-level BPE that
 *       round-trips any string). {@link dev.backprop.text.SpecialTokens} names pad, bos, eos, unk
 *       and extra tokens, numbered after the base vocabulary in these three.
 *       {@link dev.backprop.text.WordPieceTokenizer} is BERT's WordPiece read from a HuggingFace
 *       {@code tokenizer.json} (its special tokens keep the pre-trained vocabulary's ids).
 *   <li>{@link dev.backprop.text.Padding} makes a {@link dev.backprop.text.TokenBatch} from id
 *       sequences: (B, T) int64 ids with bos/eos, truncation and padding, the attention mask and
 *       the lengths.
 *   <li>{@link dev.backprop.text.TokenDataset}: labelled token sequences as a
 *       {@link dev.backprop.data.Dataset} whose batches are padded to their own longest sequence,
 *       with {@link dev.backprop.text.TokenDataset#bucketed} to batch similar lengths together.
 *   <li>{@link dev.backprop.text.Bleu}: corpus BLEU exactly as sacreBLEU computes it (13a
 *       tokenisation, exp smoothing), with its signature line.
 * </ul>
 *
 * The readers of text data files (sentence pairs, labelled texts) are in
 * {@link dev.backprop.data}: {@link dev.backprop.data.SentencePairs},
 * {@link dev.backprop.data.LabeledTexts}.
 *
 * <pre>{@code
 * SentencePairs pairs = SentencePairs.read(Path.of("tatoeba-eng-deu-50k.tsv"));
 * HoldOut.Split<SentencePairs.Pair> split = pairs.split(0.05, 42);
 * BpeTokenizer tok = BpeTokenizer.train(pairs.targets(), 8000, SpecialTokens.DEFAULT);
 * Padding padding = Padding.of(tok).withBos(tok.bosId()).withEos(tok.eosId()).withMaxLength(64);
 * TokenBatch batch = padding.encode(tok, List.of("Ich bin hier.", "Wo ist der Bahnhof?"));
 * double bleu = Bleu.corpusScore(hypotheses, references).score();
 * }</pre>
 */
package dev.backprop.text;
