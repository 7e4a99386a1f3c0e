// Package safeio reads and writes files that come from outside the
// program without letting them cost more than they hold.
//
// Everything a user, an operator or an attacker hands Shen (a model
// directory, a data file, a config) goes through here:
//
//   - Open and ReadFile open regular files only: a FIFO that never sends,
//     a symlink to /dev/zero or a device is refused up front, before any
//     read, instead of blocking forever or filling memory.
//   - ReadFile and the decompressing readers (OpenData, NewGzipReader)
//     stop at a stated cap and return a *LimitError naming the file and
//     the cap, so a 1 KB gzip that inflates to gigabytes is refused after
//     at most the cap has streamed through.
//   - WriteFileAtomic and Create write through a temporary file in the same
//     folder (synced, renamed, then the folder synced), so a crash or a
//     full disk leaves the old file or the new one, never a torn one; the
//     temporary names follow one pattern that CleanTemp recognises and
//     removes after a killed run.
//   - CheckYAML bounds the nesting depth, alias count and alias expansion
//     of a YAML document before a decoder sees it (billion laughs, deep
//     flow nesting), in time and memory linear in the input.
package safeio
