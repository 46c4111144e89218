package clientauth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// authLog records the Authorization header of each request by path.
type authLog struct {
	mu   sync.Mutex
	seen map[string]string
}

func (l *authLog) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		if l.seen == nil {
			l.seen = map[string]string{}
		}
		l.seen[r.Host+r.URL.Path] = r.Header.Get("Authorization")
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *authLog) get(key string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.seen[key]
	return v, ok
}

func TestTransportRedirects(t *testing.T) {
	var log authLog
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	// other is another origin: another port on the same machine, which is
	// another server as far as credentials go.
	other := httptest.NewServer(log.handler(ok))
	defer other.Close()
	// named is a second origin the user gave (an HA cluster's instance).
	named := httptest.NewServer(log.handler(ok))
	defer named.Close()
	tlsSrv := httptest.NewTLSServer(log.handler(ok))
	defer tlsSrv.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/same", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/landed", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landed", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/named", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, named.URL+"/landed", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/tls", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tlsSrv.URL+"/landed", http.StatusTemporaryRedirect)
	})
	mux.Handle("/landed", ok)
	first := httptest.NewServer(log.handler(mux))
	defer first.Close()

	creds := Credentials{User: "ops", Password: "hunter2"}
	hc, err := Client(tlsSrv.Client(), Config{
		Credentials: creds,
		Origins:     []*url.URL{mustURL(t, strings.Replace(first.URL, "http://", "http://ops:hunter2@", 1)), mustURL(t, named.URL)},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "Basic b3BzOmh1bnRlcjI=" // ops:hunter2
	cases := []struct {
		name     string
		path     string
		landedAt string
		wantAuth string
	}{
		{name: "same origin keeps them", path: "/same", landedAt: first.Listener.Addr().String(), wantAuth: want},
		{name: "another host drops them", path: "/other", landedAt: other.Listener.Addr().String(), wantAuth: ""},
		{name: "a named instance gets them", path: "/named", landedAt: named.Listener.Addr().String(), wantAuth: want},
		{name: "another scheme drops them", path: "/tls", landedAt: tlsSrv.Listener.Addr().String(), wantAuth: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := hc.Get(first.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got, _ := log.get(first.Listener.Addr().String() + tc.path); got != want {
				t.Errorf("first request: Authorization %q, want %q", got, want)
			}
			got, seen := log.get(tc.landedAt + "/landed")
			if !seen {
				t.Fatalf("the redirect was not followed to %s", tc.landedAt)
			}
			if got != tc.wantAuth {
				t.Errorf("after the redirect: Authorization %q, want %q", got, tc.wantAuth)
			}
		})
	}
}

func TestTransportWithoutCredentials(t *testing.T) {
	var log authLog
	srv := httptest.NewServer(log.handler(http.NotFoundHandler()))
	defer srv.Close()
	hc, err := Client(nil, Config{Origins: []*url.URL{mustURL(t, srv.URL)}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, _ := log.get(srv.Listener.Addr().String() + "/x"); got != "" {
		t.Errorf("Authorization %q without credentials", got)
	}
}

func TestTLSConfigBadCA(t *testing.T) {
	_, err := TLSConfig(writeFile(t, "not a certificate"), false)
	if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("error %v, want no PEM certificate", err)
	}
}
