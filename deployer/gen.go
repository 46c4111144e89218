package deployer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Defaults of GenConfig.
const (
	DefaultTemplateName = "service.json"
	DefaultOutDir       = "service-defs"
)

// GenConfig configures Gen, the port of gen-service-defs.sh.
type GenConfig struct {
	// Branch, Commit and Build make the version Branch-Commit-Build (CI's
	// CI_BRANCH, CI_COMMIT, CI_BUILD_NUMBER); each is required unless Tag
	// is set.
	Branch, Commit, Build string
	// Tag replaces the computed version when set.
	Tag string
	// Targets are the directories holding a template; default ".".
	Targets []string
	// TemplateName is the template's file name in each target; default
	// DefaultTemplateName.
	TemplateName string
	// OutDir receives <target>/service-<branch>.json and
	// <target>/service-<version>.json; default DefaultOutDir.
	OutDir string
	// NoCheck skips rendering each definition with sample values
	// (environment "staging", 1 instance) and checking it as the
	// scheduler would, which catches broken templates at build time.
	NoCheck bool
	// Out receives a line per file written; nil discards them.
	Out io.Writer
}

// Validate reports whether the configuration is usable.
func (c GenConfig) Validate() error {
	if c.Tag != "" {
		return nil
	}
	var missing []string
	for _, f := range []struct{ v, name string }{{c.Branch, "branch (CI_BRANCH)"}, {c.Commit, "commit (CI_COMMIT)"}, {c.Build, "build number (CI_BUILD_NUMBER)"}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("gen: %s required, or a tag", strings.Join(missing, ", "))
	}
	return nil
}

// Version is the tag Gen renders: Tag, else Branch-Commit-Build, with
// characters a Docker tag cannot hold replaced by "-"
// (feature/x → feature-x).
func (c GenConfig) Version() string {
	if c.Tag != "" {
		return c.Tag
	}
	return sanitize(c.Branch) + "-" + sanitize(c.Commit) + "-" + sanitize(c.Build)
}

// GenFile is one definition Gen wrote.
type GenFile struct {
	Template string
	Paths    []string // service-<branch>.json, service-<version>.json
}

// Gen renders $tag into every target's template, leaving $environment
// and $instances for deploy time, and writes
// <OutDir>/<target>/service-<branch>.json and
// <OutDir>/<target>/service-<version>.json, as gen-service-defs.sh did.
// With Tag and no Branch, only service-<tag>.json is written.
func Gen(cfg GenConfig) ([]GenFile, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Targets) == 0 {
		cfg.Targets = []string{"."}
	}
	if cfg.TemplateName == "" {
		cfg.TemplateName = DefaultTemplateName
	}
	if cfg.OutDir == "" {
		cfg.OutDir = DefaultOutDir
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	version := cfg.Version()
	names := []string{"service-" + version + ".json"}
	if cfg.Branch != "" {
		names = []string{"service-" + sanitize(cfg.Branch) + ".json", names[0]}
	}
	var out []GenFile
	var errs []error
	for _, t := range cfg.Targets {
		f, err := genTarget(cfg, t, version, names)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, f)
	}
	return out, errors.Join(errs...)
}

func genTarget(cfg GenConfig, target, version string, names []string) (GenFile, error) {
	src := filepath.Join(target, cfg.TemplateName)
	tmpl, err := os.ReadFile(src)
	if err != nil {
		return GenFile{}, fmt.Errorf("gen: %w", err)
	}
	rendered := Render(tmpl, map[string]string{PlaceholderTag: version})
	if !cfg.NoCheck {
		sample := map[string]string{PlaceholderTag: version, PlaceholderEnvironment: "staging", PlaceholderInstances: "1"}
		if _, err := PrepareText(src, tmpl, sample); err != nil {
			return GenFile{}, fmt.Errorf("gen: check with environment staging and 1 instance: %w", err)
		}
	}
	dir := filepath.Join(cfg.OutDir, target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return GenFile{}, fmt.Errorf("gen: %w", err)
	}
	fmt.Fprintf(cfg.Out, "stadion deploy gen: setting version %s in %s\n", version, src)
	f := GenFile{Template: src}
	for _, name := range names {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, rendered, 0o644); err != nil {
			return GenFile{}, fmt.Errorf("gen: %w", err)
		}
		fmt.Fprintf(cfg.Out, "stadion deploy gen: wrote %s\n", p)
		f.Paths = append(f.Paths, p)
	}
	return f, nil
}

// sanitize replaces what a Docker tag or a file name cannot hold by "-".
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, s)
}
