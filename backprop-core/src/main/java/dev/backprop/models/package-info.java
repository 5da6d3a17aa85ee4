/**
 * Ready-made models: the reference models of the benchmark workloads (WORKLOADS.md), with the
 * PyTorch reference's layers, initialisation and state-dict keys ({@code bench/torch/models.py}).
 *
 * <ul>
 *   <li>{@link dev.backprop.models.GPT}: the W3 character-level GPT (pre-LayerNorm blocks,
 *       {@link dev.backprop.models.GPT.Block}), GPT-2 initialisation, head tied to the token embedding;
 *       a key/value cache ({@link dev.backprop.models.GPT.KVCache}) for generation.
 *   <li>{@link dev.backprop.models.CharLSTM}: the W4 character-level LSTM, with a state-in/state-out
 *       forward and a carried state for truncated backpropagation through time.
 *   <li>{@link dev.backprop.models.LanguageModel} (both models) and
 *       {@link dev.backprop.models.Sampler}: generation with greedy, temperature and top-k sampling.
 *   <li>{@link dev.backprop.models.Seq2SeqTransformer}: an encoder–decoder Transformer for
 *       translation (joint tied embedding, pre-LayerNorm), with cached greedy and beam-search
 *       decoding; trained by {@code backprop train translate} (docs/translation.md).
 *   <li>{@link dev.backprop.models.TextClassifier}: token ids to class logits, convolutions over
 *       subword embeddings with masked pooling (padding never reaches the logits); trained by
 *       {@link dev.backprop.train.TextClassification} (the {@code intent} recipe).
 *   <li>{@link dev.backprop.models.Workloads}: W1–W4 models and optimizers as in the reference,
 *       and the per-position sequence loss.
 * </ul>
 */
package dev.backprop.models;
