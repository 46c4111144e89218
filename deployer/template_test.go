package deployer

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "service.json")
	writeFile(t, path, `{"id": "/from-file"}`)
	big := strings.Repeat(" ", maxTemplateSize+1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/service-master.json":
			w.Write([]byte(`{"id": "/from-http"}`))
		case "/big.json":
			w.Write([]byte(big))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name    string
		source  string
		want    string
		wantErr string
		errIs   error
	}{
		{name: "http", source: srv.URL + "/service-master.json", want: `{"id": "/from-http"}`},
		{name: "http scheme in capitals", source: strings.Replace(srv.URL, "http", "HTTP", 1) + "/service-master.json", want: `{"id": "/from-http"}`},
		{name: "http 404", source: srv.URL + "/nope.json", wantErr: "404 Not Found"},
		{name: "http password not shown", source: strings.Replace(srv.URL, "http://", "http://ci:secret@", 1) + "/nope.json", wantErr: "ci:xxxxx@"},
		{name: "too large", source: srv.URL + "/big.json", errIs: ErrTemplateTooLarge},
		{name: "file URL", source: "file://" + path, want: `{"id": "/from-file"}`},
		{name: "file URL of localhost", source: "file://localhost" + path, want: `{"id": "/from-file"}`},
		{name: "file URL of another host", source: "file://builder" + path, wantErr: `names host "builder"`},
		{name: "path", source: path, want: `{"id": "/from-file"}`},
		{name: "missing file", source: filepath.Join(dir, "nope.json"), wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(t.Context(), tc.source, srv.Client())
			switch {
			case tc.errIs != nil:
				if !errors.Is(err, tc.errIs) {
					t.Fatalf("error %v, want %v", err, tc.errIs)
				}
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error shows the password: %v", err)
				}
			case err != nil:
				t.Fatal(err)
			case string(got) != tc.want:
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
