package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"mgmtsession/preflight"
	"mgmtsession/safe"
	"mgmtsession/whatif"
)

type exportOptions struct {
	out   string
	force bool
}

func exportCmd(f *factory) *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:     "export --out FILE",
		Short:   "Write a tenant snapshot for offline What If",
		Long:    "Reads the Conditional Access policies, named locations and the accounts they name, and writes them to FILE (mode 0600) for 'mgmtsession whatif --snapshot FILE' on a host with no network.",
		GroupID: groupReadOnly,
		Args:    noArgs,
		Example: `  mgmtsession export --demo --out /tmp/snap.json --force
  mgmtsession export --tenant contoso.onmicrosoft.com --out contoso.json
  mgmtsession whatif --snapshot contoso.json --new-account \
    --ip 20.190.128.5 --country US`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExport(cmd.Context(), f, o) },
	}
	cmd.Flags().StringVar(&o.out, "out", "", "the snapshot FILE to write (required)")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace FILE if it exists")
	return cmd
}

// runExport is 'mgmtsession export --out FILE' (SPEC 5.3): the snapshot
// that whatif --snapshot evaluates offline, on a host with no network.
func runExport(ctx context.Context, f *factory, o exportOptions) error {
	out, force := &o.out, &o.force
	if *out == "" {
		return usagef("missing --out FILE (where to write the snapshot)")
	}
	// Refuse early, before signing in, what the write would refuse.
	exists, err := checkReplaceable(*out)
	if err != nil {
		return err
	}
	if exists && !*force {
		return usagef("--out %s already exists; add --force to replace it", *out)
	}
	if fi, err := os.Stat(filepath.Dir(*out)); err != nil || !fi.IsDir() {
		return usagef("--out %s: the folder %s does not exist", *out, filepath.Dir(*out))
	}

	t, err := f.signIn(ctx)
	if err != nil {
		return err
	}
	defer t.Close()
	res, err := whatif.Export(ctx, t.client, t.sess, preflight.AccountPrefixes)
	if err != nil {
		return err
	}
	var data bytes.Buffer
	if err := writeJSON(&data, res.Snapshot); err != nil {
		return err
	}
	if err := writeFileAtomic(*out, data.Bytes(), *force); err != nil {
		return err
	}
	for _, n := range res.Notes {
		fmt.Fprintln(f.streams.Err, "note:", safe.Text(n))
	}
	snap := res.Snapshot
	if f.g.json {
		return writeJSON(f.streams.Out, map[string]any{
			"file": *out, "tenantId": snap.TenantID, "policies": len(snap.Policies),
			"namedLocations": len(snap.NamedLocations), "principals": len(snap.Principals),
			"notes": nonNilStrings(res.Notes),
		})
	}
	// The path is the operator's, but a name can hold any byte but "/" and
	// NUL: it is shown as safely as a tenant's strings.
	fmt.Fprintf(f.streams.Out, "Wrote %s: tenant %s, %d policies, %d named locations, %d principals.\n",
		safe.Text(*out), safe.Text(snap.TenantID), len(snap.Policies), len(snap.NamedLocations), len(snap.Principals))
	fmt.Fprintf(f.streams.Out, "Evaluate it offline: mgmtsession whatif --snapshot %s --new-account --ip ADDRESS --country CC\n", safe.Text(*out))
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
		// Checked again at the last moment: what is at path may have
		// changed while the tenant was read.
		if _, err := checkReplaceable(path); err != nil {
			return err
		}
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
		if _, err := checkReplaceable(path); err != nil {
			return err
		}
		return usagef("--out %s already exists; add --force to replace it", path)
	}
	// The file system has no hard links: check, then rename.
	switch exists, err := checkReplaceable(path); {
	case err != nil:
		return err
	case exists:
		return usagef("--out %s already exists; add --force to replace it", path)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// checkReplaceable reports whether something is at path, and refuses what
// export must never replace: a rename would put the snapshot in place of a
// symbolic link, a device node or a FIFO as readily as of a file, and
// --force is no answer to a directory.
func checkReplaceable(path string) (exists bool, err error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return false, usagef("--out %s: %v", path, err)
	case fi.IsDir():
		return true, usagef("--out %s is a directory; give the path of the file to write, such as %s", path, filepath.Join(path, "snapshot.json"))
	case !fi.Mode().IsRegular():
		return true, usagef("--out %s is %s; export writes or replaces only a regular file", path, kindOf(fi.Mode()))
	}
	return true, nil
}
