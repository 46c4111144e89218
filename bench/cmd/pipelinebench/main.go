// Command pipelinebench measures the article's platform end to end: it runs
// the e2e test TestPipeline (ZooKeeper, Consul, stadion serve with two
// built-in agents, stadion registrator, consul-template and HAProxy, the
// test-server image deployed by stadion deploy), which writes what it
// measured as JSON, and writes those figures into bench/README.md:
// healthy → routable through HAProxy, and requests, failures and latency
// percentiles of 200 req/s during a rolling upgrade of 4 instances, 10
// HAProxy reloads and a KV-triggered rolling restart.
//
//	go run ./bench/cmd/pipelinebench -readme bench/README.md
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
)

func main() {
	readme := flag.String("readme", "", `markdown file whose "`+sectionTitle+`" section is replaced by this run's (empty: print only)`)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: pipelinebench [flags]\n\n"+
			"Run the e2e test TestPipeline (go test -tags e2e ./e2e; make deps first) and report\n"+
			"its routing latency and zero-downtime figures.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*readme); err != nil {
		fmt.Fprintln(os.Stderr, "pipelinebench:", err)
		os.Exit(1)
	}
}

func run(readme string) error {
	dir, err := os.MkdirTemp("", "pipelinebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "report.json")
	machine := rig.ReadMachine()
	load := rig.LoadAverage()
	start := time.Now()
	// The test prints each step (-v), which is the progress of this run.
	cmd := exec.Command("go", "test", "-count=1", "-tags", "e2e", "-run", "^TestPipeline$", "-timeout", "20m", "-v", "./e2e")
	cmd.Env = append(os.Environ(), "STADION_E2E_REPORT="+out)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("e2e TestPipeline: %w", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return fmt.Errorf("the test wrote no report: %w", err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("read report: %w", err)
	}
	section := rep.markdown(machine, load, time.Since(start))
	fmt.Print(section)
	if readme == "" {
		return nil
	}
	old, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	return os.WriteFile(readme, []byte(rig.ReplaceSection(string(old), sectionTitle, section)), 0o644)
}
