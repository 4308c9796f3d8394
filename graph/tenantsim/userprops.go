package tenantsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"
)

// profileProperty is a writable property of Graph's user resource that the
// tenant keeps as written and gives back: the directory's profile fields.
// The properties the tenant acts on (accountEnabled, userPrincipalName,
// passwordProfile, ...) are userBody's.
type profileProperty struct {
	list   bool           // a collection of strings
	maxLen int            // longest value Graph accepts (0: no limit here)
	maxN   int            // most items of a collection (0: no limit)
	re     *regexp.Regexp // the form Graph requires, if any
	enum   []string       // the values Graph accepts, if an enumeration
	date   bool           // a DateTimeOffset
}

// profileProperties are taken from the v1.0 user resource: the read-write
// properties a POST or PATCH /users may carry, with their documented
// limits.
var profileProperties = map[string]profileProperty{
	"ageGroup":                {enum: []string{"minor", "notAdult", "adult"}},
	"businessPhones":          {list: true, maxN: 1, maxLen: 64},
	"city":                    {maxLen: 128},
	"companyName":             {maxLen: 64},
	"consentProvidedForMinor": {enum: []string{"granted", "denied", "notRequired"}},
	"country":                 {maxLen: 128},
	"department":              {maxLen: 64},
	"employeeHireDate":        {date: true},
	"employeeId":              {maxLen: 16},
	"employeeLeaveDateTime":   {date: true},
	"employeeType":            {maxLen: 64},
	"faxNumber":               {maxLen: 64},
	"givenName":               {maxLen: 64},
	"jobTitle":                {maxLen: 128},
	"mail":                    {maxLen: 256, re: regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)},
	"mobilePhone":             {maxLen: 64},
	"officeLocation":          {maxLen: 128},
	"onPremisesImmutableId":   {maxLen: 256},
	"otherMails":              {list: true, maxLen: 256},
	"postalCode":              {maxLen: 40},
	"preferredDataLocation":   {maxLen: 64},
	"preferredLanguage":       {re: regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)},
	"state":                   {maxLen: 128},
	"streetAddress":           {maxLen: 1024},
	"surname":                 {maxLen: 64},
	"usageLocation":           {re: regexp.MustCompile(`^[A-Z]{2}$`)},
}

// readOnlyUserProperties are user properties Graph returns (when selected)
// but the tenant does not track: they read as null, or [] for collections.
var readOnlyUserProperties = map[string]any{
	"assignedLicenses": []any{}, "assignedPlans": []any{}, "creationType": nil, "externalUserState": nil,
	"externalUserStateChangeDateTime": nil, "identities": []any{}, "imAddresses": []any{},
	"lastPasswordChangeDateTime": nil, "legalAgeGroupClassification": nil, "onPremisesDistinguishedName": nil,
	"onPremisesDomainName": nil, "onPremisesLastSyncDateTime": nil, "onPremisesSamAccountName": nil,
	"onPremisesSecurityIdentifier": nil, "onPremisesSyncEnabled": nil, "onPremisesUserPrincipalName": nil,
	"proxyAddresses": []any{}, "securityIdentifier": nil, "showInAddressList": nil,
	"signInSessionsValidFromDateTime": nil, "deletedDateTime": nil,
}

// splitProfile takes the profile properties out of a user body, checked,
// and returns them with the rest of the body (for userBody's strict
// decoding, which refuses any property Graph does not have).
func splitProfile(data []byte) (profile map[string]any, rest []byte, gerr *graphError) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, data, nil // userBody's decoding says what is wrong
	}
	profile = map[string]any{}
	for name, raw := range m {
		p, ok := profileProperties[name]
		if !ok {
			continue
		}
		delete(m, name)
		v, gerr := p.check(name, raw)
		if gerr != nil {
			return nil, nil, gerr
		}
		profile[name] = v
	}
	rest, err := json.Marshal(m)
	if err != nil {
		return nil, nil, internal(err)
	}
	return profile, rest, nil
}

// check validates one property's JSON value and returns it as the tenant
// keeps it: nil (cleared), a string, or a []string.
func (p profileProperty) check(name string, raw json.RawMessage) (any, *graphError) {
	invalid := func(why string) *graphError {
		return &graphError{Status: http.StatusBadRequest, Code: "Request_BadRequest",
			Message: fmt.Sprintf("Invalid value specified for property '%s' of resource 'User'.", name),
			Details: []errorDetail{{Code: "InvalidValue", Message: why, Target: name}}}
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if p.list {
			return []string{}, nil
		}
		return nil, nil
	}
	if p.list {
		var vs []string
		if err := json.Unmarshal(raw, &vs); err != nil {
			return nil, errBadRequest("BadRequest", "Cannot convert the value of property '%s' to a collection of Edm.String.", name)
		}
		if p.maxN > 0 && len(vs) > p.maxN {
			return nil, invalid(fmt.Sprintf("At most %d value(s) can be set.", p.maxN))
		}
		for _, v := range vs {
			if p.maxLen > 0 && utf8.RuneCountInString(v) > p.maxLen {
				return nil, invalid(fmt.Sprintf("A value is longer than %d characters.", p.maxLen))
			}
		}
		return vs, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		kind := "Edm.String"
		if p.date {
			kind = "Edm.DateTimeOffset"
		}
		return nil, errBadRequest("BadRequest", "Cannot convert the literal '%s' to the expected type '%s'.", bytes.TrimSpace(raw), kind)
	}
	switch {
	case p.maxLen > 0 && utf8.RuneCountInString(v) > p.maxLen:
		return nil, invalid(fmt.Sprintf("The value is longer than %d characters.", p.maxLen))
	case p.re != nil && !p.re.MatchString(v):
		return nil, invalid("The value is not of the form the property requires.")
	case p.enum != nil && !slices.Contains(p.enum, v):
		return nil, invalid("The value is not one of the property's values.")
	case p.date:
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return nil, errBadRequest("BadRequest", "Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset'.", v)
		}
	}
	return v, nil
}

// applyProfile writes checked profile properties to the user; null (or an
// empty collection) clears one.
func (u *user) applyProfile(profile map[string]any) {
	for name, v := range profile {
		if u.Profile == nil {
			u.Profile = map[string]any{}
		}
		switch x := v.(type) {
		case nil:
			delete(u.Profile, name)
		case []string:
			if len(x) == 0 {
				delete(u.Profile, name)
			} else {
				u.Profile[name] = x
			}
		default:
			u.Profile[name] = x
		}
	}
	if len(u.Profile) == 0 {
		u.Profile = nil
	}
}

// profileValue is a profile property as Graph returns it: its value, or
// null ([] for a collection) when not set.
func (u *user) profileValue(name string) any {
	if v, ok := u.Profile[name]; ok {
		if vs, ok := v.([]any); ok { // as read back from a state file
			return vs
		}
		return v
	}
	if profileProperties[name].list {
		return []any{}
	}
	return nil
}
