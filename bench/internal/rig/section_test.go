package rig

import "testing"

func TestReplaceSection(t *testing.T) {
	const section = "## Registrator latency\n\nnew\n"
	tests := []struct {
		name   string
		readme string
		want   string
	}{
		{name: "appended", readme: "# Bench\n\n## Results\n\nkept\n", want: "# Bench\n\n## Results\n\nkept\n\n## Registrator latency\n\nnew\n"},
		{name: "at the end", readme: "## Results\n\nkept\n\n## Registrator latency\n\nold\n", want: "## Results\n\nkept\n\n## Registrator latency\n\nnew\n"},
		{name: "before another section", readme: "## Registrator latency\n\nold\n### sub\nold\n\n## Notes\n\nkept\n",
			want: "## Registrator latency\n\nnew\n\n## Notes\n\nkept\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReplaceSection(tc.readme, "## Registrator latency", section); got != tc.want {
				t.Errorf("ReplaceSection:\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
