package whatif

import (
	"fmt"
	"strings"
)

// Role is a built-in directory role. Conditional Access targets roles by
// template id, and a built-in role's template id is the same in every tenant.
type Role struct {
	Name       string
	TemplateID string
}

// builtInRoles are the roles --roles accepts by name, with the template ids
// of Microsoft's "Microsoft Entra built-in roles" reference
// (entra-docs permissions-reference.md). A role not listed is given by its
// template id, which is accepted as is.
var builtInRoles = []Role{
	{"Global Administrator", "62e90394-69f5-4237-9190-012177145e10"},
	{"Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"},
	{"Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"},
	{"Exchange Recipient Administrator", "31392ffb-586c-42d1-9346-e59415a2cc4e"},
	{"Teams Administrator", "69091246-20e8-4a56-aa4d-066075b2a7a8"},
	{"User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"},
	{"Authentication Administrator", "c4e39bd9-1100-46d3-8c65-fb160da0071f"},
	{"SharePoint Administrator", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"},
	{"Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"},
	{"Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"},
	{"Conditional Access Administrator", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"},
	{"Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d"},
	{"Security Operator", "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f"},
	{"Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509"},
	{"Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8"},
	{"Password Administrator", "966707d0-3269-4727-9be2-8c3a10f19b9d"},
	{"Billing Administrator", "b0f54661-2d74-4c50-afa3-1ec803f12efe"},
	{"License Administrator", "4d6ac14f-3453-41d0-bef9-a3e0c569773a"},
	{"Groups Administrator", "fdd7a751-b60b-444a-984c-02652fe8fa1c"},
	{"Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"},
	{"Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7"},
	{"Cloud Device Administrator", "7698a772-787b-4ac8-901f-60d6b08affd2"},
	{"Intune Administrator", "3a2c62db-5318-420d-8d74-23affee5d9d5"},
	{"Compliance Administrator", "17315797-102d-40b4-93e0-432062caca18"},
	{"Hybrid Identity Administrator", "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"},
	{"Authentication Policy Administrator", "0526716b-113d-4c15-b2c8-68e3c22b9f80"},
	{"Power Platform Administrator", "11648597-926c-4cf3-9c36-bcebb0ba8dcc"},
	{"Service Support Administrator", "f023fd81-a637-4b56-95fd-791ac0226033"},
	{"Reports Reader", "4a5d8f65-41da-4de4-8968-e035b65339cf"},
	{"Directory Readers", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"},
	{"Directory Writers", "9360feb5-f418-4baa-8175-e2a00bac4301"},
}

// DefaultRoles are the template ids of the management platform's
// least-privilege role set (GRAPH-NOTES section 6): the roles the account
// gets when it is created, and so the roles a hypothetical account has.
func DefaultRoles() []string {
	return []string{
		"f2ef992c-3afb-46b9-b7cf-a126ee74c451", // Global Reader
		"29232cdf-9323-42fd-ade2-1d097af3e4de", // Exchange Administrator
		"69091246-20e8-4a56-aa4d-066075b2a7a8", // Teams Administrator
		"fe930be7-5e62-47db-91af-98c3a49a38b1", // User Administrator
		"c4e39bd9-1100-46d3-8c65-fb160da0071f", // Authentication Administrator
		"f28a1f50-f6e7-4571-818b-6a12f2af6b6c", // SharePoint Administrator
	}
}

// RoleName is the display name of a built-in role's template id, or the id
// itself when the role is not in the built-in list.
func RoleName(templateID string) string {
	for _, r := range builtInRoles {
		if strings.EqualFold(r.TemplateID, templateID) {
			return r.Name
		}
	}
	return templateID
}

// ResolveRoles turns role display names (any case, e.g. "exchange
// administrator") and template ids into template ids, without duplicates.
// An unknown name is an error naming it.
func ResolveRoles(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		id := ""
		if IsGUID(n) {
			id = strings.ToLower(n)
		} else {
			for _, r := range builtInRoles {
				if strings.EqualFold(r.Name, n) {
					id = r.TemplateID
				}
			}
		}
		if id == "" {
			return nil, fmt.Errorf("unknown role %q (give a built-in role's display name, such as \"Exchange Administrator\", or its template id)", n)
		}
		if !containsFold(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// ParseGroupIDs checks that every group is given by object id (a GUID), as
// Conditional Access names groups.
func ParseGroupIDs(ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !IsGUID(id) {
			return nil, fmt.Errorf("group %q is not an object id (a GUID such as 9b8a7c6d-0001-4000-8000-0000000000a1)", id)
		}
		if !containsFold(out, id) {
			out = append(out, strings.ToLower(id))
		}
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
