package marathon

import (
	"encoding/json"
	"sort"
)

// QueueItem is an entry of GET /v2/queue: an app or a pod with instances
// waiting to launch (types/queue.raml QueueApp | QueuePod: the run spec
// is under "app" or "pod").
type QueueItem struct {
	App   *App      `json:"app,omitempty"`
	Pod   *Pod      `json:"pod,omitempty"`
	Count int       `json:"count"`
	Role  string    `json:"role,omitempty"`
	Delay Delay     `json:"delay"`
	Since Timestamp `json:"since"`
	// ProcessedOffersSummary explains recent offer matching.
	ProcessedOffersSummary *OffersSummary `json:"processedOffersSummary,omitempty"`
	// LastUnusedOffers is returned with embed=lastUnusedOffers (an empty
	// list is written then); kept opaque. Nil leaves the key out.
	LastUnusedOffers []json.RawMessage `json:"lastUnusedOffers,omitzero"`
}

// Delay is the launch backoff of a queued app.
type Delay struct {
	TimeLeftSeconds int  `json:"timeLeftSeconds"`
	Overdue         bool `json:"overdue"`
}

// OffersSummary is queue[].processedOffersSummary.
type OffersSummary struct {
	ProcessedOffersCount       int             `json:"processedOffersCount"`
	UnusedOffersCount          int             `json:"unusedOffersCount"`
	LastUnusedOfferAt          *Timestamp      `json:"lastUnusedOfferAt,omitempty"`
	LastUsedOfferAt            *Timestamp      `json:"lastUsedOfferAt,omitempty"`
	RejectSummaryLastOffers    []RejectSummary `json:"rejectSummaryLastOffers,omitempty"`
	RejectSummaryLaunchAttempt []RejectSummary `json:"rejectSummaryLaunchAttempt,omitempty"`
}

// RejectSummary counts offers declined for one reason.
type RejectSummary struct {
	Reason    string `json:"reason"`
	Declined  int    `json:"declined"`
	Processed int    `json:"processed"`
}

// Queue is the body of GET /v2/queue.
type Queue struct {
	Queue []QueueItem `json:"queue"`
}

// RejectFunnel is the order in which Marathon checks an offer against an
// instance (NoOfferMatchReason.reasonFunnel): each reject summary lists
// these reasons, in this order, every one of them.
var RejectFunnel = []string{
	"UnfulfilledRole",
	"UnfulfilledConstraint",
	"NoCorrespondingReservationFound",
	"AgentMaintenance",
	"InsufficientCpus",
	"InsufficientMemory",
	"InsufficientDisk",
	"InsufficientGpus",
	"InsufficientPorts",
	"DeclinedScarceResources",
}

// RejectSummaries is a reject summary as Marathon writes it: one entry per
// reason of RejectFunnel, then the other reasons of declined sorted; the
// first entry's processed count is processed and each next one's is what
// the reasons before it left (never below zero).
func RejectSummaries(processed int, declined map[string]int) []RejectSummary {
	reasons := append([]string(nil), RejectFunnel...)
	var extra []string
	for r := range declined {
		known := false
		for _, f := range RejectFunnel {
			known = known || f == r
		}
		if !known {
			extra = append(extra, r)
		}
	}
	sort.Strings(extra)
	reasons = append(reasons, extra...)
	out := make([]RejectSummary, 0, len(reasons))
	for _, r := range reasons {
		n := declined[r]
		out = append(out, RejectSummary{Reason: r, Declined: n, Processed: processed})
		processed = max(processed-n, 0)
	}
	return out
}
