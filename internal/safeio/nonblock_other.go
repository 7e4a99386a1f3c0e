//go:build !unix

package safeio

// nonBlock is 0 where open cannot block on a special file.
const nonBlock = 0

// isNotSupported reports a folder that cannot be synced: on these
// systems, any error.
func isNotSupported(error) bool { return true }
