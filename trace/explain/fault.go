package explain

// Fault is what is wrong, on purpose, with one lesson listener: what a
// client meets there and what fixes it on a real broker. Its JSON form
// reaches the page with the listener (GET /healthz); web/src/gen/explain.ts
// is generated from this file, so keep it to this type.
type Fault struct {
	// Listener is the lesson listener's name.
	Listener string `json:"listener"`
	// What names the fault in a few words, for tables and log lines:
	// "expired certificate".
	What string `json:"what"`
	// Meets says what a client meets there: what a client that verifies
	// refuses, or what it accepts and should not.
	Meets string `json:"meets"`
	// Advice says what to do about it on a real broker or client.
	Advice string `json:"advice"`
}
