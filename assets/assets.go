// Package assets embeds the data of the simulated tenant: the realistic demo
// tenant and the named scenarios that vary it.
package assets

import _ "embed"

// DemoTenant is the simulated tenant's starting state (graph/tenantsim reads
// it; its shape is tenantsim's state file).
//
//go:embed demo-tenant.json
var DemoTenant []byte

// Scenarios maps each --demo-scenario name to the changes it makes to the
// demo tenant.
//
//go:embed scenarios.json
var Scenarios []byte

// RoleDefinitions lists the built-in directory roles the simulated tenant
// knows (template id, name).
//
//go:embed role-definitions.json
var RoleDefinitions []byte
