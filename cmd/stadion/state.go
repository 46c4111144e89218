package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/boltstore"
	"github.com/stadionhq/stadion/internal/state/zkstore"
	"github.com/stadionhq/stadion/internal/zk"
)

const stateCheckAbout = `Verify the state of a stopped (bbolt) or running (ZooKeeper) scheduler
offline: the bbolt file's consistency, that every record decodes (every
version of every app and group), and that references hold: instances of
unknown apps, running deployments targeting unknown apps, groups naming app
versions that are not stored. Prints what it found; exits 0 when all is
well, 1 when something is wrong (or the state cannot be read), 2 on bad
flags. The state is opened read-only; nothing is written.`

const stateExportAbout = `Dump the whole state as JSON on stdout, for recovery: the framework id,
every app with all its stored versions, groups with theirs, instances,
deployments, and the records that cannot be decoded (set aside) with their
raw bytes. The output holds the apps' environment and labels as stored:
keep it where the state itself would be kept. The state is opened
read-only; nothing is written.`

// stateConfig is the parsed command line of `stadion state check|export`.
type stateConfig struct {
	dataDir          string
	zk               string
	zkSessionTimeout time.Duration
	zkTimeout        time.Duration
}

// lockTimeout bounds the wait for a bbolt file held by a running server.
const lockTimeout = time.Second

// stateFlags registers the flags both state commands share, with serve's
// names and MARATHON_ environment variables.
func stateFlags(name, about string, args []string, stderr io.Writer) (stateConfig, int, bool) {
	fs := newFlagSet(name, "", about, stderr)
	var c stateConfig
	f := newEnvFlags(fs, "MARATHON_")
	f.String(&c.dataDir, "data_dir", "./data", "directory of the bbolt state store (stadion.db) of stadion serve")
	f.String(&c.zk, "zk", "", "ZooKeeper URL zk://host:port[,host:port]/path of the state to read instead of --data_dir")
	f.Millis(&c.zkSessionTimeout, "zk_session_timeout", 10*time.Second, "ZooKeeper session timeout,")
	f.Millis(&c.zkTimeout, "zk_timeout", 10*time.Second, "timeout of ZooKeeper operations,")
	if code, done := parse(fs, args); done {
		return c, code, true
	}
	if err := f.Err(); err != nil {
		fmt.Fprintf(stderr, "stadion %s: %v\n", name, err)
		return c, exitUsage, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stadion %s: unexpected arguments %q\n", name, fs.Args())
		return c, exitUsage, true
	}
	return c, exitOK, false
}

// source names the state a command reads.
func (c stateConfig) source() string {
	if c.zk != "" {
		return c.zk
	}
	return filepath.Join(c.dataDir, "stadion.db")
}

// rawStore is a store that reads the bytes of the records it sets aside.
type rawStore interface {
	state.Store
	Raw(ctx context.Context, r state.SetAside) ([]byte, error)
}

var (
	_ rawStore = (*boltstore.Store)(nil)
	_ rawStore = (*zkstore.Store)(nil)
)

// openStateStore opens the state read-only (bbolt) or without creating
// anything (ZooKeeper).
func openStateStore(ctx context.Context, c stateConfig, log *slog.Logger) (rawStore, error) {
	if c.zk == "" {
		return boltstore.Open(boltstore.Config{Path: c.source(), ReadOnly: true, Timeout: lockTimeout, Logger: log})
	}
	servers, root, err := zk.ParseURL(c.zk)
	if err != nil {
		return nil, fmt.Errorf("--zk: %w", err)
	}
	return zkstore.Open(ctx, zkstore.Config{
		Servers: servers, Root: root, SessionTimeout: c.zkSessionTimeout, OperationTimeout: c.zkTimeout,
		Existing: true, Logger: log,
	})
}

func runStateCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, code, done := stateFlags("state check", stateCheckAbout, args, stderr)
	if done {
		return code
	}
	problems, summary, err := checkState(ctx, c, newLogger(stderr, slog.LevelError))
	fmt.Fprintf(stdout, "state: %s\n", zk.RedactURL(c.source()))
	if summary != "" {
		fmt.Fprintln(stdout, summary)
	}
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) == 0 {
		fmt.Fprintln(stdout, "ok: no problems found")
		return exitOK
	}
	fmt.Fprintf(stdout, "%d problem(s):\n", len(problems))
	for _, p := range problems {
		fmt.Fprintln(stdout, "  -", p)
	}
	return exitError
}

// checkState runs the checks; err is for a state that cannot be read at
// all (a damaged file, no state at the URL).
func checkState(ctx context.Context, c stateConfig, log *slog.Logger) (problems []string, summary string, err error) {
	if c.zk == "" {
		if err := boltstore.Check(c.source(), lockTimeout); err != nil {
			return nil, "", err
		}
	}
	st, err := openStateStore(ctx, c, log)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	d, err := dumpState(ctx, st)
	if err != nil {
		return nil, "", err
	}
	for _, r := range d.SetAside {
		problems = append(problems, "cannot decode "+r.String())
	}
	versions := map[string]bool{}
	for _, a := range d.Apps {
		for _, v := range a.Versions {
			versions[a.ID+"@"+v] = true
		}
	}
	refs, err := state.CheckReferences(d.snap, func(id marathon.PathID, v marathon.Timestamp) (bool, error) {
		return versions[string(id)+"@"+v.String()], nil
	})
	if err != nil {
		return nil, "", err
	}
	problems = append(problems, refs...)
	summary = fmt.Sprintf("framework id %q; %d apps (%d versions), %d groups, %d instances, %d deployments, %d records set aside",
		d.FrameworkID, len(d.Apps), len(versions), len(d.Groups), len(d.Instances), len(d.Deployments), len(d.SetAside))
	return problems, summary, nil
}

func runStateExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, code, done := stateFlags("state export", stateExportAbout, args, stderr)
	if done {
		return code
	}
	st, err := openStateStore(ctx, c, newLogger(stderr, slog.LevelError))
	if err != nil {
		fmt.Fprintln(stderr, "stadion state export:", err)
		return exitError
	}
	defer st.Close()
	d, err := dumpState(ctx, st)
	if err != nil {
		fmt.Fprintln(stderr, "stadion state export:", err)
		return exitError
	}
	d.Source = zk.RedactURL(c.source())
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		fmt.Fprintln(stderr, "stadion state export:", err)
		return exitError
	}
	if len(d.SetAside) > 0 {
		fmt.Fprintf(stderr, "stadion state export: %d records set aside, exported raw\n", len(d.SetAside))
	}
	return exitOK
}

// dump is the JSON of `stadion state export`.
type dump struct {
	Source      string             `json:"source,omitempty"`
	FrameworkID string             `json:"frameworkId"`
	Apps        []versioned        `json:"apps"`
	Pods        []versioned        `json:"pods"`
	Groups      []versioned        `json:"groups"`
	Instances   []state.Instance   `json:"instances"`
	Deployments []state.Deployment `json:"deployments"`
	SetAside    []setAsideRecord   `json:"setAside"`

	snap state.Snapshot
}

// versioned is an app or a group with every stored version that decodes,
// oldest first; Versions lists their versions.
type versioned struct {
	ID       string            `json:"id"`
	Current  string            `json:"current,omitempty"`
	Versions []string          `json:"versions"`
	Records  []json.RawMessage `json:"records"`
}

// setAsideRecord is a record that cannot be decoded, with its bytes: Raw
// when they are text, RawBase64 otherwise.
type setAsideRecord struct {
	state.SetAside
	Raw       *string `json:"raw,omitempty"`
	RawBase64 string  `json:"rawBase64,omitempty"`
}

// dumpState reads everything st holds.
func dumpState(ctx context.Context, st rawStore) (*dump, error) {
	snap, err := st.Load(ctx)
	if err != nil {
		return nil, err
	}
	d := &dump{
		FrameworkID: snap.FrameworkID, Instances: snap.Instances, Deployments: snap.Deployments,
		Apps: []versioned{}, Pods: []versioned{}, Groups: []versioned{}, SetAside: []setAsideRecord{}, snap: snap,
	}
	if d.Instances == nil {
		d.Instances = []state.Instance{}
	}
	if d.Deployments == nil {
		d.Deployments = []state.Deployment{}
	}
	set := snap.SetAside
	// The ids to walk: those loaded and those whose current version was
	// set aside (their other versions may decode).
	var appIDs, podIDs, groupIDs []string
	current := map[string]string{}
	for _, a := range snap.Apps {
		appIDs = append(appIDs, string(a.ID))
		current["app "+string(a.ID)] = a.Version.String()
	}
	for _, p := range snap.Pods {
		podIDs = append(podIDs, string(p.ID))
		current["pod "+string(p.ID)] = p.Version.String()
	}
	for _, g := range snap.Groups {
		groupIDs = append(groupIDs, string(g.ID))
		current["group "+string(g.ID)] = g.Version.String()
	}
	for _, r := range snap.SetAside {
		switch r.Kind {
		case state.KindApp:
			appIDs = append(appIDs, r.ID)
		case state.KindPod:
			podIDs = append(podIDs, r.ID)
		case state.KindGroup:
			groupIDs = append(groupIDs, r.ID)
		}
	}
	for _, id := range appIDs {
		v, bad, err := readVersions(ctx, id, current["app "+id], st.AppVersions, func(ctx context.Context, id marathon.PathID, ts marathon.Timestamp) ([]byte, error) {
			a, ok, err := st.AppVersion(ctx, id, ts)
			if err != nil || !ok {
				return nil, err
			}
			return marathon.CanonicalJSON(a)
		})
		if err != nil {
			return nil, err
		}
		set = appendNew(set, bad...)
		if len(v.Versions) > 0 {
			d.Apps = append(d.Apps, v)
		}
	}
	for _, id := range podIDs {
		v, bad, err := readVersions(ctx, id, current["pod "+id], st.PodVersions, func(ctx context.Context, id marathon.PathID, ts marathon.Timestamp) ([]byte, error) {
			p, ok, err := st.PodVersion(ctx, id, ts)
			if err != nil || !ok {
				return nil, err
			}
			return json.Marshal(p)
		})
		if err != nil {
			return nil, err
		}
		set = appendNew(set, bad...)
		if len(v.Versions) > 0 {
			d.Pods = append(d.Pods, v)
		}
	}
	for _, id := range groupIDs {
		v, bad, err := readVersions(ctx, id, current["group "+id], st.GroupVersions, func(ctx context.Context, id marathon.PathID, ts marathon.Timestamp) ([]byte, error) {
			g, ok, err := st.GroupVersion(ctx, id, ts)
			if err != nil || !ok {
				return nil, err
			}
			return json.Marshal(g)
		})
		if err != nil {
			return nil, err
		}
		set = appendNew(set, bad...)
		if len(v.Versions) > 0 {
			d.Groups = append(d.Groups, v)
		}
	}
	for _, r := range set {
		raw, err := st.Raw(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("read set-aside %s: %w", r, err)
		}
		rec := setAsideRecord{SetAside: r}
		if utf8.Valid(raw) {
			s := string(raw)
			rec.Raw = &s
		} else {
			rec.RawBase64 = base64.StdEncoding.EncodeToString(raw)
		}
		d.SetAside = append(d.SetAside, rec)
	}
	return d, nil
}

// readVersions reads every stored version of an app or group; those that
// do not decode are returned as set aside.
func readVersions(ctx context.Context, id, current string,
	list func(context.Context, marathon.PathID) ([]marathon.Timestamp, error),
	read func(context.Context, marathon.PathID, marathon.Timestamp) ([]byte, error),
) (versioned, []state.SetAside, error) {
	v := versioned{ID: id, Current: current, Versions: []string{}, Records: []json.RawMessage{}}
	versions, err := list(ctx, marathon.PathID(id))
	if err != nil {
		return v, nil, err
	}
	var bad []state.SetAside
	for _, ts := range versions {
		data, err := read(ctx, marathon.PathID(id), ts)
		var de *state.DecodeError
		if errors.As(err, &de) {
			bad = append(bad, de.Record)
			continue
		}
		if err != nil {
			return v, nil, err
		}
		if data == nil {
			continue
		}
		v.Versions = append(v.Versions, ts.String())
		v.Records = append(v.Records, data)
	}
	return v, bad, nil
}

// appendNew appends the records not yet listed (Load already set aside a
// current version that does not decode).
func appendNew(list []state.SetAside, rs ...state.SetAside) []state.SetAside {
	for _, r := range rs {
		dup := false
		for _, o := range list {
			if o.Kind == r.Kind && o.ID == r.ID && o.Version == r.Version {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, r)
		}
	}
	return list
}
