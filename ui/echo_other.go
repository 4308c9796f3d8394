//go:build !linux

package ui

import "os"

// echoOff is not available here: the step says that the password is typed
// in the clear and the full-screen wizard masks it.
func echoOff(*os.File) (restore func(), ok bool) { return nil, false }
