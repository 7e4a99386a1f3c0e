//go:build unix

package safeio

import (
	"errors"
	"syscall"
)

// nonBlock keeps open(2) of a FIFO from waiting for a writer.
const nonBlock = syscall.O_NONBLOCK

// isNotSupported reports a file system that cannot fsync a folder.
func isNotSupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
