package marathon

import "encoding/json"

// QueueItem is an entry of GET /v2/queue: an app with instances waiting to
// launch.
type QueueItem struct {
	App   App       `json:"app"`
	Count int       `json:"count"`
	Role  string    `json:"role,omitempty"`
	Delay Delay     `json:"delay"`
	Since Timestamp `json:"since"`
	// ProcessedOffersSummary explains recent offer matching.
	ProcessedOffersSummary *OffersSummary `json:"processedOffersSummary,omitempty"`
	// LastUnusedOffers is returned with embed=lastUnusedOffers; kept opaque.
	LastUnusedOffers []json.RawMessage `json:"lastUnusedOffers,omitempty"`
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
