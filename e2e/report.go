package e2e

import "github.com/stadionhq/stadion/internal/loadgen"

// Report is what TestPipeline measured. With STADION_E2E_REPORT set, the
// test writes it there as JSON; bench/cmd/pipelinebench (make bench) reads
// it into bench/README.md.
type Report struct {
	Date              string         `json:"date"` // RFC 3339, UTC
	HealthyToRoutable []float64      `json:"healthyToRoutableSeconds"`
	RollingUpgrade    loadgen.Result `json:"rollingUpgrade"`
	Reloads           loadgen.Result `json:"reloads"`
	KVRestart         loadgen.Result `json:"kvRestart"`
}
