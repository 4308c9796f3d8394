package whatif

import (
	"fmt"
	"slices"
	"strings"

	"mgmtsession/ca"
)

// App is an application a sign-in targets. ID is what the local evaluator
// is given: an application id, or one of the groupings ca.All, ca.Office365
// and ca.MicrosoftAdminPortals. GraphIDs are the real application ids
// Graph's What If is given for it, because Graph does not expand the
// groupings (GRAPH-NOTES section 1); nil means Graph cannot be asked (the
// "All" target has no application id).
type App struct {
	Name     string   `json:"name"`
	ID       string   `json:"id"`
	GraphIDs []string `json:"-"`
}

// The management platform signs in to these applications: its actions go
// through Exchange Online, SharePoint and Teams PowerShell, the Microsoft
// Graph SDK and Azure Resource Manager. "Office 365" stands for the rest of
// the Office 365 suite; locally it is the ca.Office365 grouping (a sign-in to
// some member of the suite), and for Graph it is every documented member id,
// so that Graph's answer for the row means the same thing.
var platformApps = []App{
	{Name: "Exchange Online", ID: ca.AppExchangeOnline, GraphIDs: []string{ca.AppExchangeOnline}},
	{Name: "SharePoint Online", ID: ca.AppSharePointOnline, GraphIDs: []string{ca.AppSharePointOnline}},
	{Name: "Microsoft Graph", ID: ca.AppMicrosoftGraph, GraphIDs: []string{ca.AppMicrosoftGraph}},
	{Name: "Microsoft Teams", ID: ca.AppTeamsServices, GraphIDs: []string{ca.AppTeamsServices}},
	{Name: "Azure Service Management", ID: ca.AppAzureServiceManagement, GraphIDs: []string{ca.AppAzureServiceManagement}},
	{Name: "Office 365", ID: ca.Office365, GraphIDs: ca.Office365Apps()},
}

// PlatformApps returns the six applications of the wizard's What If matrix
// (a copy).
func PlatformApps() []App {
	out := make([]App, len(platformApps))
	for i, a := range platformApps {
		a.GraphIDs = slices.Clone(a.GraphIDs)
		out[i] = a
	}
	return out
}

// App aliases of the whatif command's --app flag.
const (
	AppAliasPlatform     = "platform"
	AppAliasAll          = "all"
	AppAliasOffice365    = "office365"
	AppAliasAdminPortals = "adminportals"
)

// ParseApps reads the --app value: "platform" (the six applications the
// management platform signs in to, evaluated together), "all" (a sign-in to
// an application no policy names: only policies on All cloud apps cover
// it), "office365", "adminportals", or an application id (a GUID). Aliases
// ignore case.
func ParseApps(v string) ([]App, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case AppAliasPlatform:
		return PlatformApps(), nil
	case AppAliasAll:
		return []App{{Name: "any application (All cloud apps)", ID: ca.All}}, nil
	case AppAliasOffice365:
		return []App{{Name: "Office 365", ID: ca.Office365, GraphIDs: ca.Office365Apps()}}, nil
	case AppAliasAdminPortals:
		return []App{{Name: "Microsoft Admin Portals", ID: ca.MicrosoftAdminPortals, GraphIDs: ca.AdminPortalApps()}}, nil
	}
	id := strings.ToLower(strings.TrimSpace(v))
	if !IsGUID(id) {
		return nil, fmt.Errorf("unknown application %q (use platform, all, office365, adminportals or an application id)", v)
	}
	name := id
	for _, a := range platformApps {
		if a.ID == id {
			name = a.Name
		}
	}
	return []App{{Name: name, ID: id, GraphIDs: []string{id}}}, nil
}

// graphIDs is the union of the apps' Graph ids, in order, or nil when one
// of them cannot be given to Graph.
func graphIDs(apps []App) []string {
	var ids []string
	for _, a := range apps {
		if len(a.GraphIDs) == 0 {
			return nil
		}
		for _, id := range a.GraphIDs {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// IsGUID reports whether s is a GUID in its usual 8-4-4-4-12 hex form.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
