package main

import (
	"context"
	"fmt"
	"io"
)

// PLACEHOLDER: replaced by the master's command wiring.
func runMesosMaster(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "not built yet")
	return exitError
}
