package agent

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/stadionhq/stadion/internal/mesos"
)

// fetchClient downloads URIs; requests are bounded by their context.
var fetchClient = &http.Client{}

// fetchURIs fetches a command's URIs into the sandbox, as Mesos's fetcher
// does for the schemes it can handle without external tools: http, https,
// file and plain absolute paths. A file is named after the URI's last path
// element or output_file; executable sets mode 0755; archives (.tar,
// .tar.gz, .tgz, .zip) are extracted into the sandbox unless extract is
// false or the file is executable. Caching is not implemented: every launch
// downloads again.
func fetchURIs(ctx context.Context, uris []mesos.CommandURI, sandbox string) error {
	for _, u := range uris {
		if err := fetchURI(ctx, u, sandbox); err != nil {
			return fmt.Errorf("fetch %s: %w", u.Value, err)
		}
	}
	return nil
}

func fetchURI(ctx context.Context, u mesos.CommandURI, sandbox string) error {
	src, isHTTP, err := sourceOf(u.Value)
	if err != nil {
		return err
	}
	name := u.OutputFile
	if name == "" {
		name = path.Base(src)
		if isHTTP {
			pu, _ := url.Parse(src)
			name = path.Base(pu.Path)
		}
	}
	if name == "" || name == "." || name == "/" {
		return errors.New("cannot name the fetched file; set output_file")
	}
	dst := filepath.Join(sandbox, filepath.FromSlash(name))
	if !within(sandbox, dst) {
		return fmt.Errorf("output file %q leaves the sandbox", name)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	var body io.ReadCloser
	if isHTTP {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return err
		}
		resp, err := fetchClient.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("GET answered %s", resp.Status)
		}
		body = resp.Body
	} else {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		body = f
	}
	defer body.Close()
	mode := os.FileMode(0o644)
	executable := u.Executable != nil && *u.Executable
	if executable {
		mode = 0o755
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, body); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(dst, mode); err != nil {
		return err
	}
	if executable || (u.Extract != nil && !*u.Extract) {
		return nil
	}
	return extract(dst, sandbox)
}

// sourceOf says where a URI's bytes come from: an http(s) URL or a local
// path.
func sourceOf(value string) (src string, isHTTP bool, err error) {
	switch {
	case strings.HasPrefix(value, "http://"), strings.HasPrefix(value, "https://"):
		return value, true, nil
	case strings.HasPrefix(value, "file://"):
		return strings.TrimPrefix(value, "file://"), false, nil
	case strings.HasPrefix(value, "/"):
		return value, false, nil
	}
	return "", false, fmt.Errorf("unsupported URI scheme (want http, https, file or an absolute path)")
}

// within reports whether p lies inside dir.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// extract unpacks an archive into dir; other files are left alone.
func extract(file, dir string) error {
	lower := strings.ToLower(file)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("extract: %w", err)
		}
		return untar(gz, dir)
	case strings.HasSuffix(lower, ".tar"):
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		return untar(f, dir)
	case strings.HasSuffix(lower, ".zip"):
		return unzip(file, dir)
	}
	return nil
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("extract: %w", err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !within(dir, dst) {
			return fmt.Errorf("extract: entry %q leaves the sandbox", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(dst, tr, os.FileMode(h.Mode)&0o777); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, dst); err != nil {
				return err
			}
		}
	}
}

func unzip(file, dir string) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !within(dir, dst) {
			return fmt.Errorf("extract: entry %q leaves the sandbox", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		err = writeFile(dst, rc, f.Mode()&0o777)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFile(dst string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
