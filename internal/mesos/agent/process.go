package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// defaultPath is the PATH of tasks when the agent has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// processContainerizer runs command tasks as child processes in their own
// process group, with the sandbox as working directory and the files stdout
// and stderr in it.
type processContainerizer struct{}

var _ Containerizer = processContainerizer{}

// Launch starts the task's command.
func (processContainerizer) Launch(_ context.Context, spec Spec, exited func(Exit)) (Container, error) {
	ci := spec.Task.Command
	if ci == nil {
		return nil, &LaunchError{Err: errors.New("task has no command")}
	}
	env := mergeEnv(baseEnv(spec), ci.Environment)
	cmd, err := buildCommand(ci, spec.Sandbox, env, spec.account)
	if err != nil {
		return nil, &LaunchError{Err: err}
	}
	stdout, err := os.OpenFile(filepath.Join(spec.Sandbox, "stdout"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, &LaunchError{Err: fmt.Errorf("open stdout: %w", err)}
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(spec.Sandbox, "stderr"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, &LaunchError{Err: fmt.Errorf("open stderr: %w", err)}
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return nil, &LaunchError{Err: fmt.Errorf("start command: %w", err)}
	}
	// The start time is read before wait can reap the child: it tells the
	// process from a later one with its pid after an agent restart.
	p := &process{cmd: cmd, pid: cmd.Process.Pid, start: procStartTime(cmd.Process.Pid), env: env, sandbox: spec.Sandbox, account: spec.account}
	go p.wait(exited)
	return p, nil
}

// baseEnv is the environment of a command task before CommandInfo's
// variables: PATH from the agent, HOME of the task's user (the agent's when
// it does not switch users), and the Mesos variables. The rest of the
// agent's environment is not inherited.
func baseEnv(spec Spec) []string {
	home := getenvDefault("HOME", "/")
	if spec.account != nil && spec.account.home != "" {
		home = spec.account.home
	}
	env := []string{
		"PATH=" + getenvDefault("PATH", defaultPath),
		"HOME=" + home,
	}
	return append(env, taskEnv(spec, spec.Sandbox)...)
}

// buildCommand turns a CommandInfo into an unstarted command: "/bin/sh -c
// value" for shell commands, else value executed with arguments as its argv
// (arguments[0] is argv[0], as in Mesos). With acct, it runs as that user.
func buildCommand(ci *mesos.CommandInfo, dir string, env []string, acct *account) (*exec.Cmd, error) {
	value := ""
	if ci.Value != nil {
		value = *ci.Value
	}
	var cmd *exec.Cmd
	if ci.IsShell() {
		if strings.TrimSpace(value) == "" {
			return nil, errors.New("shell command has no value")
		}
		cmd = &exec.Cmd{Path: "/bin/sh", Args: []string{"sh", "-c", value}}
	} else {
		if value == "" {
			return nil, errors.New("command has no value to execute")
		}
		path, err := lookPath(value, dir, env)
		if err != nil {
			return nil, err
		}
		args := ci.Arguments
		if len(args) == 0 {
			args = []string{value}
		}
		cmd = &exec.Cmd{Path: path, Args: append([]string(nil), args...)}
	}
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: acct.credential()}
	return cmd, nil
}

// lookPath finds file as execvp would with the task's PATH; a name with a
// slash is taken relative to the sandbox.
func lookPath(file, dir string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		if err := executable(file); err != nil {
			return "", fmt.Errorf("command %q: %w", file, err)
		}
		return file, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for d := range strings.SplitSeq(path, ":") {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("command %q not found in PATH", file)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// process is a running command task.
type process struct {
	cmd     *exec.Cmd
	pid     int
	start   uint64 // /proc start time
	env     []string
	sandbox string
	account *account // the task's user; nil: the agent's

	mu     sync.Mutex
	done   bool
	escal  *time.Timer
	killed bool
}

func (p *process) PID() int   { return p.pid }
func (p *process) IP() string { return "" }

// wait reaps the process, then kills what is left of its process group so
// that no child outlives the task.
func (p *process) wait(exited func(Exit)) {
	err := p.cmd.Wait()
	p.mu.Lock()
	p.done = true
	if p.escal != nil {
		p.escal.Stop()
	}
	p.mu.Unlock()
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	exited(exitOf(p.cmd.ProcessState, err))
}

// exitOf converts a wait result into an Exit.
func exitOf(ps *os.ProcessState, err error) Exit {
	if ps == nil {
		return Exit{Code: -1, Message: fmt.Sprintf("Failed to wait for command: %v", err)}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Exit{Signal: ws.Signal()}
	}
	return Exit{Code: ps.ExitCode()}
}

// Kill sends SIGTERM to the process group and SIGKILL after grace.
func (p *process) Kill(grace time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	if !p.killed {
		p.killed = true
		_ = syscall.Kill(-p.pid, syscall.SIGTERM)
	}
	if grace <= 0 {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		return
	}
	if p.escal == nil {
		p.escal = time.AfterFunc(grace, p.forceKill)
	}
}

func (p *process) forceKill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
}

// Exec runs a health-check command in the sandbox with the task's
// environment; the whole process group dies when ctx ends.
func (p *process) Exec(ctx context.Context, ci *mesos.CommandInfo) error {
	return runCheckCommand(ctx, ci, p.sandbox, p.env, p.account)
}

// runCheckCommand runs ci in dir as acct (nil: the agent's user) and
// returns an error unless it exits 0.
func runCheckCommand(ctx context.Context, ci *mesos.CommandInfo, dir string, env []string, acct *account) error {
	if ci == nil {
		return errors.New("health check has no command")
	}
	cmd, err := buildCommand(ci, dir, mergeEnv(env, ci.Environment), acct)
	if err != nil {
		return err
	}
	var out strings.Builder
	lw := &limitWriter{w: &out, n: 1024}
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start check command: %w", err)
	}
	// Cancellation kills the whole process group, which exec.CommandContext
	// would not do.
	pid := cmd.Process.Pid
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	err = cmd.Wait()
	stop()
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if ctx.Err() != nil {
		return fmt.Errorf("check command timed out: %w", ctx.Err())
	}
	if err != nil {
		lw.mu.Lock()
		defer lw.mu.Unlock()
		return fmt.Errorf("check command: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// limitWriter keeps the first n bytes written and drops the rest.
type limitWriter struct {
	mu sync.Mutex
	w  *strings.Builder
	n  int
}

func (l *limitWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}
