// Package probe is the live sign-in probe (SPEC section 4, step 6): it
// signs in as the management account (or the Global Admin) with its
// password, as a tool on the platform's side would, and says plainly how
// Entra answered: succeeded, MFA required, blocked by Conditional Access
// (naming the policies when the tenant's sign-in log does), blocked by
// security defaults, bad credentials, password expired or must change,
// disabled, locked, or the password flow itself refused.
//
// The password sign-in is the resource-owner password grant (ROPC), which
// Microsoft is retiring: it cannot do MFA, and MSAL and azidentity have
// deprecated it. The probe uses it only because its question is exactly
// "does a password alone get in from here?". When the flow itself is
// refused, the probe falls back on the sign-in log: the account's own
// recent sign-ins (by the platform) say how it really fares.
//
// Use from a front end (the wizard's Turn on step, a command):
//
//	res, err := probe.Try(ctx, env, probe.Request{UPN: upn, Password: pw, Log: client})
//	if err != nil { ... } // the probe could not ask: a network failure, a bad option
//	show(res.Outcome.Title(), res.Cause, res.Fix)
//	for _, p := range res.Policies { ... } // when the tenant's log named them
//
// env is the connect.Env the operator signed in through (its cloud,
// tenant, proxy, CAs and --debug-log); the probe signs in with --client-id
// or the default public client. Log is the operator's *graph.Client, used
// only to read the sign-in log (AuditLog.Read.All, Entra ID P1); nil skips
// it. The password is read once, for the token request, and is never
// logged, kept or put in the Result.
package probe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mgmtsession/change"
	"mgmtsession/connect"
	"mgmtsession/graph"
)

// Outcome is how Entra answered the probe.
type Outcome string

// The outcomes, in the words the product shows (Title).
const (
	// Succeeded: a token was issued with the password alone, no MFA. From
	// an allowed IP this is what the setup is for.
	Succeeded Outcome = "succeeded"
	// MFARequired: Conditional Access, security defaults or per-user MFA
	// asked for MFA (AADSTS50076, 50079, 50072, 50074). From outside the
	// allowed IPs this is what the setup is for.
	MFARequired Outcome = "mfaRequired"
	// BlockedByCA: a Conditional Access policy blocked the sign-in or
	// demanded what a password sign-in cannot show (53003, 53000...).
	BlockedByCA Outcome = "blockedByConditionalAccess"
	// BlockedBySecurityDefaults: security defaults refused it (530035).
	BlockedBySecurityDefaults Outcome = "blockedBySecurityDefaults"
	// BadCredentials: the account or the password is wrong (50126, 50034).
	BadCredentials Outcome = "badCredentials"
	// PasswordExpired: the password expired or must be changed at the next
	// sign-in (50055, 50144).
	PasswordExpired Outcome = "passwordExpired"
	// Disabled: the account is disabled (50057).
	Disabled Outcome = "disabled"
	// Locked: smart lockout holds the account (50053).
	Locked Outcome = "locked"
	// FlowRefused: the password flow itself was refused: retired, not
	// allowed for the app (7000218, 70003, unsupported_grant_type), or
	// without the consent it cannot ask for (65001). Result.Recent then
	// holds the account's recent sign-ins from the log, when readable.
	FlowRefused Outcome = "flowRefused"
	// Refused: any other refusal; Code and Cause say which.
	Refused Outcome = "refused"
)

// Title is the outcome in a few words for a heading.
func (o Outcome) Title() string {
	switch o {
	case Succeeded:
		return "Signed in with the password alone (no MFA)"
	case MFARequired:
		return "MFA required"
	case BlockedByCA:
		return "Blocked by Conditional Access"
	case BlockedBySecurityDefaults:
		return "Blocked by security defaults"
	case BadCredentials:
		return "Wrong account or password"
	case PasswordExpired:
		return "Password expired or must be changed"
	case Disabled:
		return "Account disabled"
	case Locked:
		return "Account locked"
	case FlowRefused:
		return "Password sign-in refused"
	}
	return "Sign-in refused"
}

// RetiringNote is what the product states wherever it offers the probe.
const RetiringNote = "The probe signs in with the password alone (the resource-owner password flow), " +
	"which Microsoft is retiring because it cannot do MFA. It is optional, and when Microsoft " +
	"refuses the flow, the sign-in log shows how the account's own sign-ins fare instead."

// Request is one probe.
type Request struct {
	UPN      string
	Password change.Secret // held in memory only; never logged
	// Log, when set, is the operator's client: the probe reads the
	// account's newest sign-in log entry to name the Conditional Access
	// policies that applied, and the recent entries when the flow is
	// refused. Nil skips the log.
	Log *graph.Client
}

// Result is the probe's answer.
type Result struct {
	Outcome Outcome
	// Code is the AADSTS code of a refusal, 0 when it succeeded.
	Code int
	// Cause and Fix are in the operator's words.
	Cause, Fix string
	// At is when the probe asked.
	At time.Time
	// Session is who signed in, when it succeeded.
	Session graph.Session
	// Entry is this sign-in's entry in the tenant's log when it was
	// there already (Entra lists sign-ins after about 2 to 15 minutes, so
	// often it is not: LogNote then says so). Policies are its
	// Conditional Access policies that applied or failed.
	Entry    *graph.SignInEntry
	Policies []graph.AppliedPolicy
	// Recent holds the account's recent sign-ins from the log when the
	// flow was refused (FlowRefused), newest first.
	Recent []graph.SignInEntry
	// LogNote says what the sign-in log could not tell (no P1, no
	// permission, not listed yet), or is empty.
	LogNote string
}

// Try runs the probe. The error is for a probe that could not ask Entra
// (the network, the options); every answer Entra gives is a Result.
func Try(ctx context.Context, env *connect.Env, req Request) (Result, error) {
	if req.UPN == "" {
		return Result{}, errors.New("the sign-in probe needs the account's user principal name")
	}
	if req.Password.IsZero() {
		return Result{}, errors.New("the sign-in probe needs the account's password")
	}
	res := Result{At: time.Now().UTC()}
	sess, err := env.PasswordSignIn(ctx, req.UPN, req.Password.Reveal())
	if err != nil {
		var se *graph.SignInError
		if !errors.As(err, &se) {
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			var ne *graph.NetworkError
			if errors.As(err, &ne) {
				h := graph.ExplainSignIn(err, "")
				return Result{}, fmt.Errorf("the sign-in probe could not reach Entra (%s Fix: %s): %w", h.Cause, h.Fix, err)
			}
			// MSAL's own refusals before any token request, such as a
			// domain Entra does not know (user realm "Unknown").
			return Result{}, fmt.Errorf("the sign-in probe for %s failed before Entra answered (check the account's domain): %w", req.UPN, err)
		}
		res.Code = se.Code
		res.Outcome = Classify(se.Code, se.OAuthError)
	} else {
		res.Outcome, res.Session = Succeeded, sess
	}
	res.Cause, res.Fix = explain(res.Outcome, res.Code, req.UPN, err)
	if req.Log != nil {
		readLog(ctx, req, &res)
	}
	return res, nil
}

// explain is the cause and fix of an outcome for the probe's question
// ("does a password alone get in from here?"), which is not the operator's
// own sign-in: MFA required is the answer the setup wants from outside the
// allowed IPs, not a failure to mend.
func explain(o Outcome, code int, upn string, err error) (cause, fix string) {
	aadsts := ""
	if code != 0 {
		aadsts = fmt.Sprintf(" (AADSTS%d)", code)
	}
	switch o {
	case Succeeded:
		return "Entra issued a token for " + upn + " with the password alone: no MFA was asked from this address.",
			"none from an allowed IP. From any other address it means the account is not protected: run mgmtsession status and check the policy that requires MFA outside the allowed IPs."
	case MFARequired:
		return "Entra asked " + upn + " for MFA" + aadsts + ": a password alone does not get in from this address.",
			"none from outside the allowed IPs: that is the protection working. From an allowed IP, the address is not in the named location or another policy, security defaults or per-user MFA demands MFA: the What If (mgmtsession whatif) names which."
	case BlockedByCA:
		return "A Conditional Access policy blocked " + upn + aadsts + ".",
			"see which policy in the sign-in log (mgmtsession signins), and exclude the account from it if the platform must sign in from here (mgmtsession apply does that for the policies the What If finds)."
	case BlockedBySecurityDefaults:
		return "Security defaults refused the sign-in of " + upn + aadsts + ".",
			"security defaults cannot exempt an account: turn them off and use Conditional Access instead (mgmtsession apply can, with the permission to)."
	case BadCredentials:
		return "Entra did not accept the account name or password of " + upn + aadsts + ".",
			"check the UPN and the password; after a password reset, wait a minute for it to replicate."
	case PasswordExpired:
		return "The password of " + upn + " has expired or must be changed at the next sign-in" + aadsts + ".",
			"set a new password that does not need changing (mgmtsession apply resets it with forceChangePasswordNextSignIn off), or change it once at https://myaccount.microsoft.com."
	case Disabled:
		return "The account " + upn + " is disabled" + aadsts + ".",
			"turn the session on (mgmtsession on) to enable it, then probe again."
	case Locked:
		return "Smart lockout holds " + upn + " after too many wrong passwords" + aadsts + ".",
			"wait a minute or more for the lockout to end, then probe with the right password."
	case FlowRefused:
		return "Entra refused the password sign-in flow itself" + aadsts + ". " + RetiringNote,
			"read the account's own sign-ins instead: mgmtsession signins (Entra ID P1 needed). With --client-id, the app registration must allow public client flows and have admin consent."
	}
	if err == nil {
		err = fmt.Errorf("AADSTS%d", code)
	}
	h := graph.ExplainSignIn(err, "")
	return h.Cause, h.Fix
}

// Classify names the outcome of an AADSTS code (and the OAuth error, for
// refusals without one).
func Classify(code int, oauthError string) Outcome {
	switch code {
	case 0:
		if oauthError == "unsupported_grant_type" {
			return FlowRefused
		}
		return Refused
	case 50076, 50079, 50072, 50074, 50158:
		return MFARequired
	case 53003, 53000, 53001, 53002, 530002, 50097:
		return BlockedByCA
	case 530035:
		return BlockedBySecurityDefaults
	case 50126, 50034:
		return BadCredentials
	case 50055, 50144:
		return PasswordExpired
	case 50057:
		return Disabled
	case 50053:
		return Locked
	case 7000218, 70003, 65001:
		return FlowRefused
	}
	return Refused
}

// readLog fills in what the tenant's sign-in log says of this probe (the
// policies applied) or, when the flow was refused, of the account's own
// recent sign-ins. A log that cannot be read leaves a note, not an error:
// the probe's answer stands without it.
func readLog(ctx context.Context, req Request, res *Result) {
	q := graph.SignInQuery{UPN: req.UPN, Top: 5}
	if res.Outcome != FlowRefused {
		q.Since = res.At.Add(-time.Second)
	}
	entries, err := req.Log.SignInLog(ctx, q)
	switch {
	case graph.IsNoPremium(err):
		res.LogNote = "The tenant has no Entra ID P1, so there is no sign-in log to read through Graph."
		return
	case graph.IsForbidden(err):
		res.LogNote = "Reading the sign-in log needs AuditLog.Read.All (and Reports Reader, Security Reader or Global Reader); the policies are not named."
		return
	case err != nil:
		res.LogNote = "The sign-in log could not be read: " + err.Error()
		return
	}
	if res.Outcome == FlowRefused {
		res.Recent = entries
		if len(entries) == 0 {
			res.LogNote = "The sign-in log lists no recent sign-in of " + req.UPN + "."
		}
		return
	}
	for i := range entries {
		e := entries[i]
		if e.Status.ErrorCode == res.Code {
			res.Entry = &e
			for _, p := range e.AppliedPolicies {
				switch p.Result {
				case "success", "failure":
					res.Policies = append(res.Policies, p)
				}
			}
			return
		}
	}
	res.LogNote = "The sign-in log does not list this sign-in yet (Entra adds entries after about 2 to 15 minutes): mgmtsession signins shows it later."
}
