//go:build !unix

package cli

// Elsewhere the flags do not exist; the Lstat before opening is the check.
const (
	openNonblock = 0
	openNoFollow = 0
)

func isSymlinkLoop(error) bool { return false }
