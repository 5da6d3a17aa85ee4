/**
 * Text for language and sequence models: tokenizers, padded batches, and BLEU.
 *
 * <ul>
 *   <li>{@link dev.backprop.text.Tokenizer}: text to ids and back, saved with the model as JSON
 *       ({@link dev.backprop.text.Tokenizer#save}, {@link dev.backprop.text.Tokenizer#load}).
 *       {@link dev.backprop.text.CharTokenizer} (Unicode code points, the ids of
 *       {@link dev.backprop.data.CharVocab}), {@link dev.backprop.text.WordTokenizer} (words and
 *       punctuation, a capped vocabulary and an unknown token) and
 *       {@link dev.backprop.text.BpeTokenizer} (GPT-2 style byte-level BPE that round-trips any
 *       string). {@link dev.backprop.text.SpecialTokens} names pad, bos, eos, unk and extra tokens,
 *       numbered after the base vocabulary in every tokenizer.
 * </ul>
 */
package dev.backprop.text;
