package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// On every screen pinned at 80 columns, the footer keeps the way out: q
// (or, while an input has the keys, Ctrl+C). A step with many keys shrinks
// their descriptions rather than push the root's keys off the line.
func TestFooterKeepsTheWayOutAt80Columns(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*80x24*/*.golden")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/*/80x24/*.golden")
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("only %d screens at 80x24", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		last := lines[len(lines)-1]
		if !strings.Contains(last, "q quit") && !strings.Contains(last, "ctrl+c") {
			t.Errorf("%s: the footer has no way out: %q", f, last)
		}
	}
}
