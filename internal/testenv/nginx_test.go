package testenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// nginxConfig is a config whose one server answers body on addr.
func nginxConfig(addr, body string) string {
	return fmt.Sprintf(`worker_processes 2;
pid nginx.pid;
error_log logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    server {
        listen %s;
        return 200 %q;
    }
}
`, addr, body)
}

// TestNginxReload starts nginx, reloads it twice with a changed
// configuration each time, then with a broken one, and checks what answers
// after each.
func TestNginxReload(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
	cfg := filepath.Join(t.TempDir(), "nginx.conf")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(nginxConfig(addr, "generation 1"))
	n := StartNginx(t, cfg)
	if got := get(t, addr); got != "generation 1" {
		t.Fatalf("answer %q, want generation 1", got)
	}
	for gen := 2; gen <= 3; gen++ {
		body := fmt.Sprintf("generation %d", gen)
		write(nginxConfig(addr, body))
		n.Reload(t)
		if got := get(t, addr); got != body {
			t.Fatalf("answer %q after reload, want %q", got, body)
		}
	}

	// A broken configuration fails Reload (nginx -s reload parses it
	// first); the workers of generation 3 serve on.
	write(nginxConfig(addr, "generation 4") + "http { no_such_directive; }\n")
	tb := &outcomeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Reload(tb)
	}()
	<-done
	if tb.outcome != "fatal" {
		t.Fatalf("Reload of a broken configuration: outcome %q, want fatal", tb.outcome)
	}
	if got := get(t, addr); got != "generation 3" {
		t.Fatalf("answer %q after a failed reload, want generation 3", got)
	}
}
