//go:build unix

package cli

import (
	"errors"
	"syscall"
)

const (
	openNonblock = syscall.O_NONBLOCK
	openNoFollow = syscall.O_NOFOLLOW
)

// isSymlinkLoop is the error open(2) gives with O_NOFOLLOW on a symbolic
// link.
func isSymlinkLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }
