package workshop

import (
	"time"

	"github.com/mqtts-playground/playground/broker"
)

// The JSON a class's pages read. web/src/gen/workshop.ts is generated from
// this file (./task generate), so keep it to these types.

// Attendee is an attendee as the class shows them.
type Attendee struct {
	// ID is the attendee's id: their MQTT user name, the common name of
	// their client certificates and the middle of their topic space
	// (ws/ID/#); eight lower-case letters and digits.
	ID string `json:"id"`
	// Name is the display name they joined with.
	Name string `json:"name"`
	// Joined is when they joined.
	Joined time.Time `json:"joined"`
}

// LessonProgress is an attendee's progress in one lesson, as the lesson
// page reports it.
type LessonProgress struct {
	// Done are the steps done, in order.
	Done []int `json:"done"`
	// Last is the step run last.
	Last int `json:"last"`
	// Updated is when the page last reported.
	Updated time.Time `json:"updated"`
}

// Cert is a client certificate issued to an attendee.
type Cert struct {
	// Serial is the serial number in hex.
	Serial string `json:"serial"`
	// Attendee is whose it is; CN its common name (the attendee id).
	Attendee string    `json:"attendee"`
	CN       string    `json:"cn"`
	Issued   time.Time `json:"issued"`
	NotAfter time.Time `json:"notAfter"`
	// Revoked is true once it was revoked.
	Revoked bool `json:"revoked,omitempty"`
	// PEM is the certificate; only the store and the instructor's
	// revocation use it.
	PEM string `json:"pem,omitempty"`
}

// Me is the body of GET /workshop/me: the attendee, their credentials and
// how their own clients reach the broker from where they opened the page.
type Me struct {
	Attendee `tstype:",extends"`
	// Password is their MQTT password (user name: ID).
	Password string `json:"password"`
	// Topic is their topic space; their clients may use Topic and
	// everything under it.
	Topic string `json:"topic"`
	// Host is the host they reached the page by; ServerName the name the
	// broker's certificate is checked against.
	Host       string `json:"host"`
	ServerName string `json:"serverName"`
	// Ports are the broker's ports by listener name ("mqtt", "mqtts",
	// "mtls"); a listener without a port is missing.
	Ports map[string]string `json:"ports"`
	// CAURL is where the CA certificate can be fetched.
	CAURL string `json:"caURL"`
	// WSURL is MQTT over WebSocket on the web port.
	WSURL string `json:"wsURL"`
}

// ProgressReport is the body of POST /workshop/progress: a lesson page
// ran a step.
type ProgressReport struct {
	Lesson string `json:"lesson"`
	Step   int    `json:"step"`
	// Done says whether the step's checks passed.
	Done bool `json:"done"`
}

// ClassEvent is an event of GET /workshop/events, the attendee pages' feed.
type ClassEvent struct {
	// Kind is "note" (Text from the instructor), "goto" (open Lesson at
	// Step), "removed" (the attendee was removed) or "ended" (the class
	// ended).
	Kind   string    `json:"kind"`
	Text   string    `json:"text,omitempty"`
	Lesson string    `json:"lesson,omitempty"`
	Step   int       `json:"step,omitempty"`
	Time   time.Time `json:"time"`
}

// Failure is a connection of the class that failed, was refused or hit a
// limit.
type Failure struct {
	Time time.Time `json:"time"`
	// Attendee is whose connection it was; empty when unknown (a device
	// whose TLS handshake failed names no one). Guessed is true when the
	// attendee was inferred from the address, the only attendee seen there.
	Attendee string `json:"attendee,omitempty"`
	Guessed  bool   `json:"guessed,omitempty"`
	// Kind is "handshake", "auth", "acl" or "limit" (broker.Notice).
	Kind   string `json:"kind"`
	Cause  string `json:"cause"`
	Detail string `json:"detail,omitempty"`
	Topic  string `json:"topic,omitempty"`
	// Conn, Listener, ClientID and Remote name the connection.
	Conn     string `json:"conn,omitempty"`
	Listener string `json:"listener,omitempty"`
	ClientID string `json:"clientId,omitempty"`
	Remote   string `json:"remote,omitempty"`
	// Lesson and Step are where the attendee was in the course then.
	Lesson string `json:"lesson,omitempty"`
	Step   int    `json:"step,omitempty"`
}

// FailureGroup is the class's failures of one cause at one lesson step.
type FailureGroup struct {
	Kind   string `json:"kind"`
	Cause  string `json:"cause"`
	Lesson string `json:"lesson,omitempty"`
	Step   int    `json:"step,omitempty"`
	// Attendees are those who hit it; Unknown counts the failures of
	// clients no one could be named for.
	Attendees []string `json:"attendees"`
	Unknown   int      `json:"unknown"`
	// Count is how many failures; Last when the latest was.
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
	// Text says it in a line: "3 attendees hit … on tls-basics step 4".
	Text string `json:"text"`
}

// AttendeeView is an attendee on the instructor's dashboard.
type AttendeeView struct {
	Attendee `tstype:",extends"`
	// LastSeen is when their page last reached the server.
	LastSeen time.Time `json:"lastSeen"`
	// Lesson and Step are where they are: the step they ran last.
	Lesson string `json:"lesson,omitempty"`
	Step   int    `json:"step,omitempty"`
	// Done counts the steps done in every lesson.
	Done     int                        `json:"done"`
	Progress map[string]*LessonProgress `json:"progress"`
	// Open counts their open connections; Browser those through the
	// page's tunnel, Devices the others.
	Open     int `json:"open"`
	Browser  int `json:"browser"`
	Devices  int `json:"devices"`
	Failures int `json:"failures"`
	// Certs are the client certificates issued to them.
	Certs []Cert `json:"certs"`
}

// ClassView is the instructor's dashboard: the body of the "class" events
// of GET /instructor/stream.
type ClassView struct {
	Started   time.Time      `json:"started"`
	Attendees []AttendeeView `json:"attendees"`
	// Failures are grouped by cause and lesson step, most attendees first.
	Failures []FailureGroup `json:"failures"`
	// Connections are the broker's recent connections, newest first, at
	// most KeepConns of them (--keep-conns).
	Connections []broker.ConnInfo `json:"connections"`
	KeepConns   int               `json:"keepConns"`
	// Note is the last note broadcast; Goto the last push to a step.
	Note string      `json:"note,omitempty"`
	Goto *ClassEvent `json:"goto,omitempty"`
}

// Export is what a class did, as JSON: GET /instructor/export, and the
// answer of POST /instructor/end.
type Export struct {
	Started     time.Time         `json:"started"`
	Ended       time.Time         `json:"ended,omitzero"`
	Attendees   []AttendeeView    `json:"attendees"`
	Certs       []Cert            `json:"certs"`
	Failures    []Failure         `json:"failures"`
	Events      []ClassEvent      `json:"events"`
	Connections []broker.ConnInfo `json:"connections"`
}
