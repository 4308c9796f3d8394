package graph

import (
	"context"
	"encoding/json"
	"fmt"
)

// The offline snapshot (SPEC 5.3) holds policies and named locations exactly
// as Graph v1.0 returns them. Policies and NamedLocations decode into the
// domain types, which keep only the properties the product models (and drop
// false values of the other kind of location), so the export reads the same
// collections as raw JSON instead: every property Graph sent survives, in
// Graph's own form.

// RawPolicies lists every Conditional Access policy as the JSON objects
// Graph returned (one CA request per page).
func (c *Client) RawPolicies(ctx context.Context) ([]json.RawMessage, error) {
	return c.rawList(ctx, "reading Conditional Access policies", policiesPath)
}

// RawNamedLocations lists every named location as the JSON objects Graph
// returned, @odata.type included.
func (c *Client) RawNamedLocations(ctx context.Context) ([]json.RawMessage, error) {
	return c.rawList(ctx, "reading named locations", locationsPath)
}

// rawList reads a whole collection as raw JSON objects, following
// @odata.nextLink.
func (c *Client) rawList(ctx context.Context, op, path string) ([]json.RawMessage, error) {
	items, err := listJSON[json.RawMessage](ctx, c, op, path, nil)
	if err != nil {
		return nil, err
	}
	for i, item := range items {
		if len(item) == 0 || item[0] != '{' {
			return nil, fmt.Errorf("%s: item %d is not a JSON object", op, i)
		}
	}
	return items, nil
}
