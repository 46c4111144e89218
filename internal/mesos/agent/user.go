package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/stadionhq/stadion/internal/mesos"
)

// errUnknownUser is wrapped when a task's user is not in the agent's user
// database.
var errUnknownUser = errors.New("no such user on this agent")

// taskUser is the user a task runs as, as Mesos decides it: the command's
// user, else the framework's.
func taskUser(info *mesos.TaskInfo, fw mesos.FrameworkInfo) string {
	if info.Command != nil && info.Command.User != "" {
		return info.Command.User
	}
	return fw.User
}

// account is a task user resolved in the agent's user database.
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
	home   string
}

// lookupAccount resolves name with its primary and supplementary groups.
// An agent that does not run as root can only run tasks as its own user.
func lookupAccount(name string) (*account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("user '%s': %w", name, errUnknownUser)
		}
		return nil, fmt.Errorf("look up user '%s': %w", name, err)
	}
	acct := &account{name: name, home: u.HomeDir}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user '%s' has uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user '%s' has gid %q: %w", name, u.Gid, err)
	}
	acct.uid, acct.gid = uint32(uid), uint32(gid)
	ids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of user '%s': %w", name, err)
	}
	for _, s := range ids {
		g, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("user '%s' has group id %q: %w", name, s, err)
		}
		acct.groups = append(acct.groups, uint32(g))
	}
	if os.Geteuid() != 0 && !acct.isSelf() {
		return nil, fmt.Errorf("cannot run as user '%s': the agent does not run as root (start it with --switch_user=false to run tasks as its own user)", name)
	}
	return acct, nil
}

// isSelf reports whether a is the agent's own uid and gid: no switch needed.
func (a *account) isSelf() bool {
	return a.uid == uint32(os.Getuid()) && a.gid == uint32(os.Getgid())
}

// credential is what a process started as a needs; nil for the agent's
// own user (or a nil account).
func (a *account) credential() *syscall.Credential {
	if a == nil || a.isSelf() {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
}

// chownTree gives dir and everything in it to a, as Mesos chowns a sandbox
// to the task's user. Symbolic links are changed themselves, never their
// targets.
func (a *account) chownTree(dir string) error {
	if a == nil || a.isSelf() {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, int(a.uid), int(a.gid)); err != nil {
			return fmt.Errorf("chown sandbox to user '%s': %w", a.name, err)
		}
		return nil
	})
}
