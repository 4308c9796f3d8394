package connect

import "runtime"

// isDesktopOS reports an OS where a browser can open without DISPLAY.
func isDesktopOS() bool { return runtime.GOOS == "windows" || runtime.GOOS == "darwin" }
