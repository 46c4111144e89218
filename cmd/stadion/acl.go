package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/stadionhq/stadion/internal/acl"
)

// reloadACL reads the ACL file again into h, as SIGHUP asks: a file that
// does not load leaves the ACL in force and is logged at Error.
func reloadACL(h *acl.Holder, path string, log *slog.Logger) {
	a, err := h.Reload(path)
	if err != nil {
		log.Error("acl reload failed, keeping the acl in force", "acl_file", path, "err", err)
		return
	}
	log.Info("acl reloaded", "acl_file", path, "principals", a.Principals())
}

// watchSIGHUP reloads the ACL on each SIGHUP until the returned stop is
// called. The handler is installed before watchSIGHUP returns, so that a
// SIGHUP after it does not end the process.
func watchSIGHUP(h *acl.Holder, path string, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				reloadACL(h, path, log)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
