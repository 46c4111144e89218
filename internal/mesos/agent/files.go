package agent

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// filesReadMax caps one /files/read answer, as Mesos reads at most 16
// pages (64 KiB with 4 KiB pages).
const filesReadMax = 16 * 4096

// FileInfo is one entry of /files/browse, Mesos's FileInfo model
// (src/common/http.cpp): mode as `ls -l` writes it, mtime in Unix
// seconds, uid and gid as names (numbers when the name is unknown).
type FileInfo struct {
	Path  string `json:"path"`
	Nlink int64  `json:"nlink"`
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime"`
	Mode  string `json:"mode"`
	UID   string `json:"uid"`
	GID   string `json:"gid"`
}

// fileChunk is /files/read's answer.
type fileChunk struct {
	Data   string `json:"data"`
	Offset int64  `json:"offset"`
}

// filesRoutes adds Mesos's files API: /files/browse, /files/read and
// /files/download, on the real paths of the sandboxes (everything under
// <work_dir>/slaves). They need Config.FilesToken as a bearer token; with
// none set the agent serves no files. Paths are opened through an
// os.Root, so that a symbolic link a task leaves in its sandbox cannot
// lead outside it.
func (a *Agent) filesRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /files/browse", a.filesAuth(a.handleBrowse))
	mux.HandleFunc("GET /files/read", a.filesAuth(a.handleRead))
	mux.HandleFunc("GET /files/download", a.filesAuth(a.handleDownload))
}

func (a *Agent) filesAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !cluster.Authorized(r, a.cfg.FilesToken) {
			a.log.Debug("files request refused", "path", r.URL.Path, "remote_addr", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="stadion-agent-files"`)
			http.Error(w, "files need the agent's files token", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// errFilesNotFound is a path that does not exist or lies outside the
// sandboxes.
var errFilesNotFound = errors.New("not found")

// openedFile is a file of a sandbox, open, with its virtual path.
type openedFile struct {
	*os.File
	path string
	info fs.FileInfo
}

// openFile resolves the query's path to a file under <work_dir>/slaves
// and stats it. On failure it answers itself (400 for a missing path,
// 404 for one outside the sandboxes or absent, 403 when the agent may
// not read it) and returns false.
func (a *Agent) openFile(w http.ResponseWriter, r *http.Request) (openedFile, bool) {
	f, p, status, err := a.resolve(r)
	if err == nil {
		var st fs.FileInfo
		if st, err = f.Stat(); err == nil {
			return openedFile{File: f, path: p, info: st}, true
		}
		f.Close()
		status = http.StatusInternalServerError
	}
	http.Error(w, err.Error(), status)
	return openedFile{}, false
}

// resolve opens the query's path through an os.Root of the sandboxes.
func (a *Agent) resolve(r *http.Request) (*os.File, string, int, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return nil, "", http.StatusBadRequest, errors.New("Expecting 'path=value' in query.")
	}
	if len(p) > 4096 {
		return nil, "", http.StatusBadRequest, errors.New("path too long")
	}
	slaves := filepath.Join(a.cfg.WorkDir, "slaves")
	rel, err := filepath.Rel(slaves, filepath.Clean(p))
	if !filepath.IsAbs(p) || err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, "", http.StatusNotFound, errFilesNotFound
	}
	root, err := os.OpenRoot(slaves)
	if err != nil {
		return nil, "", http.StatusNotFound, errFilesNotFound
	}
	defer root.Close()
	f, err := root.Open(rel)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return nil, "", http.StatusForbidden, errors.New("Access denied")
	case err != nil:
		return nil, "", http.StatusNotFound, errFilesNotFound
	}
	return f, strings.TrimSuffix(p, "/"), 0, nil
}

func (a *Agent) handleBrowse(w http.ResponseWriter, r *http.Request) {
	f, ok := a.openFile(w, r)
	if !ok {
		return
	}
	defer f.Close()
	st, p := f.info, f.path
	out := []FileInfo{}
	if !st.IsDir() {
		out = append(out, fileInfo(p, st))
	} else {
		entries, err := f.ReadDir(-1)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			out = append(out, fileInfo(path.Join(p, e.Name()), fi))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	writeFilesJSON(w, out)
}

func (a *Agent) handleRead(w http.ResponseWriter, r *http.Request) {
	offset, err := queryInt(r, "offset")
	if err != nil {
		http.Error(w, "Failed to parse offset: "+err.Error(), http.StatusBadRequest)
		return
	}
	length, err := queryInt(r, "length")
	if err != nil {
		http.Error(w, "Failed to parse length: "+err.Error(), http.StatusBadRequest)
		return
	}
	if offset < -1 {
		http.Error(w, "Negative offset provided: "+strconv.FormatInt(offset, 10), http.StatusBadRequest)
		return
	}
	if length < -1 {
		http.Error(w, "Negative length provided: "+strconv.FormatInt(length, 10), http.StatusBadRequest)
		return
	}
	f, ok := a.openFile(w, r)
	if !ok {
		return
	}
	defer f.Close()
	if f.info.IsDir() {
		http.Error(w, "Cannot read a directory.", http.StatusBadRequest)
		return
	}
	chunk, err := readChunk(f, f.info.Size(), offset, length)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeFilesJSON(w, chunk)
}

// readChunk is /files/read's arithmetic: offset -1 asks for the size;
// at or past the end the answer is empty; length -1 reads to the end;
// no answer carries more than filesReadMax bytes.
func readChunk(f io.ReaderAt, size, offset, length int64) (fileChunk, error) {
	if offset == -1 {
		return fileChunk{Offset: size}, nil
	}
	if offset >= size {
		return fileChunk{Offset: offset}, nil
	}
	if length == -1 || length > filesReadMax {
		length = filesReadMax
	}
	length = min(length, size-offset)
	buf := make([]byte, length)
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return fileChunk{}, err
	}
	return fileChunk{Data: string(buf[:n]), Offset: offset}, nil
}

func (a *Agent) handleDownload(w http.ResponseWriter, r *http.Request) {
	f, ok := a.openFile(w, r)
	if !ok {
		return
	}
	defer f.Close()
	if f.info.IsDir() {
		http.Error(w, "Cannot download a directory.", http.StatusBadRequest)
		return
	}
	p := f.path
	ct := mime.TypeByExtension(path.Ext(p))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	http.ServeContent(w, r, "", f.info.ModTime(), f)
}

// queryInt parses an optional integer parameter; absent is -1.
func queryInt(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return -1, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func writeFilesJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fileInfo is fi as Mesos's FileInfo, at the virtual path p.
func fileInfo(p string, fi fs.FileInfo) FileInfo {
	out := FileInfo{Path: p, Size: fi.Size(), Mtime: fi.ModTime().Unix(), Mode: modeString(fi.Mode()), Nlink: 1}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		out.Nlink = int64(st.Nlink)
		out.UID = userName(st.Uid)
		out.GID = groupName(st.Gid)
	}
	return out
}

// modeString is the mode as `ls -l` writes it: a type character among
// "-dcbpls" and nine permission characters.
func modeString(m fs.FileMode) string {
	t := byte('-')
	switch {
	case m.IsDir():
		t = 'd'
	case m&fs.ModeSymlink != 0:
		t = 'l'
	case m&fs.ModeNamedPipe != 0:
		t = 'p'
	case m&fs.ModeSocket != 0:
		t = 's'
	case m&fs.ModeCharDevice != 0:
		t = 'c'
	case m&fs.ModeDevice != 0:
		t = 'b'
	}
	const rwx = "rwxrwxrwx"
	b := []byte{t}
	for i := range 9 {
		if m&(1<<uint(8-i)) != 0 {
			b = append(b, rwx[i])
		} else {
			b = append(b, '-')
		}
	}
	return string(b)
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}
