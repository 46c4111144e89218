package deployer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// articleTemplate is the article's service.json in substance.
const articleTemplate = `{
  "id": "/app/$environment/test-server",
  "labels": {"version": "$tag", "environment": "$environment"},
  "env": {"SERVICE_TAGS": "$environment,internal-listen-http-3000", "SERVICE_NAME": "test-server"},
  "cpus": 0.05, "mem": 64.0, "instances": $instances,
  "args": ["service-wrapper.sh", "dockerhost:18080", "dockerhost:18500", "app/$environment/test-server", "node", "/app/server.js"],
  "container": {"type": "DOCKER", "docker": {"image": "registry.local/test-server:$tag", "forcePullImage": true,
    "network": "BRIDGE", "portMappings": [{"containerPort": 3000}]}},
  "healthChecks": [{"protocol": "HTTP", "path": "/healthcheck", "gracePeriodSeconds": 2, "intervalSeconds": 10, "maxConsecutiveFailures": 3}],
  "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.5}
}
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGen(t *testing.T) {
	rendered := strings.ReplaceAll(articleTemplate, "$tag", "master-ef5a154-56")
	tests := []struct {
		name    string
		cfg     GenConfig
		targets map[string]string // dir -> template
		want    map[string]string // path under the work dir -> content
		wantErr string
	}{
		{
			name:    "the article's build",
			cfg:     GenConfig{Branch: "master", Commit: "ef5a154", Build: "56"},
			targets: map[string]string{".": articleTemplate},
			want: map[string]string{
				"service-defs/service-master.json":            rendered,
				"service-defs/service-master-ef5a154-56.json": rendered,
			},
		},
		{
			name:    "several targets",
			cfg:     GenConfig{Branch: "master", Commit: "ef5a154", Build: "56", Targets: []string{"api", "web"}, OutDir: "out"},
			targets: map[string]string{"api": articleTemplate, "web": articleTemplate},
			want: map[string]string{
				"out/api/service-master.json": rendered, "out/api/service-master-ef5a154-56.json": rendered,
				"out/web/service-master.json": rendered, "out/web/service-master-ef5a154-56.json": rendered,
			},
		},
		{
			name:    "branch names become tags",
			cfg:     GenConfig{Branch: "feature/x+y", Commit: "ef5a154", Build: "56"},
			targets: map[string]string{".": `{"id": "/web", "cmd": "run $tag", "instances": $instances}`},
			want: map[string]string{
				"service-defs/service-feature-x-y.json":            `{"id": "/web", "cmd": "run feature-x-y-ef5a154-56", "instances": $instances}`,
				"service-defs/service-feature-x-y-ef5a154-56.json": `{"id": "/web", "cmd": "run feature-x-y-ef5a154-56", "instances": $instances}`,
			},
		},
		{
			name:    "tag override",
			cfg:     GenConfig{Tag: "1.2.3"},
			targets: map[string]string{".": `{"id": "/web", "cmd": "run $tag"}`},
			want:    map[string]string{"service-defs/service-1.2.3.json": `{"id": "/web", "cmd": "run 1.2.3"}`},
		},
		{
			name:    "broken template is not written",
			cfg:     GenConfig{Branch: "master", Commit: "c", Build: "1"},
			targets: map[string]string{".": "{\n  \"id\": \"/web\",\n  \"cmd\": \"x\"\n  \"cpus\": 1\n}"},
			wantErr: "service.json:4:3: invalid character",
		},
		{
			name:    "broken template written without the check",
			cfg:     GenConfig{Branch: "master", Commit: "c", Build: "1", NoCheck: true},
			targets: map[string]string{".": `{"id": "/web" "cmd": "$tag"}`},
			want: map[string]string{
				"service-defs/service-master.json":     `{"id": "/web" "cmd": "master-c-1"}`,
				"service-defs/service-master-c-1.json": `{"id": "/web" "cmd": "master-c-1"}`,
			},
		},
		{
			name:    "missing template",
			cfg:     GenConfig{Branch: "master", Commit: "c", Build: "1", Targets: []string{"nope"}},
			wantErr: "no such file",
		},
		{
			name:    "missing CI variables",
			cfg:     GenConfig{Branch: "master"},
			wantErr: "commit (CI_COMMIT), build number (CI_BUILD_NUMBER) required",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			for dir, tmpl := range tc.targets {
				writeFile(t, filepath.Join(dir, "service.json"), tmpl)
			}
			var out strings.Builder
			tc.cfg.Out = &out
			_, err := Gen(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				if _, serr := os.Stat(DefaultOutDir); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("%s written despite the error", DefaultOutDir)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var written []string
			filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && filepath.Base(p) != "service.json" {
					written = append(written, p)
				}
				return nil
			})
			if len(written) != len(tc.want) {
				t.Errorf("wrote %v, want %d files", written, len(tc.want))
			}
			for path, content := range tc.want {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("%v; output:\n%s", err, out.String())
					continue
				}
				if string(b) != content {
					t.Errorf("%s:\n%s\nwant\n%s", path, b, content)
				}
				if !strings.Contains(out.String(), "wrote "+path) {
					t.Errorf("output does not name %s:\n%s", path, out.String())
				}
			}
		})
	}
}

func TestGenOutputDeploys(t *testing.T) {
	t.Chdir(t.TempDir())
	writeFile(t, "service.json", articleTemplate)
	files, err := Gen(GenConfig{Branch: "master", Commit: "ef5a154", Build: "56"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files[0].Paths {
		def, err := Prepare(t.Context(), p, map[string]string{"environment": "production", "instances": "4"}, nil)
		if err != nil {
			t.Fatalf("%s does not render for deploy: %v", p, err)
		}
		if img := def.App.Container.Docker.Image; img != "registry.local/test-server:master-ef5a154-56" || def.App.Instances != 4 ||
			def.App.ID != "/app/production/test-server" {
			t.Errorf("%s: id %s, image %s, instances %d", p, def.App.ID, img, def.App.Instances)
		}
	}
}
