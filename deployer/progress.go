package deployer

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// barWidth is the number of cells of the live bar.
const barWidth = 24

// progress prints a line per change of a deployment's status and, on a
// terminal, keeps a live bar under them that it redraws on every
// observation.
type progress struct {
	out      io.Writer
	terminal bool
	label    string // "deployment" or "rollback"
	start    time.Time
	last     string
	drawn    bool // a bar is on the current line
}

func newProgress(out io.Writer, terminal bool, label string, start time.Time) *progress {
	return &progress{out: out, terminal: terminal, label: label, start: start}
}

// update reports s, observed at now.
func (p *progress) update(s status, now time.Time) {
	line := s.summary()
	if line != p.last {
		p.clear()
		fmt.Fprintf(p.out, "  %6s  %s\n", elapsed(now.Sub(p.start)), line)
		p.last = line
	}
	if p.terminal && !s.Done {
		p.clear()
		fmt.Fprintf(p.out, "  %s %s %s", bar(s.fraction()), p.label, elapsed(now.Sub(p.start)))
		p.drawn = true
	}
}

// finish removes the bar.
func (p *progress) finish() { p.clear() }

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.out, "\r\033[K")
		p.drawn = false
	}
}

// bar draws f (0..1) as "[#########...............]".
func bar(f float64) string {
	n := int(f*barWidth + 0.5)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", barWidth-n) + "]"
}

// elapsed renders d to the tenth of a second: "12.3s", "2m05.0s".
func elapsed(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	m := int(d / time.Minute)
	return fmt.Sprintf("%dm%04.1fs", m, (d - time.Duration(m)*time.Minute).Seconds())
}
