// Package data turns raw files into clean, transformed numeric arrays ready
// for training and serving.
//
// The package has five layers, each usable on its own:
//
//   - Readers: ReadCSV (CSV/TSV), ReadJSONL, ReadIDX (MNIST), ReadText (a text
//     corpus) and ReadImageFolder. Each opens regular files only and reads
//     name.gz through a decompressor capped by internal/safeio, so a gzip
//     bomb is refused after the cap. Tabular readers return a *Frame of named
//     numeric or categorical columns; every bad value (text in a numeric
//     column, Inf, a number beyond float32, text that is not UTF-8) is either
//     an error or a recorded Issue naming file:line:column, never a silent
//     change of the column's type.
//   - Cleaning: Clean drops or imputes missing values, clips outliers and drops
//     duplicates, and returns a CleanReport listing every change it made.
//   - Transforms: a Pipeline of steps (standardise, min-max, robust, log1p,
//     clip, impute, one-hot, ordinal, tokens, dates) fitted on the training split only
//     and serialisable to JSON so that serving applies exactly the same steps.
//     ImageNormalize and ImageAugment work on CHW images.
//   - Splits: Split (train/validation/test, optionally stratified) and KFold,
//     seeded with math/rand/v2 PCG so results are reproducible.
//   - Loaders: Loader batches any Dataset into a reusable Batch with seeded
//     per-epoch shuffling and bounded background prefetch; CSVStream batches
//     files larger than memory with a bounded shuffle buffer.
//
// Profile summarises training data (moments, quantiles, histograms, category
// frequencies) for later drift monitoring.
//
// The package does not import the tensor package: batches are plain Go slices
// with explicit shapes.
package data
