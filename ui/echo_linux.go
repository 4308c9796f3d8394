package ui

import (
	"os"

	"golang.org/x/sys/unix"
)

// echoOff turns off the terminal's echo, keeping line editing, so that a
// password typed in accessible mode is not shown; restore turns it back on.
func echoOff(f *os.File) (restore func(), ok bool) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, false
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON
	if unix.IoctlSetTermios(fd, unix.TCSETS, &quiet) != nil {
		return nil, false
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, true
}
