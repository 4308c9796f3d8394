package steps

import (
	"context"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Job is long work (a sign-in, a read of the tenant, the engine's writes)
// running outside Update and streaming what it reports to its step as
// messages. It is the one way the steps do such work: the work reports
// events through a callback, as the change engine's Observer does, and the
// step sees a JobEventMsg for each, a JobTickMsg every second while it runs
// (so that a view can show the time so far and explain a long wait), and a
// JobDoneMsg at the end.
type Job struct {
	events   chan tea.Msg
	started  time.Time
	done     atomic.Bool
	finished chan struct{} // closed when the work has ended
}

// JobEventMsg is one event the work reported.
type JobEventMsg struct {
	Job   *Job
	Event any
}

// JobTickMsg comes every second while the job runs.
type JobTickMsg struct{ Job *Job }

// JobDoneMsg ends the job with its result or its error.
type JobDoneMsg struct {
	Job    *Job
	Result any
	Err    error
}

// StartJob runs work in its own goroutine and returns the job and the
// command that starts it and delivers its first message. A step keeps the
// job, and for each of the job's messages returns Job.Handle's command, which
// waits for the next one.
func StartJob(ctx context.Context, work func(ctx context.Context, report func(event any)) (any, error)) (*Job, tea.Cmd) {
	j := &Job{events: make(chan tea.Msg, 16), started: time.Now(), finished: make(chan struct{})}
	// send delivers a message; it gives up only when the program has ended
	// and the buffer is full (nobody is listening). A message that fits is
	// always delivered, even after ctx ended: a select between the two
	// would drop a job's result at random once its context is canceled.
	send := func(msg tea.Msg) {
		select {
		case j.events <- msg:
			return
		default:
		}
		select {
		case j.events <- msg:
		case <-ctx.Done():
		}
	}
	report := func(ev any) { send(JobEventMsg{Job: j, Event: ev}) }
	run := func() tea.Msg {
		res, err := work(ctx, report)
		j.done.Store(true)
		close(j.finished)
		send(JobDoneMsg{Job: j, Result: res, Err: err})
		return nil
	}
	return j, tea.Batch(run, j.next(), j.tick())
}

// Elapsed is the time since the job started.
func (j *Job) Elapsed() time.Duration { return time.Since(j.started) }

// Running says whether the work has not ended yet.
func (j *Job) Running() bool { return j != nil && !j.done.Load() }

func (j *Job) next() tea.Cmd { return func() tea.Msg { return <-j.events } }

// tick waits a second, or less when the work ends first: a tick left
// sleeping after the end would hold up whoever waits for the job's
// commands to finish (accessible mode's next prompt, by up to a second).
func (j *Job) tick() tea.Cmd {
	return func() tea.Msg {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-j.finished:
		}
		return JobTickMsg{Job: j}
	}
}

// Owns says whether msg is one of this job's messages.
func (j *Job) Owns(msg tea.Msg) bool {
	if j == nil {
		return false
	}
	switch msg := msg.(type) {
	case JobEventMsg:
		return msg.Job == j
	case JobTickMsg:
		return msg.Job == j
	case JobDoneMsg:
		return msg.Job == j
	}
	return false
}

// Handle is the command to return after one of the job's own messages: wait
// for the next event, or tick again while the work runs.
func (j *Job) Handle(msg tea.Msg) tea.Cmd {
	switch msg.(type) {
	case JobEventMsg:
		return j.next()
	case JobTickMsg:
		if j.Running() {
			return j.tick()
		}
	}
	return nil
}
