//go:build !linux

package ui

import "os"

// echoOff is not available here: the terminal shows the password as it is
// typed in accessible mode (the full-screen wizard masks it).
func echoOff(*os.File) (restore func(), ok bool) { return nil, false }
