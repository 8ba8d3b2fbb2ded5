// Package workshop runs a class (the server's --workshop mode): one
// instructor, many attendees on their own laptops and devices. It keeps the
// attendees, their credentials, the client certificates issued to them and
// their lesson progress in an embedded store in the data folder (see
// StoreFile), answers the broker's questions about who a client is
// (broker.Accounts), groups the class's failures by cause for the
// instructor, and carries the instructor's notes and pushes to the
// attendees' pages.
//
// It does not serve HTTP, issue certificates or enforce topics: the server
// and the broker do, asking it.
package workshop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mqtts-playground/playground/broker"
)

// InstructorUser is the MQTT user name of the instructor, whose password
// is the instructor token: the instructor's own clients may touch every
// topic.
const InstructorUser = "instructor"

// MaxNameRunes bounds a display name.
const MaxNameRunes = 40

// Limits of what a class remembers beyond the store.
const (
	keepFailures = 2000
	keepEvents   = 200
)

// Class is a running class.
type Class struct {
	st      *store
	token   string
	id      string
	now     func() time.Time
	version atomic.Uint64 // counts changes, for the dashboard

	mu        sync.Mutex
	started   time.Time
	attendees map[string]*attendeeRecord
	certs     map[string]Cert
	seen      map[string]time.Time       // attendee → when their page was last here
	addrs     map[string]map[string]bool // web address → attendees seen there
	failures  []Failure                  // oldest first, at most keepFailures
	events    []ClassEvent               // notes and pushes, oldest first
	subs      map[string]map[chan ClassEvent]bool
}

// Open opens the class kept in dir (creating it on first use). token is the
// instructor token; empty, the class makes one on first use and keeps it in
// the store.
func Open(dir, token string) (*Class, error) {
	st, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	c := &Class{st: st, now: time.Now, seen: map[string]time.Time{}, addrs: map[string]map[string]bool{}, subs: map[string]map[chan ClassEvent]bool{}}
	fail := func(err error) (*Class, error) {
		st.close()
		return nil, err
	}
	if c.id, err = st.meta("class", func() string { return randomHex(4) }); err != nil {
		return fail(fmt.Errorf("workshop: %w", err))
	}
	if c.token = token; c.token == "" {
		if c.token, err = st.meta("token", func() string { return randomHex(16) }); err != nil {
			return fail(fmt.Errorf("workshop: %w", err))
		}
	}
	started, err := st.meta("started", func() string { return c.now().UTC().Format(time.RFC3339) })
	if err != nil {
		return fail(fmt.Errorf("workshop: %w", err))
	}
	c.started, _ = time.Parse(time.RFC3339, started)
	if c.attendees, c.certs, err = st.load(); err != nil {
		return fail(err)
	}
	return c, nil
}

// Close closes the store.
func (c *Class) Close() error { return c.st.close() }

// Token is the instructor token.
func (c *Class) Token() string { return c.token }

// ID is a short random name of this class (of its data folder), which
// keeps the cookies of two classes on one host apart.
func (c *Class) ID() string { return c.id }

// Version counts the changes to the class: a viewer whose count is
// unchanged has seen them all.
func (c *Class) Version() uint64 { return c.version.Load() }

func (c *Class) changed() { c.version.Add(1) }

// Attendees returns the number of attendees.
func (c *Class) Attendees() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.attendees)
}

// ---- joining and credentials ----

// Join adds an attendee with a display name and returns them and the value
// of their session cookie, the one secret their credentials come from:
//
//   - the session: the cookie holds the id and a 256-bit random secret;
//     the store keeps the secret's SHA-256 only;
//   - the MQTT password: an HMAC of the secret (128 bits, in base32), so
//     the attendee's page can show it again whenever they come back with
//     the cookie, while the store keeps only a salted SHA-256 of it.
//
// A salted SHA-256 is enough for secrets of 128 and 256 random bits: a
// slow hash (bcrypt, argon2) protects passwords people choose, which can be
// guessed from a list; nobody can guess 2^128. A stolen store gives away no
// credential.
func (c *Class) Join(name string) (Attendee, string, error) {
	name, err := cleanName(name)
	if err != nil {
		return Attendee{}, "", err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	salt := make([]byte, 16)
	rand.Read(salt)
	c.mu.Lock()
	defer c.mu.Unlock()
	id := newID()
	for c.attendees[id] != nil || id == InstructorUser {
		id = newID()
	}
	sh := sha256.Sum256(secret)
	r := &attendeeRecord{ID: id, Name: name, Joined: c.now().UTC(), Salt: salt, PasswordHash: hashPassword(salt, password(secret)), SessionHash: sh[:]}
	if err := c.st.putAttendee(r); err != nil {
		return Attendee{}, "", fmt.Errorf("workshop: saving the attendee: %w", err)
	}
	c.attendees[id] = r
	c.changed()
	return r.public(), id + "." + base64.RawURLEncoding.EncodeToString(secret), nil
}

// Session returns the attendee a session cookie belongs to and their MQTT
// password; false when the cookie is not a current attendee's.
func (c *Class) Session(cookie string) (Attendee, string, bool) {
	id, enc, ok := strings.Cut(cookie, ".")
	if !ok {
		return Attendee{}, "", false
	}
	secret, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(secret) != 32 {
		return Attendee{}, "", false
	}
	sh := sha256.Sum256(secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.attendees[id]
	if r == nil || subtle.ConstantTimeCompare(sh[:], r.SessionHash) != 1 {
		return Attendee{}, "", false
	}
	return r.public(), password(secret), true
}

// Login checks an MQTT user name and password (broker.Accounts): an
// attendee's id and password, or InstructorUser and the instructor token.
func (c *Class) Login(user string, pw []byte) (broker.Principal, error) {
	if user == InstructorUser {
		if subtle.ConstantTimeCompare(pw, []byte(c.token)) == 1 {
			return broker.Principal{Instructor: true}, nil
		}
		return broker.Principal{}, errors.New("wrong password for the instructor (it is the instructor token)")
	}
	c.mu.Lock()
	r := c.attendees[user]
	c.mu.Unlock()
	if r == nil {
		return broker.Principal{}, fmt.Errorf("no attendee %q in this class: the user name is the id your attendee page shows", user)
	}
	if subtle.ConstantTimeCompare(hashPassword(r.Salt, string(pw)), r.PasswordHash) != 1 {
		return broker.Principal{}, fmt.Errorf("wrong password for attendee %s: copy it from your attendee page", user)
	}
	return broker.Principal{Owner: user}, nil
}

// Exists reports whether id is an attendee (broker.Accounts).
func (c *Class) Exists(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.attendees[id] != nil
}

// Seen notes that an attendee's page reached the server from addr (an IP
// address), so that failures of clients that name no one can be put down
// to the only attendee seen at their address.
func (c *Class) Seen(id, addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attendees[id] == nil {
		return
	}
	c.seen[id] = c.now()
	if addr != "" {
		if c.addrs[addr] == nil {
			if len(c.addrs) > 10000 { // a bound, not a working size
				clear(c.addrs)
			}
			c.addrs[addr] = map[string]bool{}
		}
		c.addrs[addr][id] = true
	}
}

// Remove removes an attendee: their session, password and certificates
// stop working (the caller revokes the certificates and ends their
// connections), and their open pages are told.
func (c *Class) Remove(id string) (Attendee, error) {
	c.mu.Lock()
	r := c.attendees[id]
	if r == nil {
		c.mu.Unlock()
		return Attendee{}, fmt.Errorf("workshop: no attendee %q", id)
	}
	if err := c.st.deleteAttendee(id); err != nil {
		c.mu.Unlock()
		return Attendee{}, fmt.Errorf("workshop: removing %s: %w", id, err)
	}
	delete(c.attendees, id)
	delete(c.seen, id)
	c.mu.Unlock()
	c.changed()
	c.send(id, ClassEvent{Kind: "removed", Text: "the instructor removed you from the class", Time: c.now()})
	return r.public(), nil
}

// ---- progress and certificates ----

// Report records a lesson step an attendee's page ran.
func (c *Class) Report(id string, p ProgressReport) error {
	if p.Lesson == "" || len(p.Lesson) > 64 || p.Step < 1 || p.Step > 1000 {
		return errors.New("workshop: a report names a lesson (an id) and a step (1 or more)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.attendees[id]
	if r == nil {
		return fmt.Errorf("workshop: no attendee %q", id)
	}
	if r.Progress == nil {
		r.Progress = map[string]*LessonProgress{}
	}
	lp := r.Progress[p.Lesson]
	if lp == nil {
		if len(r.Progress) >= 100 {
			return errors.New("workshop: too many lessons reported")
		}
		lp = &LessonProgress{}
		r.Progress[p.Lesson] = lp
	}
	c.seen[id] = c.now()
	i, found := slices.BinarySearch(lp.Done, p.Step)
	if lp.Last == p.Step && (found || !p.Done) {
		// Nothing new to keep: no write to the store (the time of the
		// last report stays the stored one).
		return nil
	}
	lp.Last, lp.Updated = p.Step, c.now().UTC()
	if p.Done && !found {
		lp.Done = slices.Insert(lp.Done, i, p.Step)
	}
	c.changed()
	return c.st.putAttendee(r)
}

// AddCert records a client certificate issued to an attendee.
func (c *Class) AddCert(cert Cert) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.st.putCert(cert); err != nil {
		return fmt.Errorf("workshop: %w", err)
	}
	c.certs[cert.Serial] = cert
	c.changed()
	return nil
}

// Cert returns a certificate the class issued, by hex serial.
func (c *Class) Cert(serial string) (Cert, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert, ok := c.certs[strings.ToLower(serial)]
	return cert, ok
}

// CertsOf returns the certificates issued to an attendee, oldest first.
func (c *Class) CertsOf(id string) []Cert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.certsOf(id)
}

func (c *Class) certsOf(id string) []Cert {
	var out []Cert
	for _, cert := range c.certs {
		if cert.Attendee == id {
			out = append(out, cert)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Issued.Before(out[j].Issued) })
	return out
}

// MarkRevoked notes that a certificate was revoked.
func (c *Class) MarkRevoked(serial string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert, ok := c.certs[strings.ToLower(serial)]
	if !ok || cert.Revoked {
		return nil
	}
	cert.Revoked = true
	if err := c.st.putCert(cert); err != nil {
		return fmt.Errorf("workshop: %w", err)
	}
	c.certs[cert.Serial] = cert
	c.changed()
	return nil
}

// ---- failures ----

// Notice records what the broker noticed (broker.ClassOptions.Notify), with
// where the attendee was in the course.
func (c *Class) Notice(n broker.Notice) {
	f := Failure{Time: n.Time, Attendee: n.Info.Owner, Kind: n.Kind, Cause: n.Cause, Detail: n.Detail, Topic: n.Topic,
		Conn: n.Info.ID, Listener: n.Info.Listener, ClientID: n.Info.ClientID, Remote: n.Info.Remote}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Attendee == "" {
		if host := hostOf(f.Remote); host != "" && len(c.addrs[host]) == 1 {
			for id := range c.addrs[host] {
				f.Attendee, f.Guessed = id, true
			}
		}
	}
	if r := c.attendees[f.Attendee]; r != nil {
		f.Lesson, f.Step = r.position()
	}
	if len(c.failures) >= keepFailures {
		c.failures = slices.Delete(c.failures, 0, len(c.failures)-keepFailures+1)
	}
	c.failures = append(c.failures, f)
	c.changed()
}

// hostOf is the IP address of "ip:port" (brackets removed), or "".
func hostOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return ""
	}
	return strings.Trim(addr[:i], "[]")
}

// groups groups the failures by kind, cause and lesson step, the groups
// hitting the most attendees first.
func groups(fs []Failure) []FailureGroup {
	type key struct {
		kind, cause, lesson string
		step                int
	}
	byKey := map[key]*FailureGroup{}
	var order []*FailureGroup
	for _, f := range fs {
		k := key{f.Kind, f.Cause, f.Lesson, f.Step}
		g := byKey[k]
		if g == nil {
			g = &FailureGroup{Kind: f.Kind, Cause: f.Cause, Lesson: f.Lesson, Step: f.Step, Attendees: []string{}}
			byKey[k] = g
			order = append(order, g)
		}
		g.Count++
		g.Last = f.Time
		switch {
		case f.Attendee == "":
			g.Unknown++
		case !slices.Contains(g.Attendees, f.Attendee):
			g.Attendees = append(g.Attendees, f.Attendee)
		}
	}
	out := make([]FailureGroup, 0, len(order))
	for _, g := range order {
		g.Text = g.text()
		out = append(out, *g)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := len(out[i].Attendees), len(out[j].Attendees); a != b {
			return a > b
		}
		return out[i].Last.After(out[j].Last)
	})
	return out
}

func (g *FailureGroup) text() string {
	var who []string
	if n := len(g.Attendees); n > 0 {
		who = append(who, plural(n, "attendee"))
	}
	if g.Unknown > 0 {
		who = append(who, plural(g.Unknown, "unidentified client"))
	}
	s := strings.Join(who, " and ") + " hit " + g.Cause
	if g.Lesson != "" {
		s += fmt.Sprintf(" on %s step %d", g.Lesson, g.Step)
	}
	if n := len(g.Attendees) + g.Unknown; g.Count > n {
		s += fmt.Sprintf(" (%d times)", g.Count)
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ---- the instructor's pushes and the attendees' feed ----

// Note broadcasts a short note to every attendee's open pages.
func (c *Class) Note(text string) error {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > 500 {
		return errors.New("workshop: a note is 1 to 500 characters")
	}
	c.broadcast(ClassEvent{Kind: "note", Text: text, Time: c.now()})
	return nil
}

// Goto pushes the class to a lesson step: every attendee page opens it.
func (c *Class) Goto(lesson string, step int) error {
	if lesson == "" || step < 1 {
		return errors.New("workshop: give a lesson and a step (1 or more)")
	}
	c.broadcast(ClassEvent{Kind: "goto", Lesson: lesson, Step: step, Time: c.now()})
	return nil
}

func (c *Class) broadcast(ev ClassEvent) {
	c.mu.Lock()
	if len(c.events) >= keepEvents {
		c.events = slices.Delete(c.events, 0, 1)
	}
	c.events = append(c.events, ev)
	var chans []chan ClassEvent
	for _, set := range c.subs {
		for ch := range set {
			chans = append(chans, ch)
		}
	}
	c.mu.Unlock()
	c.changed()
	for _, ch := range chans {
		deliver(ch, ev)
	}
}

func (c *Class) send(id string, ev ClassEvent) {
	c.mu.Lock()
	var chans []chan ClassEvent
	for ch := range c.subs[id] {
		chans = append(chans, ch)
	}
	c.mu.Unlock()
	for _, ch := range chans {
		deliver(ch, ev)
	}
}

// deliver hands ev to a page's feed, dropping it for a page that does not
// keep up.
func deliver(ch chan ClassEvent, ev ClassEvent) {
	select {
	case ch <- ev:
	default:
	}
}

// Subscribe opens an attendee page's feed; it starts with the last note,
// and stop closes it.
func (c *Class) Subscribe(id string) (events <-chan ClassEvent, stop func()) {
	ch := make(chan ClassEvent, 16)
	c.mu.Lock()
	if c.subs[id] == nil {
		c.subs[id] = map[chan ClassEvent]bool{}
	}
	c.subs[id][ch] = true
	for i := len(c.events) - 1; i >= 0; i-- {
		if c.events[i].Kind == "note" {
			ch <- c.events[i]
			break
		}
	}
	c.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			delete(c.subs[id], ch)
			if len(c.subs[id]) == 0 {
				delete(c.subs, id)
			}
		})
	}
}

// ---- views ----

// View is the instructor's dashboard over the broker's recent connections
// conns (newest first).
func (c *Class) View(conns []broker.ConnInfo, keepConns int) ClassView {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := ClassView{Started: c.started, Attendees: c.attendeeViews(conns), Failures: groups(c.failures), Connections: conns, KeepConns: keepConns}
	for i := len(c.events) - 1; i >= 0; i-- {
		switch ev := c.events[i]; {
		case ev.Kind == "note" && v.Note == "":
			v.Note = ev.Text
		case ev.Kind == "goto" && v.Goto == nil:
			v.Goto = &ev
		}
	}
	return v
}

func (c *Class) attendeeViews(conns []broker.ConnInfo) []AttendeeView {
	byID := map[string]*AttendeeView{}
	out := make([]AttendeeView, 0, len(c.attendees))
	for _, r := range c.attendees {
		v := AttendeeView{Attendee: r.public(), LastSeen: c.seen[r.ID], Progress: r.Progress, Certs: []Cert{}}
		if v.Progress == nil {
			v.Progress = map[string]*LessonProgress{}
		}
		v.Lesson, v.Step = r.position()
		for _, lp := range r.Progress {
			v.Done += len(lp.Done)
		}
		for _, cert := range c.certsOf(r.ID) {
			cert.PEM = ""
			v.Certs = append(v.Certs, cert)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Joined.Before(out[j].Joined) })
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	for _, ci := range conns {
		if v := byID[ci.Owner]; v != nil && ci.Ended.IsZero() {
			v.Open++
			if ci.Tunnel {
				v.Browser++
			} else {
				v.Devices++
			}
		}
	}
	for _, f := range c.failures {
		if v := byID[f.Attendee]; v != nil {
			v.Failures++
		}
	}
	return out
}

// Export is what the class did so far.
func (c *Class) Export(conns []broker.ConnInfo) Export {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := Export{Started: c.started, Attendees: c.attendeeViews(conns), Certs: []Cert{}, Failures: slices.Clone(c.failures), Events: slices.Clone(c.events), Connections: conns}
	for _, cert := range c.certs {
		cert.PEM = ""
		e.Certs = append(e.Certs, cert)
	}
	sort.Slice(e.Certs, func(i, j int) bool { return e.Certs[i].Issued.Before(e.Certs[j].Issued) })
	if e.Failures == nil {
		e.Failures = []Failure{}
	}
	if e.Events == nil {
		e.Events = []ClassEvent{}
	}
	return e
}

// End ends the class: it returns the export, tells every open page, and
// forgets the attendees (their sessions and passwords stop working) and
// the records of their certificates (the caller revokes those first).
// The next attendee to join starts a new class.
func (c *Class) End(conns []broker.ConnInfo) (Export, error) {
	e := c.Export(conns)
	e.Ended = c.now().UTC()
	c.broadcast(ClassEvent{Kind: "ended", Text: "the class has ended: thank you", Time: c.now()})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.st.clear(); err != nil {
		return e, fmt.Errorf("workshop: %w", err)
	}
	clear(c.attendees)
	clear(c.certs)
	clear(c.seen)
	clear(c.addrs)
	c.failures, c.events = nil, nil
	c.started = c.now().UTC()
	c.st.setMeta("started", c.started.Format(time.RFC3339))
	c.changed()
	return e, nil
}

// ---- helpers ----

func (r *attendeeRecord) public() Attendee { return Attendee{ID: r.ID, Name: r.Name, Joined: r.Joined} }

// position is the lesson step the attendee ran last.
func (r *attendeeRecord) position() (string, int) {
	var lesson string
	var at time.Time
	step := 0
	for id, lp := range r.Progress {
		if lp.Updated.After(at) {
			lesson, step, at = id, lp.Last, lp.Updated
		}
	}
	return lesson, step
}

// cleanName checks a display name: 1 to MaxNameRunes characters, no control
// characters; runs of spaces become one.
func cleanName(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return "", errors.New("workshop: the name is not valid UTF-8")
	case n == 0:
		return "", errors.New("workshop: give a name (what the instructor sees)")
	case n > MaxNameRunes:
		return "", fmt.Errorf("workshop: the name has %d characters; keep it to %d", n, MaxNameRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", errors.New("workshop: the name holds a control or formatting character")
		}
	}
	return s, nil
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID makes an attendee id: eight letters and digits (as the lesson
// pages' learner ids), about 41 bits.
func newID() string {
	b := make([]byte, 8)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(idAlphabet))))
		b[i] = idAlphabet[n.Int64()]
	}
	return string(b)
}

// password derives an attendee's MQTT password from their session secret.
func password(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("mqtts-playground mqtt password"))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:16]))
}

func hashPassword(salt []byte, pw string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pw))
	return h.Sum(nil)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
