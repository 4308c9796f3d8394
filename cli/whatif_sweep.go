package cli

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mgmtsession/ident"
	"mgmtsession/iprange"
	"mgmtsession/safe"
	"mgmtsession/whatif"
)

// whatifInputs are the whatif flags for the inputs of Entra's What If
// beyond address, client and platform (issue 12), and the sweep.
type whatifInputs struct {
	// The flags as given.
	userAction, authContext           string
	signInRisk, userRisk              string
	servicePrincipalRisk, insiderRisk string
	servicePrincipal                  string
	guestType, homeTenant             string
	device                            []string
	sweep                             bool
	allowedIPs                        []string
	outsideIP, outsideCountry         string
	changed                           func(name string) bool // whether a flag was given

	// The values validate read from them, in Graph's spelling.
	parsedAction, parsedContext   string
	parsedSignIn, parsedUser      string
	parsedSP, parsedInsider       string
	spApp                         string
	parsedGuest, parsedHome       string
	parsedDevice                  map[string]string
	sweepAllowed                  []netip.Prefix
	sweepOutside                  netip.Addr
	sweepCountryIn, sweepCountryO string
}

// sweepConfirmSamples and sweepConfirmPace bound Graph's confirmation of a
// sweep: a few sampled sign-ins, one evaluate a second, within Conditional
// Access's request rate (about one per second per tenant).
const (
	sweepConfirmSamples = 3
	sweepConfirmPace    = time.Second
)

func (in *whatifInputs) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&in.userAction, "user-action", "", "evaluate a user action instead of applications: registerSecurityInfo or registerDevice")
	fs.StringVar(&in.authContext, "auth-context", "", "evaluate an authentication context instead of applications: c1 to c99")
	fs.StringVar(&in.signInRisk, "sign-in-risk", "", "risk of the sign-in: none, low, medium or high (default: none)")
	fs.StringVar(&in.userRisk, "user-risk", "", "user risk: none, low, medium or high (default: none)")
	fs.StringVar(&in.servicePrincipalRisk, "service-principal-risk", "", "with --service-principal: its risk, none, low, medium or high (default: none)")
	fs.StringVar(&in.insiderRisk, "insider-risk", "", "insider risk: none, minor, moderate or elevated (default: not given)")
	fs.StringVar(&in.servicePrincipal, "service-principal", "", "evaluate a workload identity's sign-in: its application id, instead of --user")
	fs.StringVar(&in.guestType, "guest-type", "", "with --user: the kind of external user, as Graph names it (b2bCollaborationGuest, internalGuest, ...)")
	fs.StringVar(&in.homeTenant, "home-tenant", "", "with --guest-type: the external user's home tenant id")
	fs.StringArrayVar(&in.device, "device", nil, "a device property for device filters, NAME=VALUE (isCompliant=true, trustType=AzureAD, extensionAttribute1=paw; repeatable)")
	fs.BoolVar(&in.sweep, "sweep", false, "evaluate every application, client, platform and place, and report where the account is challenged from the allowed IPs or unprotected from outside")
	fs.StringArrayVar(&in.allowedIPs, "allowed-ip", nil, "with --sweep: an allowed IP range or address, or a comma-separated list (repeatable)")
	fs.StringVar(&in.outsideIP, "outside-ip", "", "with --sweep: the outside address (default: a documentation address in no named location)")
	fs.StringVar(&in.outsideCountry, "outside-country", "", "with --sweep: the country of the outside address, two letters")
	values := map[string][]string{
		"user-action":            {"registerSecurityInfo", "registerDevice"},
		"sign-in-risk":           whatif.RiskLevels,
		"user-risk":              whatif.RiskLevels,
		"service-principal-risk": whatif.RiskLevels,
		"insider-risk":           whatif.InsiderRiskLevels,
		"guest-type":             whatif.ExternalUserTypes,
	}
	for name, vs := range values {
		_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vs, cobra.ShellCompDirectiveNoFileComp
		})
	}
	_ = cmd.RegisterFlagCompletionFunc("device", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		props := whatif.DeviceProperties()
		for i := range props {
			props[i] += "="
		}
		return props, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

func (in *whatifInputs) given(name string) bool { return in.changed != nil && in.changed(name) }

// validate checks the inputs' flags: each value, and the combinations that
// mean nothing. It runs before anything is read.
func (in *whatifInputs) validate(o *whatifOptions) error {
	var err error
	switch {
	case in.servicePrincipal != "" && (o.user != "" || o.newAccount):
		return usagef("--service-principal is a workload identity signing in; it does not go with --user or --new-account")
	case in.userAction != "" && in.authContext != "":
		return usagef("give either --user-action or --auth-context, not both: a sign-in is one or the other")
	case (in.userAction != "" || in.authContext != "") && in.given("app"):
		return usagef("--user-action and --auth-context are sign-ins without an application; they do not go with --app")
	case in.servicePrincipalRisk != "" && in.servicePrincipal == "":
		return usagef("--service-principal-risk is the risk of a workload identity; it goes with --service-principal")
	case in.guestType != "" && o.user == "":
		return usagef("--guest-type describes an existing user; it goes with --user")
	case in.homeTenant != "" && in.guestType == "":
		return usagef("--home-tenant goes with --guest-type (the kind of external user)")
	case !in.sweep && (in.allowedIPs != nil || in.outsideIP != "" || in.outsideCountry != ""):
		return usagef("--allowed-ip, --outside-ip and --outside-country go with --sweep")
	}
	if in.servicePrincipal != "" {
		if in.spApp, err = whatif.ParseAppID(in.servicePrincipal); err != nil {
			return usagef("--service-principal: %v", err)
		}
	}
	if in.userAction != "" {
		if in.parsedAction, err = whatif.ParseUserAction(in.userAction); err != nil {
			return usagef("--user-action: %v", err)
		}
	}
	if in.authContext != "" {
		if in.parsedContext, err = whatif.ParseAuthContext(in.authContext); err != nil {
			return usagef("--auth-context: %v", err)
		}
	}
	for _, r := range []struct {
		flag, value string
		levels      []string
		out         *string
	}{
		{"--sign-in-risk", in.signInRisk, whatif.RiskLevels, &in.parsedSignIn},
		{"--user-risk", in.userRisk, whatif.RiskLevels, &in.parsedUser},
		{"--service-principal-risk", in.servicePrincipalRisk, whatif.RiskLevels, &in.parsedSP},
		{"--insider-risk", in.insiderRisk, whatif.InsiderRiskLevels, &in.parsedInsider},
	} {
		if *r.out, err = whatif.ParseRisk(r.value, r.levels); err != nil {
			return usagef("%s: %v", r.flag, err)
		}
	}
	if in.guestType != "" {
		if in.parsedGuest, err = whatif.ParseGuestType(in.guestType); err != nil {
			return usagef("--guest-type: %v", err)
		}
	}
	if in.homeTenant != "" {
		if in.parsedHome, err = whatif.ParseTenantID(in.homeTenant); err != nil {
			return usagef("--home-tenant: %v", err)
		}
	}
	if in.parsedDevice, err = whatif.ParseDevice(in.device); err != nil {
		return usagef("--device: %v", err)
	}
	if in.sweep {
		return in.validateSweep(o)
	}
	return nil
}

// validateSweep checks what a sweep needs and refuses what it decides
// itself: it evaluates every application, client and platform, from the
// allowed ranges and an outside address.
func (in *whatifInputs) validateSweep(o *whatifOptions) error {
	for _, name := range []string{"ip", "app", "client-app", "platform", "auth-flow", "user-action", "auth-context",
		"sign-in-risk", "user-risk", "insider-risk", "device", "service-principal", "service-principal-risk", "guest-type", "home-tenant"} {
		if in.given(name) {
			return usagef("--sweep evaluates every application, client app type and platform from the allowed IPs and outside; it does not go with --%s", name)
		}
	}
	switch {
	case o.user != "" && o.newAccount:
		return usagef("give either --user or --new-account, not both")
	case o.user == "" && !o.newAccount:
		return usagef("say whose sign-ins to sweep: --user UPN-or-id, or --new-account")
	case !o.newAccount && (o.roles != "" || o.groups != ""):
		return usagef("--roles and --groups describe the account to be created; they go with --new-account")
	case len(in.allowedIPs) == 0:
		return usagef("--sweep needs the allowed IPs: --allowed-ip RANGE (repeatable)")
	}
	if o.user != "" {
		if err := ident.CheckUserRef(strings.TrimSpace(o.user)); err != nil {
			return usagef("--user: %v", err)
		}
	}
	res, problems := iprange.ParseList(in.allowedIPs)
	if len(problems) > 0 {
		return usagef("--allowed-ip: %s", safe.Text(problems[0].Error()))
	}
	in.sweepAllowed = res.Prefixes
	var err error
	if in.sweepCountryIn, err = whatif.ParseCountry(o.country); err != nil {
		return usagef("--country: %v", err)
	}
	if in.sweepCountryO, err = whatif.ParseCountry(in.outsideCountry); err != nil {
		return usagef("--outside-country: %v", err)
	}
	if in.outsideIP != "" {
		if in.sweepOutside, err = whatif.ParseIP(in.outsideIP); err != nil {
			return usagef("--outside-ip: %v", err)
		}
		for _, p := range in.sweepAllowed {
			if p.Contains(in.sweepOutside.Unmap()) {
				return usagef("--outside-ip %s is in the allowed range %s", in.sweepOutside, p)
			}
		}
	}
	return nil
}

// applyTo puts the parsed inputs into the sign-in to evaluate.
func (in *whatifInputs) applyTo(c *whatif.Case) {
	c.SignInRisk, c.UserRisk, c.ServicePrincipalRisk, c.InsiderRisk = in.parsedSignIn, in.parsedUser, in.parsedSP, in.parsedInsider
	c.Device = in.parsedDevice
	switch {
	case in.parsedAction != "":
		c.UserAction, c.Apps = in.parsedAction, []whatif.App{whatif.UserActionTarget(in.parsedAction)}
	case in.parsedContext != "":
		c.AuthContext, c.Apps = in.parsedContext, []whatif.App{whatif.AuthContextTarget(in.parsedContext)}
	}
}

// subject adjusts the account evaluated: a workload identity instead of a
// user, or a user's external kind and home tenant.
func (in *whatifInputs) subject(s whatif.Subject) whatif.Subject {
	if in.spApp != "" {
		return whatif.WorkloadIdentity(in.spApp)
	}
	if in.parsedGuest != "" {
		s.ExternalUserType, s.HomeTenant = in.parsedGuest, in.parsedHome
	}
	return s
}

// sweepJSON is whatif --sweep --json: the headline answers first, then the
// sweep with every combination.
type sweepJSON struct {
	Headlines [2]string     `json:"headlines"`
	Source    whatif.Source `json:"source"`
	*whatif.Sweep
}

// runSweep is 'mgmtsession whatif --sweep': every combination evaluated
// locally, grouped; with an existing account and a tenant, a sample
// confirmed by Graph's What If.
func runSweep(ctx context.Context, f *factory, o whatifOptions) error {
	in := &o.inputs
	if o.snapshot != "" && f.g.demo {
		return usagef("--snapshot evaluates a file offline; it does not go with --demo")
	}
	if err := in.validate(&o); err != nil {
		return err
	}
	var (
		roles, groups []string
		err           error
	)
	if o.newAccount {
		if o.roles != "" {
			if roles, err = whatif.ResolveRoles(splitList(o.roles)); err != nil {
				return usagef("--roles: %v", err)
			}
		}
		if groups, err = whatif.ParseGroupIDs(splitList(o.groups)); err != nil {
			return usagef("--groups: %v", err)
		}
	}
	user := strings.TrimSpace(o.user)

	wi, err := f.whatifInput(ctx, o.snapshot, user)
	if err != nil {
		return err
	}
	defer wi.close()
	ps, subject, src, client := wi.ps, wi.subject, wi.src, wi.client
	if o.newAccount {
		subject = whatif.NewAccount(roles, groups)
	}
	src.Policies, src.NamedLocations = len(ps.Policies), len(ps.NamedLocations)

	sw, err := ps.Sweep(whatif.SweepInput{Subject: subject, Allowed: in.sweepAllowed, AllowedCountry: in.sweepCountryIn,
		Outside: in.sweepOutside, OutsideCountry: in.sweepCountryO})
	if err != nil {
		return usagef("--sweep: %v", err)
	}
	if client != nil {
		if err := ps.ConfirmWithGraph(ctx, client, sw, sweepConfirmSamples, sweepConfirmPace); err != nil {
			if ctx.Err() != nil {
				return errAborted
			}
			sw.Graph = &whatif.SweepConfirmation{Note: "Graph's What If could not be had: " + safe.Text(err.Error()), Disagreements: []string{}}
		}
	} else {
		sw.Graph = &whatif.SweepConfirmation{Note: "offline: Graph's What If needs the tenant", Disagreements: []string{}}
	}

	if f.g.json {
		if err := writeJSON(f.streams.Out, sweepJSON{Headlines: sw.Headlines(), Source: src, Sweep: sw}); err != nil {
			return err
		}
	} else {
		whatif.WriteSweepText(f.streams.Out, sw, src, textWidth)
	}
	if o.failOn && !sw.Clean() {
		return &problemsError{n: len(sw.Challenged) + len(sw.Unprotected)}
	}
	return nil
}
