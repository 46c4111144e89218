package placement

import (
	"fmt"
	"strconv"
)

// Reason is why one offer did not take an instance. The values are
// Marathon's NoOfferMatchReason names, which /v2/queue reports in
// processedOffersSummary.rejectSummaryLastOffers, plus OfferFull for
// offers that reached Request.MaxPerOffer (Marathon reports no reason for
// those; the API may leave them out).
type Reason string

// Offer rejection reasons, in Marathon's funnel order.
const (
	ReasonRole       Reason = "UnfulfilledRole"
	ReasonConstraint Reason = "UnfulfilledConstraint"
	ReasonCpus       Reason = "InsufficientCpus"
	ReasonMem        Reason = "InsufficientMemory"
	ReasonDisk       Reason = "InsufficientDisk"
	ReasonGpus       Reason = "InsufficientGpus"
	ReasonPorts      Reason = "InsufficientPorts"
	ReasonOfferFull  Reason = "OfferFull"
)

// funnel is the reporting order of the reasons.
var funnel = []Reason{ReasonRole, ReasonConstraint, ReasonCpus, ReasonMem, ReasonDisk, ReasonGpus, ReasonPorts, ReasonOfferFull}

// Rejection counts the offers that rejected an instance for one reason.
type Rejection struct {
	Reason Reason
	Offers int
}

// Texts of Unplaced.Reason that are not derived from a constraint.
const (
	TextNoOffers = "no offers"
	TextCpus     = "insufficient cpus"
	TextMem      = "insufficient mem"
	TextDisk     = "insufficient disk"
	TextGpus     = "insufficient gpus"
	TextPorts    = "no ports"
	TextRole     = "no resources in an accepted role"
	// textRemoteRegion is the constraint text of offers from agents in
	// another region than the master's, for apps that do not name
	// "@region" or "@zone" in a constraint.
	textRemoteRegion = "@region (agent outside the master's region)"
)

// text renders a reason for Unplaced.Reason; constraint names the first
// constraint that failed, max is the effective MaxPerOffer.
func (r Reason) text(constraint string, max int) string {
	switch r {
	case ReasonRole:
		return TextRole
	case ReasonConstraint:
		return "constraint " + constraint
	case ReasonCpus:
		return TextCpus
	case ReasonMem:
		return TextMem
	case ReasonDisk:
		return TextDisk
	case ReasonGpus:
		return TextGpus
	case ReasonPorts:
		return TextPorts
	case ReasonOfferFull:
		return "offers full (" + strconv.Itoa(max) + " instances per offer)"
	}
	return string(r)
}

// tally counts rejections per reason while one instance is tried against
// the offers.
type tally struct {
	counts      [8]int // indexed like funnel
	constraints []constraintCount
}

// constraintCount counts the offers one constraint rejected.
type constraintCount struct {
	text string
	n    int
}

// addConstraint records an offer rejected by the constraint with text.
func (t *tally) addConstraint(text string) {
	t.add(ReasonConstraint)
	for i := range t.constraints {
		if t.constraints[i].text == text {
			t.constraints[i].n++
			return
		}
	}
	t.constraints = append(t.constraints, constraintCount{text: text, n: 1})
}

// constraint returns the text of the constraint that rejected the most
// offers (ties: the first seen).
func (t *tally) constraint() string {
	best := -1
	for i, c := range t.constraints {
		if best < 0 || c.n > t.constraints[best].n {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return t.constraints[best].text
}

func (t *tally) add(r Reason) {
	for i, f := range funnel {
		if f == r {
			t.counts[i]++
			return
		}
	}
}

// rejections returns the non-zero counts in funnel order.
func (t *tally) rejections() []Rejection {
	var out []Rejection
	for i, n := range t.counts {
		if n > 0 {
			out = append(out, Rejection{Reason: funnel[i], Offers: n})
		}
	}
	return out
}

// dominant returns the reason that rejected the most offers; ties go to
// the reason earlier in the funnel.
func (t *tally) dominant() (Reason, bool) {
	best := -1
	for i, n := range t.counts {
		if n > 0 && (best < 0 || n > t.counts[best]) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return funnel[best], true
}

// constraintText renders a constraint as "field OP [value]".
func constraintText(field, op, value string) string {
	if value == "" {
		return fmt.Sprintf("%s %s", field, op)
	}
	return fmt.Sprintf("%s %s %s", field, op, value)
}
