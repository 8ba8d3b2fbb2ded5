package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/lessons"
	"github.com/mqtts-playground/playground/server/pages"
	"github.com/mqtts-playground/playground/workshop"
)

// A class (--workshop): attendees join at /join with a name and get a
// session cookie, from which the server knows them on every request (the
// tunnel, /trace, /pki/csr, their page). classSession reads it;
// classPages serves the attendee's side.

// maxAttendees bounds a class, so that a flood of joins cannot fill the
// disk.
const maxAttendees = 2000

// errNotJoined is the refusal of a request that needs an attendee.
var errNotJoined = errors.New("join the class first: open /join")

// classSession knows who a request of a class comes from.
type classSession struct {
	class  *workshop.Class
	boss   instructor
	cookie string // the attendee session cookie's name
}

func newClassSession(class *workshop.Class, boss instructor) *classSession {
	return &classSession{class: class, boss: boss, cookie: "mqtts-attendee-" + class.ID()}
}

// attendee returns the request's attendee and their MQTT password; false
// without a current session. It notes where the attendee was seen.
func (s *classSession) attendee(r *http.Request) (workshop.Attendee, string, bool) {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return workshop.Attendee{}, "", false
	}
	a, pw, ok := s.class.Session(c.Value)
	if ok {
		s.class.Seen(a.ID, clientIP(r))
	}
	return a, pw, ok
}

// principal is who a request acts for: the instructor (token or session
// cookie), an attendee, or nobody (an error saying what to do).
func (s *classSession) principal(r *http.Request) (broker.Principal, error) {
	if s.boss.check(r) == nil {
		return broker.Principal{Instructor: true}, nil
	}
	if a, _, ok := s.attendee(r); ok {
		return broker.Principal{Owner: a.ID}, nil
	}
	return broker.Principal{}, errNotJoined
}

// basicAttendee is the attendee of a request that carries their MQTT user
// name and password as HTTP Basic authentication (curl -u ID:PASSWORD),
// as a command-line certificate request does.
func (s *classSession) basicAttendee(r *http.Request) (string, bool) {
	user, pw, ok := r.BasicAuth()
	if !ok {
		return "", false
	}
	p, err := s.class.Login(user, []byte(pw))
	return p.Owner, err == nil && p.Owner != ""
}

// traceScope is what /trace shows a request: the instructor everything,
// an attendee their own connections, anyone else nothing.
func (s *classSession) traceScope(r *http.Request) (func(*broker.ConnInfo) bool, string, error) {
	p, err := s.principal(r)
	switch {
	case err != nil:
		return nil, "", fmt.Errorf("trace: in a class each attendee sees their own connections: %w", err)
	case p.Instructor:
		return nil, "", nil
	}
	return func(c *broker.ConnInfo) bool { return c.Owner == p.Owner }, p.Owner, nil
}

// gate sends visitors without a session to /join (then back); attendees
// and the instructor pass.
func (s *classSession) gate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.principal(r); err != nil {
			http.Redirect(w, r, "/join?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// setCookie sets a session cookie: HttpOnly (no script reads it),
// SameSite=Lax (no other site's request carries it, but a link to the
// page does), Secure when the page was reached over HTTPS.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r), MaxAge: int(maxAge.Seconds())})
}

// classPages serves an attendee's side of a class: /join, their page at
// /attendee, GET /workshop/me, POST /workshop/progress and the feed
// GET /workshop/events.
type classPages struct {
	s      *classSession
	assets pages.Assets
	me     func(*http.Request, workshop.Attendee, string) workshop.Me
	caPEM  string
	// localCA is true when the HTTPS page's certificate comes from the
	// playground's CA (no --tls-cert).
	localCA bool
	joins   *clientLimiter
	// reports limits each attendee's progress reports: each one that
	// changes something is a write to the store.
	reports *clientLimiter
	feeds   *viewerLimit
	// steps are the course's lessons and their number of steps: a
	// report of any other is refused, so that an attendee's record (written
	// to the store on every report) stays the size of the course.
	steps map[string]int
	log   *slog.Logger
}

func newClassPages(s *classSession, assets pages.Assets, me func(*http.Request, workshop.Attendee, string) workshop.Me, caPEM string, localCA bool, course *lessons.Course, log *slog.Logger) *classPages {
	steps := map[string]int{}
	for _, l := range course.Lessons {
		steps[l.ID] = len(l.Steps)
	}
	return &classPages{s: s, assets: assets, me: me, caPEM: caPEM, localCA: localCA, steps: steps, log: log,
		// A room behind one address joins at once: a burst of 500, then
		// one a second.
		joins: newClientLimiter(time.Second, 500, 10000),
		// A learner going through steps reports a few a second at most;
		// a script posting in a loop gets 429 after a burst of 30.
		reports: newClientLimiter(200*time.Millisecond, 30, 10000),
		feeds:   &viewerLimit{total: 4096, perAttendee: 16, warn: newLogEvery(time.Minute), byAddr: map[string]int{}}}
}

func (p *classPages) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /join", p.joinForm)
	mux.Handle("POST /join", crossSite.Handler(http.HandlerFunc(p.join)))
	mux.HandleFunc("GET /attendee", p.page)
	mux.HandleFunc("GET /workshop/me", p.meJSON)
	mux.Handle("POST /workshop/progress", crossSite.Handler(http.HandlerFunc(p.progress)))
	mux.Handle("GET /workshop/events", streaming(http.HandlerFunc(p.events)))
}

// next is where to go after joining: a path on this server, else the
// attendee page.
func next(r *http.Request) string {
	n := r.FormValue("next")
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") || strings.ContainsAny(n, "\r\n") {
		return "/attendee"
	}
	return n
}

func (p *classPages) joinForm(w http.ResponseWriter, r *http.Request) {
	if !needAssets(w, p.assets) {
		return
	}
	if _, _, ok := p.s.attendee(r); ok {
		http.Redirect(w, r, next(r), http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	render(w, http.StatusOK, pages.JoinPage(pages.Join{Assets: p.assets, Next: next(r)}), r)
}

// join answers POST /join (form field name): a new attendee, their session
// cookie, and off to their page.
func (p *classPages) join(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	name := r.FormValue("name")
	refuse := func(code int, why string) {
		w.Header().Set("Cache-Control", "no-store")
		render(w, code, pages.JoinPage(pages.Join{Assets: p.assets, Err: why, Name: name, Next: next(r)}), r)
	}
	if ok, wait := p.joins.allow(r); !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		refuse(http.StatusTooManyRequests, "Too many people joined from this address just now; try again in a few seconds.")
		return
	}
	if p.s.class.Attendees() >= maxAttendees {
		p.log.Warn("refused a join: the class is full", "limit", maxAttendees, "from", clientIP(r))
		refuse(http.StatusServiceUnavailable, fmt.Sprintf("The class is full (%d attendees).", maxAttendees))
		return
	}
	a, cookie, err := p.s.class.Join(name)
	if err != nil {
		refuse(http.StatusBadRequest, strings.TrimPrefix(err.Error(), "workshop: "))
		return
	}
	p.log.Info("an attendee joined", "id", a.ID, "name", a.Name, "from", clientIP(r))
	setCookie(w, r, p.s.cookie, cookie, 30*24*time.Hour)
	http.Redirect(w, r, next(r), http.StatusSeeOther)
}

func (p *classPages) page(w http.ResponseWriter, r *http.Request) {
	if !needAssets(w, p.assets) {
		return
	}
	a, pw, ok := p.s.attendee(r)
	if !ok {
		http.Redirect(w, r, "/join", http.StatusSeeOther)
		return
	}
	me := p.me(r, a, pw)
	d := pages.AttendeeData{Assets: p.assets, ID: a.ID, Name: a.Name, Password: pw, Topic: me.Topic, Host: me.Host,
		HTTPS: isHTTPS(r), LocalCA: isHTTPS(r) && p.localCA, CAURL: me.CAURL, Snippets: snippets(me, p.caPEM)}
	w.Header().Set("Cache-Control", "no-store")
	render(w, http.StatusOK, pages.AttendeePage(d), r)
}

func (p *classPages) meJSON(w http.ResponseWriter, r *http.Request) {
	a, pw, ok := p.s.attendee(r)
	if !ok {
		http.Error(w, errNotJoined.Error(), http.StatusUnauthorized)
		return
	}
	writeJSON(w, p.me(r, a, pw))
}

// progress answers POST /workshop/progress (a ProgressReport): a lesson
// page ran a step.
func (p *classPages) progress(w http.ResponseWriter, r *http.Request) {
	a, _, ok := p.s.attendee(r)
	if !ok {
		http.Error(w, errNotJoined.Error(), http.StatusUnauthorized)
		return
	}
	if ok, wait := p.reports.allowKey(a.ID); !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		http.Error(w, "workshop: too many progress reports just now (at most five a second after a burst of 30); the page sends them as steps are done", http.StatusTooManyRequests)
		return
	}
	var rep workshop.ProgressReport
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&rep); err != nil {
		http.Error(w, "workshop: the body is a JSON progress report: {\"lesson\": ID, \"step\": N, \"done\": true}", http.StatusBadRequest)
		return
	}
	if n, ok := p.steps[rep.Lesson]; !ok || rep.Step < 1 || rep.Step > n {
		http.Error(w, fmt.Sprintf("workshop: lesson %q has no step %d (the lessons are those at /lessons)", rep.Lesson, rep.Step), http.StatusBadRequest)
		return
	}
	if err := p.s.class.Report(a.ID, rep); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// events sends an attendee page's feed as server-sent events "class"
// (workshop.ClassEvent).
func (p *classPages) events(w http.ResponseWriter, r *http.Request) {
	a, _, ok := p.s.attendee(r)
	if !ok {
		http.Error(w, errNotJoined.Error(), http.StatusUnauthorized)
		return
	}
	done, err := p.feeds.acquire(a.ID, true)
	if err != nil {
		http.Error(w, strings.Replace(err.Error(), "trace: ", "workshop: ", 1), http.StatusTooManyRequests)
		return
	}
	defer done()
	feed, stop := p.s.class.Subscribe(a.ID)
	defer stop()
	sse(w, r, func(send func(string, any) bool) {
		ping := time.NewTicker(30 * time.Second)
		defer ping.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case ev := <-feed:
				if !send("class", ev) {
					return
				}
			case <-ping.C: // keeps proxies from closing an idle stream
				if !send("ping", struct{}{}) {
					return
				}
			}
		}
	})
}

// sse answers with server-sent events that run sends, each write bounded
// by streamWriteTimeout.
func sse(w http.ResponseWriter, r *http.Request, run func(send func(event string, v any) bool)) {
	rc := http.NewResponseController(w)
	liftDeadlines(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	run(func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	})
}

// attendeeMe is how an attendee's own clients reach the broker from where
// they opened the page (see workshop.Me).
func (a *App) attendeeMe(r *http.Request, att workshop.Attendee, pw string) workshop.Me {
	host, _ := requestHost(r)
	bare := strings.Trim(host, "[]")
	me := workshop.Me{Attendee: att, Password: pw, Topic: "ws/" + att.ID, Host: bare, ServerName: certName(bare, a.names), Ports: map[string]string{}}
	for _, l := range a.broker.Listeners() {
		if l.Addr == "" || l.Lesson {
			continue
		}
		if _, port := dialHost(l.Addr, bare); port != "" {
			me.Ports[l.Name] = port
		}
	}
	web := func(scheme, addr string) string {
		_, port := dialHost(addr, bare)
		return scheme + "://" + net.JoinHostPort(bare, port)
	}
	switch scheme, proxied := forwarded(r); {
	case proxied:
		// Behind a reverse proxy: the proxy's own address and port, as the
		// attendee's browser reached it.
		u := scheme + "://" + host
		if _, port := requestHost(r); port != "" {
			u += ":" + port
		}
		ws := "ws" + strings.TrimPrefix(u, "http")
		me.CAURL, me.WSURL = u+"/ca.pem", ws+"/mqtt"
	case a.httpAddr != "":
		me.CAURL, me.WSURL = web("http", a.httpAddr)+"/ca.pem", web("ws", a.httpAddr)+"/mqtt"
	case a.httpsAddr != "":
		me.CAURL, me.WSURL = web("https", a.httpsAddr)+"/ca.pem", web("wss", a.httpsAddr)+"/mqtt"
	}
	return me
}
