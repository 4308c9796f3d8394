package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/whatif"
)

// runExport is 'mgmtsession export --out FILE' (SPEC 5.3): the snapshot
// that whatif --snapshot evaluates offline, on a host with no network.
func runExport(ctx context.Context, args []string, s Streams) error {
	var g globals
	fset := flag.NewFlagSet("mgmtsession export", flag.ContinueOnError)
	g.register(fset)
	out := fset.String("out", "", "the snapshot FILE to write (required)")
	force := fset.Bool("force", false, "replace FILE if it exists")
	if err := parse(fset, args, s); err != nil {
		return err
	}
	if *out == "" {
		return usagef("missing --out FILE (where to write the snapshot)")
	}
	// Refuse early, before signing in, what the write would refuse.
	if _, err := os.Lstat(*out); err == nil && !*force {
		return usagef("--out %s already exists; add --force to replace it", *out)
	}
	if fi, err := os.Stat(filepath.Dir(*out)); err != nil || !fi.IsDir() {
		return usagef("--out %s: the folder %s does not exist", *out, filepath.Dir(*out))
	}

	env, err := openEnv(g)
	if err != nil {
		return err
	}
	defer env.Close()
	client, sess, err := signInQuietly(ctx, env, s)
	if err != nil {
		return err
	}
	res, err := whatif.Export(ctx, client, sess, preflight.AccountPrefixes)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(res.Snapshot, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(*out, append(data, '\n'), *force); err != nil {
		return err
	}
	for _, n := range res.Notes {
		fmt.Fprintln(s.Err, "note:", safe.Text(n))
	}
	snap := res.Snapshot
	if g.json {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"file": *out, "tenantId": snap.TenantID, "policies": len(snap.Policies),
			"namedLocations": len(snap.NamedLocations), "principals": len(snap.Principals),
			"notes": nonNilStrings(res.Notes),
		})
	}
	fmt.Fprintf(s.Out, "Wrote %s: tenant %s, %d policies, %d named locations, %d principals.\n",
		*out, safe.Text(snap.TenantID), len(snap.Policies), len(snap.NamedLocations), len(snap.Principals))
	fmt.Fprintf(s.Out, "Evaluate it offline: mgmtsession whatif --snapshot %s --new-account --ip ADDRESS --country CC\n", *out)
	return nil
}

// writeFileAtomic writes data to a temporary file beside path (mode 0600:
// the snapshot names the tenant's accounts) and moves it into place, so a
// reader never sees half a file. Without replace, an existing file is never
// overwritten, even one created while the export ran.
func writeFileAtomic(path string, data []byte, replace bool) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mgmtsession-export-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if replace {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}
	// A hard link fails when path exists: no window in which a file that
	// appeared meanwhile is replaced.
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		os.Remove(tmp.Name())
		return nil
	case errors.Is(err, fs.ErrExist):
		return usagef("--out %s already exists; add --force to replace it", path)
	}
	// The file system has no hard links: check, then rename.
	if _, err := os.Lstat(path); err == nil {
		return usagef("--out %s already exists; add --force to replace it", path)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
