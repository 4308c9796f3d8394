package steps

import (
	"net/netip"

	"mgmtsession/whatif"
)

// WhatIfResult is the What If step's "before" picture: the matrix of the
// account's sign-ins, the sweep's headlines, and Graph's own verdicts when
// the account exists.
type WhatIfResult struct {
	Outside netip.Addr
	Matrix  *whatif.Matrix
}
