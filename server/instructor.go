package main

import (
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/server/pages"
	"github.com/mqtts-playground/playground/workshop"
)

// instructorPages serves the instructor's side of a class: the dashboard
// at /instructor (opened once with ?token=SECRET, which becomes a session
// cookie), its live feed, and the actions only the instructor may take.
// Every route checks the instructor (token or session cookie); the
// actions also refuse requests of another site (crossSite).
type instructorPages struct {
	s         *classSession
	b         *broker.Broker
	ca        *pki.CA
	assets    pages.Assets
	join      func() string // the attendees' URL
	lessons   []pages.InstructorLesson
	keepConns int
	dir       string // where the exports of ended classes are written
	log       *slog.Logger
	now       func() time.Time
	every     time.Duration // the feed's period
}

func (p *instructorPages) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /instructor", p.page)
	mux.Handle("GET /instructor/stream", streaming(p.only(p.stream)))
	mux.Handle("GET /instructor/export", p.only(p.export))
	for path, h := range map[string]http.HandlerFunc{"note": p.note, "goto": p.goTo, "revoke": p.revoke, "remove": p.remove, "end": p.end} {
		mux.Handle("POST /instructor/"+path, crossSite.Handler(p.only(h)))
	}
}

// only lets the instructor through; everyone else gets 403 and a log line.
func (p *instructorPages) only(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := p.s.boss.check(r); err != nil {
			p.log.Warn("refused an instructor request", "path", r.URL.Path, "from", clientIP(r), "err", err)
			http.Error(w, "workshop: "+err.Error()+"; open the instructor URL the server printed", http.StatusForbidden)
			return
		}
		h(w, r)
	})
}

// page answers GET /instructor: with ?token=, the token becomes the
// instructor's session cookie and the browser comes back without it in the
// URL; with the cookie, the dashboard.
func (p *instructorPages) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if tok := r.URL.Query().Get("token"); tok != "" {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(p.s.boss.token)) != 1 {
			p.log.Warn("refused the instructor page: wrong token", "from", clientIP(r))
			render(w, http.StatusForbidden, pages.Refused(p.assets, "Not the instructor", "This is not the instructor token of this class. Open the instructor URL the server printed when it started."), r)
			return
		}
		setCookie(w, r, p.s.boss.cookie, p.s.boss.session(), 24*time.Hour)
		http.Redirect(w, r, "/instructor", http.StatusSeeOther)
		return
	}
	if err := p.s.boss.check(r); err != nil {
		render(w, http.StatusForbidden, pages.Refused(p.assets, "Not the instructor", "The dashboard is the instructor's. Open the instructor URL the server printed when it started (it ends in ?token=…)."), r)
		return
	}
	if !needAssets(w, p.assets) {
		return
	}
	render(w, http.StatusOK, pages.InstructorPage(pages.InstructorData{Assets: p.assets, Join: p.join(), Lessons: p.lessons}), r)
}

// stream sends the dashboard as server-sent events "class"
// (workshop.ClassView) whenever the class or the broker's connections
// change, at most once a period.
func (p *instructorPages) stream(w http.ResponseWriter, r *http.Request) {
	stop := p.b.Watch()
	defer stop()
	sse(w, r, func(send func(string, any) bool) {
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		var class, conns uint64
		idle := 0
		for first := true; ; first = false {
			if c, b := p.s.class.Version(), p.b.Changes(); first || c != class || b != conns {
				class, conns, idle = c, b, 0
				if !send("class", p.s.class.View(p.b.Conns(), p.keepConns)) {
					return
				}
			} else if idle++; idle*int(p.every) >= int(30*time.Second) {
				idle = 0
				if !send("ping", struct{}{}) {
					return
				}
			}
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})
}

func (p *instructorPages) export(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="class-%s.json"`, p.now().Format("20060102-1504")))
	writeJSON(w, p.s.class.Export(p.b.Conns()))
}

// readJSON decodes a small JSON body into v, or answers 400.
func readJSON(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 8192)).Decode(v); err != nil {
		http.Error(w, "workshop: the body is JSON: "+shape, http.StatusBadRequest)
		return false
	}
	return true
}

func (p *instructorPages) note(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text string `json:"text"`
	}
	if !readJSON(w, r, &body, `{"text": "…"}`) {
		return
	}
	if err := p.s.class.Note(body.Text); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *instructorPages) goTo(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Lesson string `json:"lesson"`
		Step   int    `json:"step"`
	}
	if !readJSON(w, r, &body, `{"lesson": ID, "step": N}`) {
		return
	}
	known := false
	for _, l := range p.lessons {
		if l.ID == body.Lesson && body.Step >= 1 && body.Step <= l.Steps {
			known = true
		}
	}
	if !known {
		http.Error(w, fmt.Sprintf("workshop: lesson %q has no step %d", body.Lesson, body.Step), http.StatusBadRequest)
		return
	}
	p.s.class.Goto(body.Lesson, body.Step)
	p.log.Info("pushed the class to a lesson step", "lesson", body.Lesson, "step", body.Step)
	w.WriteHeader(http.StatusNoContent)
}

// revokeCert revokes a certificate the class issued and notes it.
func (p *instructorPages) revokeCert(c workshop.Cert) error {
	if c.Revoked {
		return nil
	}
	block, _ := pem.Decode([]byte(c.PEM))
	if block == nil {
		return fmt.Errorf("workshop: certificate %s has no PEM on record", c.Serial)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("workshop: certificate %s: %w", c.Serial, err)
	}
	if err := p.ca.Revoke(cert, pki.ReasonUnspecified); err != nil {
		return err
	}
	p.log.Info("revoked a client certificate", "cn", c.CN, "serial", c.Serial, "proof", "instructor")
	return p.s.class.MarkRevoked(c.Serial)
}

func (p *instructorPages) revoke(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Serial string `json:"serial"`
	}
	if !readJSON(w, r, &body, `{"serial": HEX}`) {
		return
	}
	c, ok := p.s.class.Cert(body.Serial)
	if !ok {
		http.Error(w, fmt.Sprintf("workshop: the class issued no certificate %q", body.Serial), http.StatusNotFound)
		return
	}
	if err := p.revokeCert(c); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]string{"revoked": c.Serial, "cn": c.CN})
}

// removeAttendee revokes an attendee's certificates, forgets them and
// ends their connections.
func (p *instructorPages) removeAttendee(id string) error {
	var errs []error
	for _, c := range p.s.class.CertsOf(id) {
		errs = append(errs, p.revokeCert(c))
	}
	if _, err := p.s.class.Remove(id); err != nil {
		return err
	}
	n := p.b.DisconnectOwner(id)
	p.log.Info("removed an attendee", "id", id, "connectionsEnded", n)
	return errors.Join(errs...)
}

func (p *instructorPages) remove(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Attendee string `json:"attendee"`
	}
	if !readJSON(w, r, &body, `{"attendee": ID}`) {
		return
	}
	if !p.s.class.Exists(body.Attendee) {
		http.Error(w, fmt.Sprintf("workshop: no attendee %q", body.Attendee), http.StatusNotFound)
		return
	}
	if err := p.removeAttendee(body.Attendee); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// end answers POST /instructor/end: every attendee's certificates are
// revoked and their connections ended, the class's export is written to
// the data folder and returned, and the class starts afresh.
func (p *instructorPages) end(w http.ResponseWriter, r *http.Request) {
	ex := p.s.class.Export(p.b.Conns())
	var errs []error
	for _, a := range ex.Attendees {
		for _, c := range p.s.class.CertsOf(a.ID) {
			errs = append(errs, p.revokeCert(c))
		}
		p.b.DisconnectOwner(a.ID)
	}
	ex, err := p.s.class.End(p.b.Conns())
	if err = errors.Join(append(errs, err)...); err != nil {
		p.log.Error("ending the class", "err", err)
	}
	b, _ := json.MarshalIndent(ex, "", "  ")
	file := filepath.Join(p.dir, "class-"+p.now().Format("20060102-150405")+".json")
	if werr := os.WriteFile(file, b, 0o600); werr != nil {
		p.log.Error("could not keep the export of the class", "file", file, "err", werr)
	} else {
		p.log.Info("the class ended", "attendees", len(ex.Attendees), "export", file)
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, filepath.Base(file)))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.Header().Set("X-Class-Errors", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	w.Write(b)
}
