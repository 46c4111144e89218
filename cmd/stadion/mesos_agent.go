package main

import (
	"context"
	"fmt"
	"io"
)

// PLACEHOLDER: replaced by the agent's command wiring.
func runMesosAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "not built yet")
	return exitError
}
