package rig

import "strings"

// ReplaceSection returns readme with its section titled title (up to the
// next "## " heading or the end) replaced by section, or section appended
// when there is none.
func ReplaceSection(readme, title, section string) string {
	section = strings.TrimRight(section, "\n") + "\n"
	lines := strings.SplitAfter(readme, "\n")
	start, end := -1, len(lines)
	for i, line := range lines {
		if start < 0 && strings.TrimSpace(line) == title {
			start = i
			continue
		}
		if start >= 0 && strings.HasPrefix(line, "## ") {
			end = i
			break
		}
	}
	if start < 0 {
		return strings.TrimRight(readme, "\n") + "\n\n" + section
	}
	out := strings.Join(lines[:start], "") + section
	if end < len(lines) {
		out += "\n" + strings.Join(lines[end:], "")
	}
	return out
}
