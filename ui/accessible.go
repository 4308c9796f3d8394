package ui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync/atomic"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"mgmtsession/steps"
	"mgmtsession/text"
)

// accessibleWidth is the width plain output is wrapped to: the width of the
// terminal is unknown when the output is piped or read aloud.
const accessibleWidth = 80

// RunAccessible runs the wizard in accessible mode: the same steps as the
// full-screen wizard, driven as plain line-based prompts. Each step's text is
// printed once it changes (never repainted in place, nothing animated), and
// every answer is a line read from in, so that a screen reader can follow it
// and the journey can be scripted (printf 'n\nq\n' | mgmtsession
// --accessible --demo). It reports whether the operator aborted.
func RunAccessible(ctx context.Context, cfg Config, in io.Reader, out io.Writer) (aborted bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &lineRunner{
		ctx: ctx, out: out, state: &steps.State{Config: cfg.Prefill},
		theme: &steps.Theme{Pal: text.PlainPalette(), Accessible: true},
		steps: newSteps(cfg.deps(ctx, true)), details: steps.NewDetails(cfg.deps(ctx, true)),
		msgs: make(chan tea.Msg, 64), lines: make(chan string), cloud: cfg.Cloud,
	}
	// A terminal echoes what is typed; piped answers are echoed here, so
	// that the transcript reads as a conversation either way.
	if f, ok := in.(*os.File); !ok || !term.IsTerminal(f.Fd()) {
		r.echo = true
	} else {
		r.term = f
	}
	go r.readLines(in)
	return r.run()
}

type lineRunner struct {
	ctx    context.Context
	out    io.Writer
	state  *steps.State
	theme  *steps.Theme
	steps  []steps.Step
	active int
	// details is what m opens; while detailsOpen, single-letter answers
	// go to it (answerDetails in details.go).
	details     *steps.Details
	detailsOpen bool
	notice      string // the details' notice as last printed
	msgs        chan tea.Msg
	lines       chan string
	eof         bool
	shown       string // the active step's text as last printed, without figures
	echo        bool
	cloud       string
	quitAsk     bool
	// term is the terminal answers are typed on, nil when they are piped;
	// restoreEcho turns its echo back on after a hidden answer.
	term        *os.File
	restoreEcho func()
	// inflight counts the commands running that are not timers: a
	// sign-in's last message may be a moment behind its step's status.
	inflight atomic.Int64
}

func (r *lineRunner) readLines(in io.Reader) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		select {
		case r.lines <- strings.TrimSpace(sc.Text()):
		case <-r.ctx.Done():
			return
		}
	}
	close(r.lines)
}

// exec runs a command outside the loop, as Bubble Tea does, and feeds its
// message back. Spinner frames are dropped: nothing animates here.
func (r *lineRunner) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	r.inflight.Add(1)
	go func() {
		defer r.inflight.Add(-1)
		var msg tea.Msg = wakeMsg{} // the loop may be waiting for this command to end
		switch got := cmd().(type) {
		case nil, spinner.TickMsg:
		case tea.BatchMsg:
			for _, c := range got {
				r.exec(c)
			}
		default:
			msg = got
		}
		select {
		case r.msgs <- msg:
		case <-r.ctx.Done():
		}
	}()
}

// wakeMsg tells the loop that a command ended without a message.
type wakeMsg struct{}

func (r *lineRunner) println(format string, args ...any) {
	fmt.Fprintf(r.out, format+"\n", args...)
}

func (r *lineRunner) run() (bool, error) {
	r.println("mgmtsession wizard, accessible mode (cloud: %s). Answer each prompt with a line; ? lists the answers.", r.cloud)
	r.enter(0)
	prompted := false
	for {
		cur := r.steps[r.active]
		if cur.Status() == steps.Running || r.details.Busy() || !prompted && r.pending() {
			// Work goes on, or its last messages are still queued: the
			// prompt waits for them, so that a scripted answer finds
			// the step settled.
			select {
			case msg := <-r.msgs:
				r.handle(msg)
			case <-r.ctx.Done():
				return true, nil
			}
			continue
		}
		if !prompted {
			r.prompt()
			prompted = true
		}
		var line string
		var ok bool
		select {
		case line, ok = <-r.lines:
		case msg := <-r.msgs:
			r.handle(msg)
			continue
		case <-r.ctx.Done():
			return true, nil
		}
		prompted = false
		if r.restoreEcho != nil {
			r.restoreEcho()
			r.restoreEcho = nil
			fmt.Fprintln(r.out)
		}
		if !ok {
			r.println("\nEnd of input: quitting.")
			return false, nil
		}
		if quit := r.answer(line); quit {
			return false, nil
		}
	}
}

// pending says whether a command's message is waiting to be handled.
func (r *lineRunner) pending() bool { return len(r.msgs) > 0 || r.inflight.Load() > 0 }

// handle gives a message to the shared state and every step, as the root
// model does, and prints the active step again if its text changed.
func (r *lineRunner) handle(msg tea.Msg) {
	if ch, ok := msg.(steps.Change); ok {
		ch.Apply(r.state)
	}
	_, isKey := msg.(tea.KeyPressMsg)
	for i, st := range r.steps {
		if isKey && i != r.active {
			continue
		}
		next, cmd := st.Update(msg)
		r.steps[i] = next
		r.exec(cmd)
	}
	if !isKey {
		r.exec(r.details.Update(msg, r.state, false))
		r.showNotice()
	}
	if _, ok := msg.(steps.Change); ok {
		r.exec(r.steps[r.active].Enter(r.state))
	}
	r.show()
}

var figures = regexp.MustCompile(`[0-9]+`)

// show prints the active step's text when it says something new; a clock
// that only counts seconds is not news.
func (r *lineRunner) show() {
	view := strings.TrimRight(r.steps[r.active].View(r.theme, accessibleWidth), "\n ")
	if r.detailsOpen {
		view = strings.TrimRight(r.details.View(r.theme, accessibleWidth), "\n ")
	}
	key := figures.ReplaceAllString(view, "#")
	if key == r.shown || view == "" {
		return
	}
	// A step that only gained lines (a note after a key) prints those;
	// anything else is printed whole.
	if added, ok := addedLines(r.shown, key, view); ok {
		r.shown = key
		r.println("%s\n", trimLines(added))
		return
	}
	r.shown = key
	r.println("%s\n", trimLines(view))
}

// addedLines is what view adds to the text last shown, when it only adds:
// old and now are the figure-free forms of the last and the new text.
func addedLines(old, now, view string) (string, bool) {
	if old == "" {
		return "", false
	}
	oldLines, nowLines, viewLines := strings.Split(old, "\n"), strings.Split(now, "\n"), strings.Split(view, "\n")
	var added []string
	i := 0
	for j, l := range nowLines {
		if i < len(oldLines) && oldLines[i] == l {
			i++
			continue
		}
		if strings.TrimSpace(viewLines[j]) != "" {
			added = append(added, viewLines[j])
		}
	}
	if i < len(oldLines) || len(added) == 0 {
		return "", false
	}
	return strings.Join(added, "\n"), true
}

func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func (r *lineRunner) enter(i int) {
	r.active, r.shown = i, ""
	r.println("== Step %d of %d: %s ==", i, len(r.steps)-1, r.steps[i].Title())
	r.exec(r.steps[i].Enter(r.state))
	r.show()
}

func (r *lineRunner) prompt() {
	if r.quitAsk {
		fmt.Fprint(r.out, "Quit anyway? (y/n) > ")
		return
	}
	if r.detailsOpen {
		r.promptDetails()
		return
	}
	if cur := r.steps[r.active]; cur.Focused() {
		if isSecret(cur) {
			// A password may be any word, "cancel" included.
			r.hideInput()
			fmt.Fprint(r.out, "> ")
			return
		}
		fmt.Fprint(r.out, "(or cancel) > ")
		return
	}
	var keys []string
	for _, k := range r.steps[r.active].Keys() {
		keys = append(keys, k.Help().Key+" "+k.Help().Desc)
	}
	keys = append(keys, "n next")
	if r.active > 0 {
		keys = append(keys, "b back")
	}
	keys = append(keys, "m management", "q quit")
	fmt.Fprintf(r.out, "[%s] > ", strings.Join(keys, ", "))
}

// isSecret says whether the step's question is a secret.
func isSecret(st steps.Step) bool {
	s, ok := st.(steps.SecretInput)
	return ok && s.SecretInput()
}

// hideInput stops a terminal from echoing the next line typed (a password);
// the echo comes back once the line is read.
func (r *lineRunner) hideInput() {
	if r.term == nil {
		return
	}
	if restore, ok := echoOff(r.term); ok {
		r.restoreEcho = restore
	}
}

// answer acts on one line and says whether to quit.
func (r *lineRunner) answer(line string) bool {
	cur := r.steps[r.active]
	secret := isSecret(cur)
	if r.echo {
		if secret {
			// A password is never printed, not even in a transcript.
			fmt.Fprintln(r.out, "(hidden)")
		} else {
			fmt.Fprintln(r.out, line)
		}
	}
	if r.quitAsk {
		r.quitAsk = false
		return strings.EqualFold(line, "y") || strings.EqualFold(line, "yes")
	}
	if r.detailsOpen {
		return r.answerDetails(line)
	}
	if cur.Focused() {
		// A step with an input asked a question: the line is its answer,
		// whatever it says, except "cancel", which leaves the question as
		// Esc does (no range, address, name or method is called so).
		if strings.EqualFold(line, "cancel") && !secret {
			r.handle(tea.KeyPressMsg{Code: tea.KeyEscape})
			return false
		}
		r.handle(steps.LineMsg{Text: line})
		return false
	}
	switch strings.ToLower(line) {
	case "q", "quit":
		if cur.Busy() || r.details.Busy() {
			r.quitAsk = true
			r.println("%s is still working and stopping now may leave it half done.", cur.Title())
			return false
		}
		return true
	case "n", "next", "":
		if ok, why := cur.CanAdvance(); !ok {
			r.println("%s", why)
			return false
		}
		if r.active+1 >= len(r.steps) {
			r.println("This is the last step.")
			return false
		}
		r.enter(r.active + 1)
	case "b", "back":
		if r.active == 0 {
			r.println("This is the first step.")
			return false
		}
		r.enter(r.active - 1)
	case "m":
		r.openDetails()
	case "?":
		r.println("Answers: n (or an empty line) goes to the next step, b to the previous one, m shows the management session, q quits; a step's own answers are listed in the prompt.")
	default:
		k := []rune(line)
		if len(k) != 1 {
			r.println("%q is not an answer here; ? lists them.", line)
			return false
		}
		r.handle(tea.KeyPressMsg{Code: k[0], Text: line})
	}
	return false
}
