package steps_test

import (
	"context"
	"errors"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mgmtsession/steps"
)

// A job whose context ends while it works (the operator pressed Ctrl+C,
// or a read was given up) still delivers its result: the step must learn
// that the work ended and how, or it shows a spinner for ever. Without the
// fix half of these were dropped at random.
func TestJobDeliversItsResultAfterItsContextEnded(t *testing.T) {
	for i := range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		job, cmd := steps.StartJob(ctx, func(ctx context.Context, report func(any)) (any, error) {
			cancel()
			report("almost")
			return nil, ctx.Err()
		})
		msgs := make(chan tea.Msg, 8)
		run := func(c tea.Cmd) {
			if c != nil {
				go func() { msgs <- c() }()
			}
		}
		for _, c := range cmd().(tea.BatchMsg) {
			run(c)
		}
		var done *steps.JobDoneMsg
		deadline := time.After(5 * time.Second)
		for done == nil {
			select {
			case msg := <-msgs:
				if d, ok := msg.(steps.JobDoneMsg); ok {
					done = &d
				} else if job.Owns(msg) {
					run(job.Handle(msg))
				}
			case <-deadline:
				t.Fatalf("run %d: the job's result never came", i)
			}
		}
		if !errors.Is(done.Err, context.Canceled) {
			t.Fatalf("run %d: result %v", i, done.Err)
		}
	}
}

// A job's last tick ends with the job, not up to a second later: accessible
// mode waits for every command before it prompts, and a fast typist (or a
// password typed with the echo still on) must not get ahead of the prompt.
func TestJobTickEndsWithTheJob(t *testing.T) {
	release := make(chan struct{})
	job, cmd := steps.StartJob(context.Background(), func(ctx context.Context, report func(any)) (any, error) {
		<-release
		return "done", nil
	})
	for _, c := range cmd().(tea.BatchMsg) {
		go c() // the work, the wait for its first message, the first tick
	}
	ticked := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		job.Handle(steps.JobTickMsg{Job: job})() // the next tick, as a step asks for it
		ticked <- time.Since(start)
	}()
	time.Sleep(50 * time.Millisecond)
	close(release)
	select {
	case d := <-ticked:
		// Without the fix the tick sleeps its whole second.
		if d >= 900*time.Millisecond {
			t.Errorf("the tick ended %v after it started, though the job ended at 50 ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the tick never ended")
	}
}
