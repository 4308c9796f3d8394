package change

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"mgmtsession/safe"
	"mgmtsession/text"
)

// This file is the plan in words, shared by `mgmtsession plan` and the
// wizard's Allowed IPs step so that both say the same thing the same way.
// Every tenant string goes through safe.Text.

// WritePlan writes the readable diff: one line a change, + for what is made,
// ~ for what is changed, - for what is taken away, with why; then the
// exclusions, the What If after the changes, and the warnings. Reasons and
// warnings are wrapped to width (80 on the command line).
func WritePlan(w io.Writer, p *Plan, width int) {
	fmt.Fprintf(w, "Tenant       %s (%s)\n", safe.Text(p.TenantName), safe.Text(p.TenantID))
	fmt.Fprintf(w, "Account      %s (%s)\n", safe.Text(p.UPN), p.Mode)
	fmt.Fprintf(w, "Allowed IPs  %s\n", strings.Join(p.AllowedIPs, ", "))
	for _, n := range p.Desired().Notes {
		fmt.Fprintf(w, "  note: %s\n", safe.Text(n.String()))
	}
	fmt.Fprintln(w)
	if p.Empty() {
		fmt.Fprintln(w, "No changes: the tenant already holds the desired state.")
	} else {
		fmt.Fprintf(w, "%s, in this order:\n", text.Plural(len(p.Changes), "change"))
		for i, c := range p.Changes {
			WriteChange(w, i, c)
		}
	}
	if len(p.Exclusions) > 0 {
		fmt.Fprintln(w, "\nThe account is excluded from:")
		for _, e := range p.Exclusions {
			state := "to add"
			if e.Present {
				state = "in place"
			}
			fmt.Fprintf(w, "  %-8s %s\n", state, safe.Text(e.DisplayName))
			if e.Why != "" {
				for _, l := range text.Wrap(safe.Text(e.Why), width-8) {
					fmt.Fprintf(w, "           %s\n", l)
				}
			}
		}
	}
	fmt.Fprintln(w, "\nWhat If after the changes (the account, the platform's applications):")
	for _, v := range p.WhatIfAfter() {
		fmt.Fprintln(w, VerdictLine(v))
	}
	for _, warn := range p.Warnings {
		fmt.Fprintln(w)
		for i, l := range text.Wrap(safe.Text(warn), width-2) {
			if i == 0 {
				fmt.Fprintf(w, "Warning: %s\n", l)
			} else {
				fmt.Fprintf(w, "  %s\n", l)
			}
		}
	}
}

// VerdictLine is one line of the "after" picture: where from, the verdict,
// and the policies deciding it.
func VerdictLine(v Verdict) string {
	by := ""
	if len(v.By) > 0 {
		by = " by " + safe.Text(strings.Join(v.By, ", "))
	}
	return fmt.Sprintf("  %-24s %-6s%s", v.Label, strings.ToUpper(v.Verdict), by)
}

// ActionMark is the diff mark of each action.
var ActionMark = map[string]string{
	ActCreate: "+", ActAssign: "+", ActExclude: "~", ActUpdate: "~",
	ActRecord: "~", ActEnable: "~", ActDelete: "-", ActUnassign: "-",
	ActInclude: "~", ActRestore: "~", ActDisable: "~", ActRevoke: "~",
}

// WriteChange writes the i-th change of a plan (numbered from 1) and why.
func WriteChange(w io.Writer, i int, c Change) {
	fmt.Fprintf(w, "  %2d %s %s\n", i+1, ActionMark[c.Action], ChangeLine(c))
	if c.Why != "" && c.Object != ObjExclusion {
		fmt.Fprintf(w, "       %s\n", safe.Text(c.Why))
	}
}

// ChangeLine says a change for people.
func ChangeLine(c Change) string {
	name := safe.Text(c.Name)
	what := ""
	if len(c.What) > 0 {
		what = " (" + strings.Join(c.What, ", ") + ")"
	}
	switch c.Object {
	case ObjAccount:
		return c.Action + " the account " + name
	case ObjPassword:
		return "give the account " + name + " a new password"
	case ObjRole:
		if c.Action == ActUnassign {
			return "take the role " + name + " from the account"
		}
		return "assign the role " + name
	case ObjNamedLocation:
		return c.Action + " the named location " + name + what
	case ObjPolicy:
		return c.Action + " the policy " + name + what
	case ObjExclusion:
		if c.Action == ActInclude {
			return "take the account's exclusion out of " + name
		}
		return "exclude the account from " + name
	case ObjSessionRecord:
		var r Record
		if c.Action == ActDelete {
			return "delete the session record"
		}
		if json.Unmarshal(c.After, &r) == nil && r.Session != "" {
			return "record the session: " + r.Session
		}
		return c.Action + " the session record"
	case ObjAccountEnabled:
		if c.Action == ActDisable {
			return "disable the account " + name
		}
		return "enable the account " + name
	case "signInSessions":
		return "revoke the sign-in sessions of " + name
	}
	return c.Action + " " + c.Object + " " + name
}
