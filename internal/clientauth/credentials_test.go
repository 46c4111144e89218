package clientauth

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolve(t *testing.T) {
	cases := []struct {
		name    string
		file    string // contents; "" for no file
		env     string
		urls    []string
		want    Credentials
		wantErr string
	}{
		{name: "nothing", urls: []string{"http://m1:8080"}, want: Credentials{}},
		{name: "url", urls: []string{"http://ops:pw@m1:8080"}, want: Credentials{User: "ops", Password: "pw"}},
		{name: "same on every url", urls: []string{"http://ops:pw@m1:8080", "http://m2:8080", "http://ops:pw@m3:8080"}, want: Credentials{User: "ops", Password: "pw"}},
		{name: "different urls", urls: []string{"http://ops:pw@m1:8080", "http://ops:other@m2:8080"}, wantErr: "different credentials"},
		{name: "env over url", env: "ci:envpw", urls: []string{"http://ops:pw@m1:8080"}, want: Credentials{User: "ci", Password: "envpw"}},
		{name: "file over env", file: "deploy:filepw\n", env: "ci:envpw", want: Credentials{User: "deploy", Password: "filepw"}},
		{name: "password with colons", env: "ci:a:b:c", want: Credentials{User: "ci", Password: "a:b:c"}},
		{name: "bad env", env: "justapassword", wantErr: EnvCredentials},
		{name: "bad file", file: "onlyuser\n", wantErr: "credentials file"},
		{name: "two lines", file: "a:b\nc:d\n", wantErr: "one user:password line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Source{Env: tc.env}
			if tc.file != "" {
				s.File = writeFile(t, tc.file)
			}
			for _, u := range tc.urls {
				s.URLs = append(s.URLs, mustURL(t, u))
			}
			got, err := Resolve(s)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				for _, secret := range []string{"justapassword", "onlyuser", "c:d"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows the credentials", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("credentials %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCredentialsNeverPrintThePassword(t *testing.T) {
	c := Credentials{User: "ops", Password: "hunter2"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%q shows the password", s)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{name: "url with password", in: "http://ops:hunter2@m1:8080/x", want: "http://ops:xxxxx@m1:8080/x"},
		{name: "url without", in: "https://m1:8443", want: "https://m1:8443"},
		{name: "host:port", in: "m1:8080", want: "m1:8080"},
		{name: "no scheme with user info", in: "ops:hunter2@m1:8080", want: "<URL hidden: it may hold a password>"},
		{name: "list", in: "http://a:hunter2@m1:8080, m2:8080", want: "http://a:xxxxx@m1:8080,m2:8080"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactList(tc.in); got != tc.want {
				t.Errorf("RedactList(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
