package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/deployer"
	"github.com/stadionhq/stadion/internal/clientauth"
)

// Exit codes of stadion deploy, beyond exitOK, exitError and exitUsage.
const (
	// exitRolledBack: the deployment failed or timed out and the previous
	// version runs again (a new app was removed), rolled back by stadion
	// deploy or by the scheduler's progress deadline.
	exitRolledBack = 3
	// exitRollbackFailed: the deployment failed and so did the rollback;
	// the app needs a person.
	exitRollbackFailed = 4
	// exitNotRolledBack: the deployment failed and was left as it is
	// (--rollback=false, or a later deployment changed the app).
	exitNotRolledBack = 5
)

// mesosZKFile is where the original script read the Mesos ZooKeeper URL.
const mesosZKFile = "/etc/mesos/zk"

const deployAbout = `Render a service.json template and put it live: the CI step of
marathon-deploy.sh. The template comes from an http(s):// URL, a file:// URL
or a path; $environment, $instances (default 1) and, with --tag, $tag are
substituted as text, then the definition is checked with the scheduler's own
validator (errors give line and column). stadion deploy creates the app
(POST /v2/apps) or, when it exists (409), replaces its definition (PUT
/v2/apps/{id}?partialUpdate=false), waits for the deployment with progress and,
when it fails or does not finish within --timeout, rolls back to the previous
version (DELETE /v2/deployments/{id} while it runs, else the previous version
PUT back) and exits non-zero. --dry-run prints the rendered definition and its
diff against the running version and changes nothing. A deployment that holds
the app makes the update fail with 409 unless --queue (wait behind it; the
wait counts in --timeout) or --force (cancel it).

Marathon's HTTP Basic credentials come from --marathon-credentials-file, else
MARATHON_CREDENTIALS (user:password), else user:password@ in --marathon; they
go to Marathon's URL only (a redirect elsewhere is followed without them) and
are never printed. --marathon-cacert trusts a private CA for https.

Marathon is --marathon (MARATHON_URL), else found from the leading Mesos master
in ZooKeeper: --zk (MESOS_ZK), else the contents of /etc/mesos/zk, as the
original did with mesos-resolve. The master's state gives the webui_url of the
framework named --framework-name; without one, the leader's host on port 8080.

stadion deploy gen [flags] [target-dir...] writes the per-build definitions
(gen-service-defs.sh); see stadion deploy gen --help.

Extra arguments after [instances] are ignored with a warning, as the
original ignored them. On success the original's last line is printed too:
"Successfully created new app" or "Successfully updated app". docs/deploy.md
lists where the exit codes differ from the original's.

Exit codes:
  0  deployed (or --wait=false and accepted; --dry-run done)
  1  error: template, validation, Marathon's answer, network
  2  usage
  3  the deployment failed or timed out and was rolled back (by stadion
     deploy, or by the scheduler's progress deadline)
  4  the deployment failed and the rollback failed too
  5  the deployment failed and was not rolled back (--rollback=false, or a
     later deployment changed the app)`

// deployFlags registers flags whose defaults come from named environment
// variables (precedence default < environment < flag); bad values are
// collected for err.
type deployFlags struct {
	fs   *flag.FlagSet
	errs []string
}

func (f *deployFlags) lookup(env string) (string, bool) {
	if env == "" {
		return "", false
	}
	return os.LookupEnv(env)
}

func envUsage(usage, env string) string {
	if env == "" {
		return usage
	}
	return usage + " (env " + env + ")"
}

func (f *deployFlags) str(p *string, name, env, def, usage string) {
	if v, ok := f.lookup(env); ok {
		def = v
	}
	f.fs.StringVar(p, name, def, envUsage(usage, env))
}

// url registers a flag of a URL whose default, in --help, hides the
// password.
func (f *deployFlags) url(p *string, name, env, def, usage string) {
	if v, ok := f.lookup(env); ok {
		def = v
	}
	urlVar(f.fs, p, name, def, envUsage(usage, env))
}

func (f *deployFlags) boolean(p *bool, name, env string, def bool, usage string) {
	if v, ok := f.lookup(env); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Sprintf("%s=%q: not a boolean", env, v))
		} else {
			def = b
		}
	}
	f.fs.BoolVar(p, name, def, envUsage(usage, env))
}

func (f *deployFlags) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v, ok := f.lookup(env); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			f.errs = append(f.errs, fmt.Sprintf("%s=%q: not a duration such as 90s or 10m", env, v))
		} else {
			def = d
		}
	}
	f.fs.DurationVar(p, name, def, envUsage(usage, env))
}

func (f *deployFlags) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	return fmt.Errorf("bad environment: %s", strings.Join(f.errs, "; "))
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments (stadion deploy tmpl staging 2 --timeout 5m) and
// returns the positional ones; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) (positional []string, code int, done bool) {
	for {
		if code, done := parse(fs, args); done {
			return nil, code, true
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), exitOK, false
		}
		if len(rest) == 0 {
			return positional, exitOK, false
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// deployConfig is the parsed command line of `stadion deploy`.
type deployConfig struct {
	template        string
	environment     string
	instances       string
	tag             string
	marathon        string
	credentialsFile string
	caFile          string
	zk              string
	frameworkName   string
	wait            bool
	timeout         time.Duration
	rollback        bool
	rollbackTimeout time.Duration
	force           bool
	queue           bool
	dryRun          bool
	poll            time.Duration
	logLevel        string
}

func runDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "gen" {
		return runDeployGen(ctx, args[1:], stdout, stderr)
	}
	fs := newFlagSet("deploy", "<service-template-url> <environment> [instances]", deployAbout, stderr)
	var c deployConfig
	f := &deployFlags{fs: fs}
	f.url(&c.marathon, "marathon", "MARATHON_URL", "", "Marathon's URL, http(s)://host:8080 (user:password@ for HTTP Basic credentials)")
	f.str(&c.credentialsFile, "marathon-credentials-file", "MARATHON_CREDENTIALS_FILE", "", "file of one user:password line, Marathon's HTTP Basic credentials (over "+clientauth.EnvCredentials+", over user:password@ in --marathon)")
	f.str(&c.caFile, "marathon-cacert", "MARATHON_CACERT", "", "PEM file of the CA of Marathon's https certificate (default: the system's CAs)")
	f.str(&c.zk, "zk", "MESOS_ZK", "", "Mesos masters' ZooKeeper, zk://host:2181/mesos, to find Marathon when --marathon is not given (default: contents of "+mesosZKFile+")")
	f.str(&c.frameworkName, "framework-name", "STADION_DEPLOY_FRAMEWORK_NAME", "marathon", "framework name of Marathon in the Mesos master's state, with --zk")
	f.str(&c.tag, "tag", "STADION_DEPLOY_TAG", "", "value of $tag (templates from stadion deploy gen have it rendered already)")
	f.boolean(&c.wait, "wait", "STADION_DEPLOY_WAIT", true, "wait for the deployment, with progress")
	f.duration(&c.timeout, "timeout", "STADION_DEPLOY_TIMEOUT", deployer.DefaultTimeout, "how long to wait for the deployment before it counts as failed")
	f.boolean(&c.rollback, "rollback", "STADION_DEPLOY_ROLLBACK", true, "roll back to the previous version when the deployment fails or times out")
	f.duration(&c.rollbackTimeout, "rollback-timeout", "STADION_DEPLOY_ROLLBACK_TIMEOUT", 0, "how long to wait for the rollback (default --timeout)")
	f.boolean(&c.force, "force", "STADION_DEPLOY_FORCE", false, "send force=true: cancel a deployment that holds the app")
	f.boolean(&c.queue, "queue", "STADION_DEPLOY_QUEUE", false, "send queue=true: wait behind a deployment that holds the app instead of failing with 409 (Stadion only)")
	f.boolean(&c.dryRun, "dry-run", "STADION_DEPLOY_DRY_RUN", false, "print the rendered definition and its diff against the running version; change nothing")
	f.duration(&c.poll, "poll", "STADION_DEPLOY_POLL", deployer.DefaultPollInterval, "period of the progress polls")
	f.str(&c.logLevel, "log-level", "STADION_DEPLOY_LOG_LEVEL", "info", "least severe level logged on stderr: debug, info, warn or error")
	pos, code, done := parseInterspersed(fs, args)
	if done {
		return code
	}
	if err := f.err(); err != nil {
		fmt.Fprintln(stderr, "stadion deploy:", err)
		return exitUsage
	}
	if len(pos) < 2 {
		fmt.Fprintln(stderr, "stadion deploy: want <service-template-url> <environment> [instances]; see stadion deploy --help")
		return exitUsage
	}
	if len(pos) > 3 {
		// marathon-deploy.sh read $1 to $3 and ignored the rest; CI jobs
		// written for it may pass more.
		fmt.Fprintf(stderr, "stadion deploy: warning: ignoring extra arguments %q (want <service-template-url> <environment> [instances])\n", pos[3:])
		pos = pos[:3]
	}
	c.template, c.environment, c.instances = pos[0], pos[1], "1"
	if len(pos) == 3 {
		if n, err := strconv.Atoi(pos[2]); err != nil || n < 0 {
			fmt.Fprintf(stderr, "stadion deploy: instances %q: want a number, 0 or more\n", pos[2])
			return exitUsage
		}
		c.instances = pos[2]
	}
	if c.poll <= 0 {
		fmt.Fprintln(stderr, "stadion deploy: --poll must be positive")
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		fmt.Fprintf(stderr, "stadion deploy: --log-level %q: want debug, info, warn or error\n", c.logLevel)
		return exitUsage
	}
	return deploy(ctx, c, stdout, stderr, newLogger(stderr, level))
}

func deploy(ctx context.Context, c deployConfig, stdout, stderr io.Writer, log *slog.Logger) int {
	hc := &http.Client{Timeout: 30 * time.Second}
	vars := map[string]string{deployer.PlaceholderEnvironment: c.environment, deployer.PlaceholderInstances: c.instances}
	if c.tag != "" {
		vars[deployer.PlaceholderTag] = c.tag
	}
	def, err := deployer.Prepare(ctx, c.template, vars, hc)
	if err != nil {
		fmt.Fprintln(stderr, "stadion deploy:", err)
		var te *deployer.TemplateError
		if errors.As(err, &te) && te.Message == deployer.MsgUnrendered && c.tag == "" {
			fmt.Fprintln(stderr, "stadion deploy: give $tag a value with --tag, or deploy a definition written by stadion deploy gen")
		}
		return exitError
	}
	url, err := marathonURL(ctx, c, hc, log)
	if err != nil {
		if errors.Is(err, errNoMarathon) && c.dryRun {
			deployer.PrintDefinition(stdout, def)
			fmt.Fprintln(stdout, "stadion deploy: dry run: no Marathon given (--marathon, --zk); no diff")
			return exitOK
		}
		fmt.Fprintln(stderr, "stadion deploy:", err)
		if errors.Is(err, errNoMarathon) {
			return exitUsage
		}
		return exitError
	}
	creds, err := schedulerCredentials(c.credentialsFile, []string{url})
	if err != nil {
		fmt.Fprintln(stderr, "stadion deploy: Marathon credentials:", err)
		return exitUsage
	}
	client, err := deployer.NewClient(deployer.ClientConfig{URL: url, Credentials: creds, CAFile: c.caFile, HTTP: hc, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "stadion deploy:", err)
		return exitUsage
	}
	d, err := deployer.New(deployer.Config{
		Client:          client,
		Out:             stdout,
		Terminal:        isTerminal(stdout),
		Force:           c.force,
		Queue:           c.queue,
		NoWait:          !c.wait,
		Timeout:         c.timeout,
		NoRollback:      !c.rollback,
		RollbackTimeout: c.rollbackTimeout,
		PollInterval:    c.poll,
		Logger:          log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "stadion deploy:", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "stadion deploy: Marathon at %s\n", client.URL())
	if c.dryRun {
		if _, err := d.DryRun(ctx, def); err != nil {
			fmt.Fprintln(stderr, "stadion deploy:", err)
			hintCredentials(err, stderr)
			return exitError
		}
		return exitOK
	}
	out, err := d.Deploy(ctx, def)
	if err == nil {
		printSuccessLine(stdout, out)
	}
	return deployExitCode(err, stderr)
}

// Success lines of marathon-deploy.sh, which CI jobs grep for.
const (
	msgCreated = "Successfully created new app"
	msgUpdated = "Successfully updated app"
)

// printSuccessLine prints the original script's success line, as its own
// last line and in its words: msgCreated when the app did not exist,
// msgUpdated otherwise. It comes only with exit code 0: once the
// deployment finished (or, with --wait=false, once it was accepted, when
// the original printed it).
func printSuccessLine(w io.Writer, out deployer.Outcome) {
	msg := msgUpdated
	if out.Created {
		msg = msgCreated
	}
	fmt.Fprintln(w, "stadion deploy: "+msg)
}

// deployExitCode maps Deploy's error to the documented exit codes.
func deployExitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "stadion deploy:", err)
	hintCredentials(err, stderr)
	var fail *deployer.FailedError
	if !errors.As(err, &fail) {
		return exitError
	}
	switch fail.Rollback {
	case deployer.RolledBack:
		return exitRolledBack
	case deployer.RollbackFailed:
		return exitRollbackFailed
	}
	return exitNotRolledBack
}

// hintCredentials says how to give credentials when Marathon refused the
// ones given, or wanted some.
func hintCredentials(err error, stderr io.Writer) {
	switch {
	case deployer.IsStatus(err, http.StatusUnauthorized):
		fmt.Fprintln(stderr, "stadion deploy: Marathon wants credentials, or refused those given: give them with --marathon-credentials-file, "+clientauth.EnvCredentials+" or user:password@ in --marathon")
	case deployer.IsStatus(err, http.StatusForbidden):
		fmt.Fprintln(stderr, "stadion deploy: Marathon refused this action to the credentials given")
	}
}

var errNoMarathon = errors.New("no Marathon: give --marathon (MARATHON_URL) or --zk (MESOS_ZK), or write the ZooKeeper URL to " + mesosZKFile)

// marathonURL is --marathon, else the Marathon found through --zk or
// /etc/mesos/zk.
func marathonURL(ctx context.Context, c deployConfig, hc *http.Client, log *slog.Logger) (string, error) {
	if c.marathon != "" {
		return c.marathon, nil
	}
	zkURL := c.zk
	if zkURL == "" {
		b, err := os.ReadFile(mesosZKFile)
		if err != nil {
			return "", errNoMarathon
		}
		zkURL = strings.TrimSpace(string(b))
	}
	return deployer.ResolveMarathon(ctx, deployer.ResolveConfig{ZK: zkURL, FrameworkName: c.frameworkName, HTTP: hc, Logger: log})
}

// isTerminal reports whether w is a character device (a terminal), where
// a live progress bar can redraw itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const deployGenAbout = `Write the service definitions of one build, as gen-service-defs.sh did: for
each target directory (default "."), render $tag in <target>/service.json with
the version <branch>-<commit>-<build number> (CI_BRANCH, CI_COMMIT,
CI_BUILD_NUMBER, or the flags), leaving $environment and $instances for
stadion deploy, and write <out>/<target>/service-<branch>.json and
<out>/<target>/service-<version>.json. Characters a Docker tag cannot hold
become "-" (feature/x -> feature-x). Each definition is first checked with
sample values (environment staging, 1 instance) unless --check=false.`

func runDeployGen(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("deploy gen", "[target-dir...]", deployGenAbout, stderr)
	var c deployer.GenConfig
	check := true
	f := &deployFlags{fs: fs}
	f.str(&c.Branch, "branch", "CI_BRANCH", "", "branch of the build")
	f.str(&c.Commit, "commit", "CI_COMMIT", "", "commit of the build")
	f.str(&c.Build, "build-number", "CI_BUILD_NUMBER", "", "number of the build")
	f.str(&c.Tag, "tag", "STADION_DEPLOY_TAG", "", "version to render instead of <branch>-<commit>-<build number>")
	f.str(&c.OutDir, "out", "", deployer.DefaultOutDir, "directory the definitions are written under")
	f.str(&c.TemplateName, "template", "", deployer.DefaultTemplateName, "file name of the template in each target directory")
	f.boolean(&check, "check", "", true, "check each definition with sample values before writing it")
	pos, code, done := parseInterspersed(fs, args)
	if done {
		return code
	}
	if err := f.err(); err != nil {
		fmt.Fprintln(stderr, "stadion deploy gen:", err)
		return exitUsage
	}
	c.Targets, c.NoCheck, c.Out = pos, !check, stdout
	if err := c.Validate(); err != nil {
		fmt.Fprintln(stderr, "stadion deploy", err)
		return exitUsage
	}
	if _, err := deployer.Gen(c); err != nil {
		fmt.Fprintln(stderr, "stadion deploy", err)
		return exitError
	}
	return exitOK
}
