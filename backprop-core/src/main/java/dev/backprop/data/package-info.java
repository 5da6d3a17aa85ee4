/**
 * Data: data sets, batching, loaders for files, and generated data.
 *
 * <ul>
 *   <li>{@link dev.backprop.data.Dataset}: a fixed-size collection read a batch at a time
 *       ({@link dev.backprop.data.Batch}); {@link dev.backprop.data.TensorDataset} holds the
 *       examples as two big contiguous tensors, {@link dev.backprop.data.Subset} and
 *       {@link dev.backprop.data.Datasets#randomSplit} split them.
 *   <li>{@link dev.backprop.data.DataLoader}: batches per epoch, seeded shuffling, background
 *       prefetch, a per-batch {@link dev.backprop.data.BatchTransform}
 *       ({@link dev.backprop.data.ImageAugment}), and a position that a checkpoint saves and
 *       {@code seek} restores exactly.
 *   <li>Files: {@link dev.backprop.data.Idx} (MNIST format), {@link dev.backprop.data.FashionMnist},
 *       {@link dev.backprop.data.Csv} with {@link dev.backprop.data.Standardizer},
 *       {@link dev.backprop.data.TextCorpus} with {@link dev.backprop.data.CharVocab} and
 *       {@link dev.backprop.data.WindowSampler} for character language models;
 *       {@link dev.backprop.data.RandomWindows} (random windows as a data set) and
 *       {@link dev.backprop.data.StreamChunks} (parallel streams for truncated BPTT) to train them.
 *   <li>Text files for sequence models: {@link dev.backprop.data.SentencePairs} (tab-separated
 *       translation pairs, bad lines skipped and counted), {@link dev.backprop.data.LabeledTexts}
 *       (text classification CSV, labels numbered from the training file),
 *       {@link dev.backprop.data.TextFiles} (UTF-8 with the line and byte offset of invalid bytes,
 *       or replaced and counted) and {@link dev.backprop.data.HoldOut} (a reproducible split by a
 *       hash of a key). The tokenizers are in {@link dev.backprop.text}.
 *   <li>{@link dev.backprop.data.Synthetic}: a generated 10-class image data set, the default of
 *       {@code ./backprop train}.
 * </ul>
 *
 * Every problem with a file is a {@link dev.backprop.data.DataException} naming the file, and the
 * line and column where there are ones.
 */
package dev.backprop.data;
