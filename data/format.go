package data

import "strings"

// FormatOf guesses a data file's format from its name (a .gz suffix is
// looked through): "csv", "tsv", "jsonl", "idx" (any name holding "idx"),
// "text" (.txt), or "" when the name does not say.
func FormatOf(path string) string {
	n := strings.TrimSuffix(strings.ToLower(path), ".gz")
	switch {
	case strings.HasSuffix(n, ".csv"):
		return "csv"
	case strings.HasSuffix(n, ".tsv"):
		return "tsv"
	case strings.HasSuffix(n, ".jsonl"), strings.HasSuffix(n, ".ndjson"):
		return "jsonl"
	case strings.Contains(n, "idx"):
		return "idx"
	case strings.HasSuffix(n, ".txt"):
		return "text"
	}
	return ""
}
