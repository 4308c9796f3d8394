package graph

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// maxReplicationPause caps the backoff between replication retries.
const maxReplicationPause = 10 * time.Second

// replicated runs fn, retrying with capped exponential backoff while Graph
// answers the way it does for an object created moments ago that has not
// reached every replica (404, or 400 "Not a valid reference update"). The
// SDK's own retry covers 429/503/504; this covers what it cannot know.
func (c *Client) replicated(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(c.replWait)
	pause := c.replPause
	for {
		err := fn()
		if err == nil || !isReplicationLag(err) {
			return err
		}
		if time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("%w: %w", ErrReplicationTimeout, err)
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(pause*2, maxReplicationPause)
	}
}

// WaitUntil reads back until check reports the write visible on several
// consecutive reads (a single good read can come from a replica that is
// ahead of the others), or the replication deadline passes. A read that
// fails with replication lag counts as "not yet".
func (c *Client) WaitUntil(ctx context.Context, what string, consecutive int, check func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(c.replWait)
	good := 0
	for {
		ok, err := check(ctx)
		switch {
		case err != nil && !isReplicationLag(err):
			return err
		case ok:
			good++
			if good >= consecutive {
				return nil
			}
		default:
			good = 0
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w", what, ErrReplicationTimeout)
		}
		pause := c.replPause
		if ok {
			pause = c.replPause / 4 // confirming reads need not wait long
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
