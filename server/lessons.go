package main

import (
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/lessons"
	"github.com/mqtts-playground/playground/server/pages"
)

// loadLessons parses the course at start-up; a test swaps it to check that a
// broken lesson stops the server from starting.
var loadLessons = lessons.Load

// lessonPages serves the course: the map with its three paths at /lessons
// and each lesson at /lessons/{id}. The lessons are parsed once, by newApp;
// the pages only arrange them. Running the steps is the page script's job
// (web/src/lesson.ts).
type lessonPages struct {
	course *lessons.Course
	// assets are the pages' script, style and wasm; none serves pages
	// without them (tests).
	assets pages.Assets
	// listeners lists the broker's listeners, to warn about missing ones.
	listeners func() []broker.ListenerInfo
	// vars gives the values of the lessons' placeholders for a request;
	// nil fills in only what the request tells (see requestVars).
	vars func(*http.Request) lessons.Vars
}

func newLessonPages(course *lessons.Course, assets pages.Assets, listeners func() []broker.ListenerInfo) *lessonPages {
	return &lessonPages{course: course, assets: assets, listeners: listeners}
}

// withVars sets where the placeholders' values come from.
func (p *lessonPages) withVars(f func(*http.Request) lessons.Vars) *lessonPages {
	p.vars = f
	return p
}

func (p *lessonPages) varsFor(r *http.Request) lessons.Vars {
	if p.vars == nil {
		return requestVars(r)
	}
	return p.vars(r)
}

// hostRE is what a host name or address may look like in a placeholder;
// anything else (a Host header is the client's to choose) becomes localhost.
var hostRE = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$`)

// requestHost returns the host (name or address, IPv6 in brackets) and the
// port the request reached the page by, or localhost and no port when the
// Host header is not a plain host[:port].
func requestHost(r *http.Request) (host, port string) {
	host, port = r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		host, port = h, p
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	if _, err := strconv.ParseUint(port, 10, 16); port != "" && err != nil || !hostRE.MatchString(host) {
		return "localhost", ""
	}
	return host, port
}

// requestVars are the placeholder values a request alone decides: host,
// url and ca.url, and the conventional ports; appVars adds the rest.
func requestVars(r *http.Request) lessons.Vars {
	host, port := requestHost(r)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	url := scheme + "://" + host
	if port != "" {
		url += ":" + port
	}
	return lessons.Vars{
		"host": strings.Trim(host, "[]"), "name": "localhost", "url": url,
		"port.mqtt": "1883", "port.mqtts": "8883", "port.mtls": "8884",
		"ca.url": url + "/ca.pem",
	}
}

// lessonVars fills in the placeholders of the lesson pages for this
// server: the listeners' real ports, the CA file on this machine and its
// content, and a name the broker certificate covers.
func (a *App) lessonVars(r *http.Request) lessons.Vars {
	v := requestVars(r)
	for _, l := range a.listeners() {
		if key := "port." + l.Name; v[key] != "" {
			if _, port, err := net.SplitHostPort(l.Addr); err == nil && port != "0" {
				v[key] = port
			}
		}
	}
	v["name"] = certName(v["host"], a.names)
	v["ca.file"] = a.caFile()
	v["ca.pem"] = strings.TrimSpace(string(a.ca.RootPEM()))
	return v
}

// certName picks the DNS name a client should verify (and send as SNI):
// the host the page was reached by when the certificate covers it and it
// is a name, localhost for a loopback address, else the first name of the
// certificate other than localhost.
func certName(host string, names []string) string {
	ip := net.ParseIP(host)
	switch {
	case ip == nil && slices.Contains(names, host):
		return host
	case ip != nil && ip.IsLoopback() || host == "localhost":
		return "localhost"
	}
	for _, n := range names {
		if net.ParseIP(n) == nil && n != "localhost" {
			return n
		}
	}
	return "localhost"
}

func (p *lessonPages) register(mux *http.ServeMux) {
	mux.Handle("GET /lessons", lessonCSP(p.courseMap))
	mux.Handle("GET /lessons/{$}", lessonCSP(p.courseMap))
	mux.Handle("GET /lessons/{id}", lessonCSP(p.lesson))
}

// lessonCSP gives a lesson page its content security policy, which lets
// the page script run the steps' code (see cspLessons).
func lessonCSP(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", cspLessons)
		h(w, r)
	})
}

// coursePath is one of the course map's three paths.
type coursePath struct{ name, label, intro string }

var coursePaths = []coursePath{
	{"course", "Course", "Every step of every lesson, in order: from plain MQTT to TLS, certificates and production set-ups."},
	{"overview", "Overview (15 min)", "The essential steps only: one live step per lesson, about fifteen minutes in all."},
	{"review", "Review", "The takeaways and quiz questions of each lesson, to close a workshop day."},
}

func lessonHref(l *lessons.Lesson, path string) string {
	if path == "overview" {
		return "/lessons/" + l.ID + "?path=overview"
	}
	return "/lessons/" + l.ID
}

func (p *lessonPages) courseMap(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Query().Get("path")
	if path == "" {
		path = "course"
	}
	i := slices.IndexFunc(coursePaths, func(x coursePath) bool { return x.name == path })
	if i < 0 {
		http.Error(w, "lessons: unknown path "+strconv.Quote(path)+": want course, overview or review", http.StatusNotFound)
		return
	}
	d := pages.CourseMap{Assets: p.assets, Path: path, Intro: coursePaths[i].intro}
	vars := p.varsFor(r)
	for _, x := range coursePaths {
		href := "/lessons"
		if x.name != "course" {
			href += "?path=" + x.name
		}
		d.Paths = append(d.Paths, pages.PathLink{Name: x.name, Label: x.label, Href: href, Current: x.name == path})
	}
	for _, l := range p.course.Lessons {
		l := l.Fill(vars)
		ml := pages.MapLesson{Lesson: l, Href: lessonHref(l, path)}
		switch path {
		case "course":
			d.Minutes += l.Minutes
			for _, s := range l.Steps {
				ml.Steps = append(ml.Steps, pages.MapStep{Step: s, Href: ml.Href + "#step-" + strconv.Itoa(s.N)})
			}
		case "overview":
			for _, s := range l.Essential() {
				ml.Steps = append(ml.Steps, pages.MapStep{Step: s, Href: ml.Href + "#step-" + strconv.Itoa(s.N)})
			}
		case "review":
			ml.Takeaways = l.Takeaways()
			for _, s := range l.Steps {
				for _, q := range s.Quizzes() {
					ml.Quizzes = append(ml.Quizzes, pages.ReviewQuiz{Step: s, Index: q.Index, Quiz: q, NeedsAction: stepAction(s) != "none"})
				}
			}
		}
		d.Lessons = append(d.Lessons, ml)
	}
	render(w, http.StatusOK, pages.CoursePage(d), r)
}

// stepAction says what a step's button does: run its do block, evaluate
// its checks against the current connection, mark a prose step as read, or
// nothing (a step of quizzes only).
func stepAction(s *lessons.Step) string {
	switch {
	case s.Do() != nil:
		return "do"
	case len(s.Checks()) > 0:
		return "check"
	case len(s.Quizzes()) > 0:
		return "none"
	default:
		return "read"
	}
}

var actionLabels = map[string]string{"do": "Do it", "check": "Check", "read": "Mark as read"}

func (p *lessonPages) lesson(w http.ResponseWriter, r *http.Request) {
	l := p.course.Lesson(r.PathValue("id"))
	if l == nil {
		d := pages.NotFound{Assets: p.assets, ID: r.PathValue("id")}
		for _, l := range p.course.Lessons {
			d.Lessons = append(d.Lessons, pages.MapLesson{Lesson: l, Href: lessonHref(l, "")})
		}
		render(w, http.StatusNotFound, pages.NotFoundPage(d), r)
		return
	}
	prev, next := p.course.Neighbours(l)
	vars := p.varsFor(r)
	l = l.Fill(vars)
	path := "course"
	courseURL := "/lessons"
	if r.URL.Query().Get("path") == "overview" {
		path, courseURL = "overview", "/lessons?path=overview"
	}
	d := pages.LessonPage{Assets: p.assets, Lesson: l, Path: path, CourseURL: courseURL, Data: LessonData{ID: l.ID, File: l.File, Steps: l.Steps, Vars: vars}}
	for _, s := range l.Steps {
		a := stepAction(s)
		d.Steps = append(d.Steps, pages.LessonStep{Step: s, Action: a, Label: actionLabels[a], Hidden: path == "overview" && !s.Essential, NeedsServer: p.assets.Static && s.Server})
	}
	if prev != nil {
		d.PrevHref, d.PrevTitle = lessonHref(prev, path), prev.Title
	}
	if next != nil {
		d.NextHref, d.NextTitle = lessonHref(next, path), next.Title
	}
	have := map[string]bool{}
	for _, li := range p.listeners() {
		have[li.Name] = true
	}
	for _, name := range l.ListenerRefs() {
		if !have[name] {
			d.Missing = append(d.Missing, name)
		}
	}
	render(w, http.StatusOK, pages.LessonView(d), r)
}

// render writes a page; ?embed=1 renders it for embedding in another
// page (pages.WithEmbed).
func render(w http.ResponseWriter, code int, c templ.Component, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	ctx := r.Context()
	if r.URL.Query().Get("embed") == "1" {
		ctx = pages.WithEmbed(ctx)
	}
	c.Render(ctx, w)
}
