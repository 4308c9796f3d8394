package main

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleSpinnerBytes measures the bytes the wizard writes to the
// terminal per second while it waits with a spinner on screen (the sign-in
// waiting for its device code to be approved): a slow SSH link carries every
// one of them. Goal: under 2 KB/s. Each iteration is one second of waiting.
//
//	go test -run '^$' -bench BenchmarkIdleSpinnerBytes -benchtime 5x .
func BenchmarkIdleSpinnerBytes(b *testing.B) {
	term := startInTerminal(b, "--demo", "--demo-approve-after", "1h")
	term.waitFor("enter the code")
	time.Sleep(500 * time.Millisecond) // the first frames and the terminal's answers
	start, at := len(term.output()), time.Now()
	b.ResetTimer()
	for range b.N {
		time.Sleep(time.Second)
	}
	b.StopTimer()
	bytes := len(term.output()) - start
	b.ReportMetric(float64(bytes)/time.Since(at).Seconds(), "B/s")
	b.ReportMetric(0, "ns/op") // the time is the sleep: not a figure
}

// BenchmarkFirstFrame measures the time from starting `mgmtsession --demo`
// in a terminal to its first frame on screen (the simulated tenant started,
// the wizard drawn). Goal: under 150 ms.
//
//	go test -run '^$' -bench BenchmarkFirstFrame -benchtime 10x .
func BenchmarkFirstFrame(b *testing.B) {
	var total time.Duration
	for range b.N {
		at := time.Now()
		term := startInTerminal(b, "--demo", "--demo-approve-after", "1h")
		for !strings.Contains(term.screen(), "Step 0 · Sign in") {
			if time.Since(at) > 30*time.Second {
				b.Fatalf("no first frame; the screen shows:\n%s", term.screen())
			}
			time.Sleep(time.Millisecond)
		}
		total += time.Since(at)
		_ = term.cmd.Process.Kill()
		_ = term.cmd.Wait()
		term.ptmx.Close()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/first-frame")
}
