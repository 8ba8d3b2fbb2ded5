package broker

import (
	"fmt"
	"net/url"
)

// ConnFilter picks connections by what GET /trace's query names: an
// attendee id, a listener, an MQTT client id and an outcome ("open", "ok"
// or "failed"); an empty field picks any.
type ConnFilter struct {
	Attendee, Listener, Client, Outcome string
}

// ParseConnFilter reads a ConnFilter from the query parameters attendee,
// listener, client and outcome; an outcome other than open, ok or failed
// is an error.
func ParseConnFilter(q url.Values) (ConnFilter, error) {
	f := ConnFilter{Attendee: q.Get("attendee"), Listener: q.Get("listener"), Client: q.Get("client"), Outcome: q.Get("outcome")}
	switch f.Outcome {
	case "", "open", "ok", "failed":
	default:
		return ConnFilter{}, fmt.Errorf("trace: ?outcome=%q: give open, ok or failed", f.Outcome)
	}
	return f, nil
}

// Keep returns the filter as a keep function for ConnsOf and FindOf,
// narrowing scoped (nil: every connection); nil when neither picks.
func (f ConnFilter) Keep(scoped func(*ConnInfo) bool) func(*ConnInfo) bool {
	if f == (ConnFilter{}) {
		return scoped
	}
	return func(c *ConnInfo) bool {
		switch {
		case scoped != nil && !scoped(c),
			f.Attendee != "" && c.Owner != f.Attendee,
			f.Listener != "" && c.Listener != f.Listener,
			f.Client != "" && c.ClientID != f.Client,
			f.Outcome == "open" && !c.Ended.IsZero(),
			f.Outcome == "ok" && (c.Ended.IsZero() || c.Err != ""),
			f.Outcome == "failed" && c.Err == "":
			return false
		}
		return true
	}
}
