package safeio

import (
	"errors"
	"fmt"
	"os"
)

// DropOp drops the operation from a file system error ("stat x: no such
// file or directory" becomes "x: no such file or directory"): the path is
// what a user needs, and the messages that wrap it say what was being done.
func DropOp(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
