package jobs

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed ISO 8601 repeating interval, R[n]/<start>/<period>,
// as Chronos reads it (J/Iso8601Expressions.scala).
type Schedule struct {
	// Repeats is the number of runs left; -1 is infinite (a bare "R").
	Repeats int
	// Start is the next occurrence, in the schedule's zone.
	Start time.Time
	// Period is the interval between occurrences; a zero Period makes a
	// one-shot schedule.
	Period Period
	// period is the period as written, kept when the schedule is printed.
	period string
}

// Period is an ISO 8601 period, PnYnMnWnDTnHnMn[.fff]S: the calendar part
// moves the wall clock in the schedule's zone (P1D keeps the hour across a
// DST change), the clock part adds elapsed time (PT24H does not).
type Period struct {
	Years, Months, Days int // weeks are folded into Days
	Clock               time.Duration
}

// IsZero reports a zero period (P, PT0S): the schedule runs once.
func (p Period) IsZero() bool {
	return p.Years == 0 && p.Months == 0 && p.Days == 0 && p.Clock == 0
}

// calendar reports whether the period has a calendar part, whose length
// depends on where it starts.
func (p Period) calendar() bool { return p.Years != 0 || p.Months != 0 || p.Days != 0 }

// add returns t plus one period.
func (p Period) add(t time.Time) time.Time {
	if p.calendar() {
		t = t.AddDate(p.Years, p.Months, p.Days)
	}
	return t.Add(p.Clock)
}

// ErrSchedule is wrapped by every schedule parse error.
var ErrSchedule = errors.New("cannot parse schedule")

var (
	scheduleRE = regexp.MustCompile(`^(R\d*)/(.*)/(P.*)$`)
	periodRE   = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$`)
)

// startLayouts are the forms Joda's DateTime.parse accepts that clients
// send: offsets or Z, fractional seconds, minutes only, a bare date.
var startLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// maxRepeats bounds Rn: larger counts are as good as infinite and would
// overflow arithmetic elsewhere.
const maxRepeats = 1 << 40

// ParseSchedule parses s with the time zone zone (a tz database name; ""
// keeps the start's own offset). An empty start means one second before
// now, as Chronos has it: the job is due at once. An unknown zone falls
// back to UTC, as Java's TimeZone.getTimeZone does. With a zone, the
// start's wall clock is kept and its offset dropped.
func ParseSchedule(s, zone string, now time.Time) (Schedule, error) {
	m := scheduleRE.FindStringSubmatch(s)
	if m == nil {
		return Schedule{}, fmt.Errorf("%w '%s'", ErrSchedule, s)
	}
	sc := Schedule{Repeats: -1, period: m[3]}
	if n := strings.TrimPrefix(m[1], "R"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v > maxRepeats {
			return Schedule{}, fmt.Errorf("%w '%s': repetitions", ErrSchedule, s)
		}
		sc.Repeats = v
	}
	p, err := ParsePeriod(m[3])
	if err != nil {
		return Schedule{}, fmt.Errorf("%w '%s': %w", ErrSchedule, s, err)
	}
	sc.Period = p
	var loc *time.Location
	if zone != "" {
		if loc, err = time.LoadLocation(zone); err != nil {
			loc = time.UTC
		}
	}
	if m[2] == "" {
		start := now.Add(-time.Second)
		if loc != nil {
			start = start.In(loc)
		}
		sc.Start = start
		return sc, nil
	}
	start, err := parseStart(m[2])
	if err != nil {
		return Schedule{}, fmt.Errorf("%w '%s': %w", ErrSchedule, s, err)
	}
	if loc != nil {
		start = time.Date(start.Year(), start.Month(), start.Day(), start.Hour(), start.Minute(), start.Second(), start.Nanosecond(), loc)
	} else {
		// A fixed offset: no DST without a zone, as in Chronos.
		_, off := start.Zone()
		start = start.In(time.FixedZone("", off))
	}
	sc.Start = start
	return sc, nil
}

func parseStart(s string) (time.Time, error) {
	for _, layout := range startLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("start %q is not an ISO 8601 date-time", s)
}

// ParsePeriod parses an ISO 8601 period as Joda's ISOPeriodFormat.standard.
func ParsePeriod(s string) (Period, error) {
	m := periodRE.FindStringSubmatch(s)
	if m == nil || strings.HasSuffix(s, "T") {
		return Period{}, fmt.Errorf("period %q is not PnYnMnWnDTnHnMnS", s)
	}
	num := func(i int) (int, error) {
		if m[i] == "" {
			return 0, nil
		}
		v, err := strconv.Atoi(m[i])
		if err != nil || v > 100000 {
			return 0, fmt.Errorf("period %q: %q out of range", s, m[i])
		}
		return v, nil
	}
	var p Period
	var parts [7]int
	for i := 1; i <= 6; i++ {
		v, err := num(i)
		if err != nil {
			return Period{}, err
		}
		parts[i] = v
	}
	p.Years, p.Months, p.Days = parts[1], parts[2], parts[3]*7+parts[4]
	p.Clock = time.Duration(parts[5])*time.Hour + time.Duration(parts[6])*time.Minute
	if m[7] != "" {
		sec, err := strconv.ParseFloat(strings.Replace(m[7], ",", ".", 1), 64)
		if err != nil || sec > 1e9 {
			return Period{}, fmt.Errorf("period %q: seconds out of range", s)
		}
		p.Clock += time.Duration(sec * float64(time.Second))
	}
	return p, nil
}

// String prints the schedule as Chronos writes it back: the start in
// Joda's ISO form with milliseconds and the zone's offset.
func (s Schedule) String() string {
	r := "R"
	if s.Repeats >= 0 {
		r += strconv.Itoa(s.Repeats)
	}
	return r + "/" + FormatStart(s.Start) + "/" + s.period
}

// FormatStart formats a start as Joda does: milliseconds, and the offset
// (Z for UTC).
func FormatStart(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// Done reports whether no run is left (R0).
func (s Schedule) Done() bool { return s.Repeats == 0 }

// Due reports whether the next occurrence has come at now.
func (s Schedule) Due(now time.Time) bool { return !s.Done() && !s.Start.After(now) }

// maxSteps bounds the walk over calendar periods; beyond it the walk jumps
// by an estimate (Chronos's calculateSkips).
const maxSteps = 100000

// Missed returns the latest occurrence at or before now, and how many
// occurrences lie at or before now (0 when the start is in the future).
func (s Schedule) Missed(now time.Time) (latest time.Time, n int64) {
	if s.Start.After(now) {
		return time.Time{}, 0
	}
	if s.Period.IsZero() {
		return s.Start, 1
	}
	if !s.Period.calendar() {
		k := int64(now.Sub(s.Start) / s.Period.Clock)
		return s.Start.Add(time.Duration(k) * s.Period.Clock), k + 1
	}
	t, n := s.Start, int64(1)
	for i := 0; i < maxSteps; i++ {
		next := s.Period.add(t)
		if next.After(now) {
			return t, n
		}
		t, n = next, n+1
	}
	return t, n
}

// Advance returns the schedule after one run at now: the start moves to
// the first occurrence strictly after now and a finite count drops by
// one, whatever the number of occurrences passed (Chronos's skipForward).
// A zero period ends the schedule (R0).
func (s Schedule) Advance(now time.Time) Schedule {
	if s.Repeats > 0 {
		s.Repeats--
	}
	if s.Period.IsZero() {
		s.Repeats = 0
		return s
	}
	latest, n := s.Missed(now)
	if n == 0 {
		s.Start = s.Period.add(s.Start)
		return s
	}
	s.Start = s.Period.add(latest)
	for !s.Start.After(now) { // the walk's cap was hit
		s.Start = s.Period.add(s.Start)
	}
	return s
}
