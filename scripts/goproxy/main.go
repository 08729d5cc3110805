// Command goproxy writes one version of a Go module into a directory laid out
// as a module proxy (the GOPROXY protocol, served from file://): @v/list,
// <version>.info, .mod and .zip. The zip is made by golang.org/x/mod/zip, the
// code the go command uses, so it holds the files a tag of the repository
// would (no submodules, no vendor/) and verifies against the go.sum a user
// records. It prints the zip's h1: hash, what go.sum and sum.golang.org hold
// for the version.
//
//	go run ./scripts/goproxy -dir clients/go -version v1.0.0 -time 2026-12-07T00:00:00Z -out dist/go
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

func main() {
	dir := flag.String("dir", "", "the module's root directory (holds go.mod)")
	version := flag.String("version", "", "the version to write, vX.Y.Z")
	stamp := flag.String("time", "", "the version's time, RFC 3339 (the commit's time)")
	out := flag.String("out", "", "the proxy's root directory")
	flag.Parse()
	if err := write(*dir, *version, *stamp, *out); err != nil {
		fmt.Fprintf(os.Stderr, "goproxy: %v\n", err)
		os.Exit(1)
	}
}

func write(dir, version, stamp, out string) error {
	if dir == "" || version == "" || stamp == "" || out == "" {
		return fmt.Errorf("-dir, -version, -time and -out are required")
	}
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return fmt.Errorf("-time: %w", err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	path := modfile.ModulePath(gomod)
	mv := module.Version{Path: path, Version: version}
	// Checks the version is canonical semver and fits the path's major version.
	if err := module.Check(path, version); err != nil {
		return err
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(vdir, version)
	info, err := json.Marshal(struct {
		Version string
		Time    string
	}{version, at.UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".mod", gomod, 0o644); err != nil {
		return err
	}
	if err := writeZip(base+".zip", mv, dir); err != nil {
		return err
	}
	if err := writeList(vdir); err != nil {
		return err
	}
	hash, err := dirhash.HashZip(base+".zip", dirhash.Hash1)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s %s\n", path, version, hash)
	return nil
}

// writeZip writes the module zip through a temporary file, so an interrupted
// run never leaves a truncated zip where the go command would read it.
func writeZip(name string, mv module.Version, dir string) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".zip-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := zip.CreateFromDir(tmp, mv, dir); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if _, err := zip.CheckZip(mv, tmp.Name()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// writeList lists every version that has an .info file, in semver order, so
// versions written by earlier runs stay listed.
func writeList(vdir string) error {
	infos, err := filepath.Glob(filepath.Join(vdir, "*.info"))
	if err != nil {
		return err
	}
	var versions []string
	for _, f := range infos {
		versions = append(versions, strings.TrimSuffix(filepath.Base(f), ".info"))
	}
	slices.SortFunc(versions, semver.Compare)
	return os.WriteFile(filepath.Join(vdir, "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}
