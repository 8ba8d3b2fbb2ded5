package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/PuerkitoBio/goquery"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/lessons"
	"github.com/mqtts-playground/playground/server/pages"
)

func getDoc(t *testing.T, url string, wantCode int) *goquery.Document {
	t.Helper()
	resp, body := get(t, url)
	if resp.StatusCode != wantCode || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: status %d type %q, want %d text/html", url, resp.StatusCode, resp.Header.Get("Content-Type"), wantCode)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func testids(doc *goquery.Selection, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

func TestCourseMap(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	base := "http://" + app.httpAddr
	course := app.course
	if len(course.Lessons) < 3 {
		t.Fatalf("course has %d lessons", len(course.Lessons))
	}
	for _, path := range []string{"", "?path=course", "?path=overview", "?path=review"} {
		t.Run("path"+path, func(t *testing.T) {
			doc := getDoc(t, base+"/lessons"+path, 200)
			want := strings.TrimPrefix(path, "?path=")
			if want == "" {
				want = "course"
			}
			if got := testids(doc.Selection, "course").AttrOr("data-path", ""); got != want {
				t.Errorf("data-path %q, want %q", got, want)
			}
			var paths []string
			testids(doc.Selection, "path").Each(func(_ int, s *goquery.Selection) {
				if s.AttrOr("aria-current", "") == "page" {
					paths = append(paths, "*"+s.AttrOr("data-path", ""))
				} else {
					paths = append(paths, s.AttrOr("data-path", ""))
				}
			})
			if !slices.Contains(paths, "*"+want) || len(paths) != 3 {
				t.Errorf("path links %v, want 3 with %q current", paths, want)
			}
			items := testids(doc.Selection, "course-lesson")
			if items.Length() != len(course.Lessons) {
				t.Fatalf("%d lessons on the map, want %d", items.Length(), len(course.Lessons))
			}
			items.Each(func(i int, s *goquery.Selection) {
				l := course.Lessons[i]
				if s.AttrOr("data-lesson", "") != l.ID || !strings.Contains(testids(s, "lesson-link").Text(), l.Title) {
					t.Errorf("lesson %d on the map: %q %q, want %q %q", i, s.AttrOr("data-lesson", ""), testids(s, "lesson-link").Text(), l.ID, l.Title)
				}
				if href := testids(s, "lesson-link").AttrOr("href", ""); !strings.HasPrefix(href, "/lessons/"+l.ID) {
					t.Errorf("lesson %s links to %q", l.ID, href)
				}
				if testids(s, "lesson-progress").Length() != 1 {
					t.Errorf("lesson %s has no progress marker", l.ID)
				}
				steps, quizzes := testids(s, "map-step").Length(), testids(s, "review-step").Length()
				var wantSteps, wantQuizzes int
				switch want {
				case "course":
					wantSteps = len(l.Steps)
				case "overview":
					wantSteps = len(l.Essential())
				case "review":
					for _, st := range l.Steps {
						wantQuizzes += len(st.Quizzes())
					}
					if testids(s, "takeaways").Find("li").Length() == 0 {
						t.Errorf("review of %s shows no takeaways", l.ID)
					}
				}
				if steps != wantSteps || quizzes != wantQuizzes {
					t.Errorf("lesson %s on path %s: %d steps, %d quizzes; want %d, %d", l.ID, want, steps, quizzes, wantSteps, wantQuizzes)
				}
				if want != "review" && testids(s, "step-mark").Length() != wantSteps {
					t.Errorf("lesson %s: %d step marks, want %d", l.ID, testids(s, "step-mark").Length(), wantSteps)
				}
			})
		})
	}
	resp, _ := get(t, base+"/lessons?path=nope")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: status %d", resp.StatusCode)
	}
}

func TestLessonPage(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	base := "http://" + app.httpAddr
	for i, l := range app.course.Lessons {
		t.Run(l.ID, func(t *testing.T) {
			doc := getDoc(t, base+"/lessons/"+l.ID, 200)
			root := testids(doc.Selection, "lesson")
			if root.AttrOr("data-lesson", "") != l.ID || root.AttrOr("data-path", "") != "course" {
				t.Errorf("lesson root %q path %q", root.AttrOr("data-lesson", ""), root.AttrOr("data-path", ""))
			}
			if got := testids(doc.Selection, "lesson-title").Text(); got != l.Title {
				t.Errorf("title %q, want %q", got, l.Title)
			}
			steps := testids(doc.Selection, "step")
			if steps.Length() != len(l.Steps) {
				t.Fatalf("%d steps, want %d", steps.Length(), len(l.Steps))
			}
			steps.Each(func(j int, s *goquery.Selection) {
				st := l.Steps[j]
				n := fmt.Sprint(j + 1)
				if s.AttrOr("id", "") != "step-"+n || s.AttrOr("data-step", "") != n || s.Is("[hidden]") {
					t.Errorf("step %d: id %q data-step %q hidden %v", j+1, s.AttrOr("id", ""), s.AttrOr("data-step", ""), s.Is("[hidden]"))
				}
				if st.Slug != "" && s.Find("#"+st.Slug).Length() != 1 {
					t.Errorf("step %d has no anchor #%s", j+1, st.Slug)
				}
				if !strings.Contains(s.Find(".step-title").Text(), st.Title) {
					t.Errorf("step %d title %q, want %q", j+1, s.Find(".step-title").Text(), st.Title)
				}
				if got, want := testids(s, "predict").Length(), st.Predict() != nil; (got == 1) != want || got > 1 {
					t.Errorf("step %d: %d predict widgets, want predict %v", j+1, got, want)
				}
				if got := testids(s, "quiz").Length(); got != len(st.Quizzes()) {
					t.Errorf("step %d: %d quizzes, want %d", j+1, got, len(st.Quizzes()))
				}
				if got := testids(s, "check").Length(); got != len(st.Checks()) {
					t.Errorf("step %d: %d checks, want %d", j+1, got, len(st.Checks()))
				}
				wantRun := 0
				if a := stepAction(st); a != "none" {
					wantRun = 1
				}
				if got := testids(s, "run").Length(); got != wantRun {
					t.Errorf("step %d: %d run buttons, want %d", j+1, got, wantRun)
				}
				// Radio groups: one name per widget, the right answers marked.
				testids(s, "quiz").Each(func(_ int, q *goquery.Selection) {
					if q.Find(`input[type=radio][data-right="true"]`).Length() == 0 {
						t.Errorf("step %d: a quiz without a right answer", j+1)
					}
				})
			})
			// The runner's data: the same steps and blocks.
			var data LessonData
			if err := json.Unmarshal([]byte(doc.Find("script#lesson-data").Text()), &data); err != nil {
				t.Fatalf("lesson-data: %v", err)
			}
			if data.ID != l.ID || len(data.Steps) != len(l.Steps) {
				t.Errorf("lesson-data: id %q, %d steps", data.ID, len(data.Steps))
			}
			if testids(doc.Selection, "lesson-trace").Length() != 1 || testids(doc.Selection, "trace").Length() != 0 {
				t.Error("the lesson page needs one lesson-trace panel (and no playground trace panel)")
			}
			if testids(doc.Selection, "missing-listener").Length() != 0 {
				t.Errorf("warns of missing listeners: %s", testids(doc.Selection, "missing-listener").Text())
			}
			prev, next := testids(doc.Selection, "prev"), testids(doc.Selection, "next")
			if i > 0 != (prev.Length() == 1) || i < len(app.course.Lessons)-1 != (next.Length() == 1) {
				t.Errorf("prev %d next %d links for lesson %d of %d", prev.Length(), next.Length(), i+1, len(app.course.Lessons))
			}
			if i > 0 && prev.AttrOr("href", "") != "/lessons/"+app.course.Lessons[i-1].ID {
				t.Errorf("prev link %q", prev.AttrOr("href", ""))
			}
			if next.Length() == 1 && next.AttrOr("href", "") != "/lessons/"+app.course.Lessons[i+1].ID {
				t.Errorf("next link %q", next.AttrOr("href", ""))
			}

			// The overview path hides the steps that are not essential.
			doc = getDoc(t, base+"/lessons/"+l.ID+"?path=overview", 200)
			testids(doc.Selection, "step").Each(func(j int, s *goquery.Selection) {
				if hidden := s.Is("[hidden]"); hidden == l.Steps[j].Essential {
					t.Errorf("overview: step %d hidden=%v, essential=%v", j+1, hidden, l.Steps[j].Essential)
				}
			})
			if testids(doc.Selection, "path-note").Length() != 1 {
				t.Error("overview: no note about the path")
			}
		})
	}
}

func TestLessonNotFound(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	for _, id := range []string{"nope", "MQTT-BASICS", "..%2f..%2fetc"} {
		doc := getDoc(t, "http://"+app.httpAddr+"/lessons/"+id, http.StatusNotFound)
		if testids(doc.Selection, "not-found").Length() != 1 {
			t.Errorf("/lessons/%s: no not-found page", id)
		}
		if n := testids(doc.Selection, "course-lesson").Length(); n != len(app.course.Lessons) {
			t.Errorf("/lessons/%s lists %d lessons, want %d", id, n, len(app.course.Lessons))
		}
	}
}

// TestLessonMissingListener renders a lesson for a broker without the
// listeners it needs.
func TestLessonMissingListener(t *testing.T) {
	course, err := lessons.Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		have []string
		want []string
	}{
		{[]string{"mqtt", "mqtts", "mtls", "ws"}, nil},
		{[]string{"mqtt", "ws"}, []string{"mqtts"}},
		{nil, []string{"mqtt", "mqtts"}},
	}
	for _, tt := range tests {
		mux := http.NewServeMux()
		newLessonPages(course, pages.Assets{}, func() []broker.ListenerInfo {
			var ls []broker.ListenerInfo
			for _, n := range tt.have {
				ls = append(ls, broker.ListenerInfo{Name: n})
			}
			return ls
		}).register(mux)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/lessons/mqtt-over-tls", nil))
		doc, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		testids(doc.Selection, "missing-listener").Find("code").Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
		if !slices.Equal(got, tt.want) {
			t.Errorf("listeners %v: warning names %v, want %v", tt.have, got, tt.want)
		}
	}
}

// TestLessonListenersExist checks every listener a lesson names against
// the broker the server really starts.
func TestLessonListenersExist(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	var have []string
	for _, l := range app.listeners() {
		have = append(have, l.Name)
	}
	for _, l := range app.course.Lessons {
		for _, name := range l.ListenerRefs() {
			if !slices.Contains(have, name) {
				t.Errorf("lesson %s (%s) uses listener %q; the broker has %v", l.ID, l.File, name, have)
			}
		}
	}
}

func TestBrokenLessonStopsStart(t *testing.T) {
	broken := errors.New("lessons: 09-broken.md:3: front matter lacks \"title\"")
	old := loadLessons
	loadLessons = func() (*lessons.Course, error) { return nil, broken }
	defer func() { loadLessons = old }()
	app, err := newApp(testConfig(t), nil, slog.New(slog.NewTextHandler(testLogWriter{t}, nil)))
	if !errors.Is(err, broken) {
		if app != nil {
			app.Close()
		}
		t.Fatalf("newApp with a broken lesson: %v, want %v", err, broken)
	}
}

func TestRequestHost(t *testing.T) {
	for _, tt := range []struct{ hostHeader, host, port string }{
		{"127.0.0.1:8080", "127.0.0.1", "8080"},
		{"trainer.local:8080", "trainer.local", "8080"},
		{"localhost", "localhost", ""},
		{"[::1]:8443", "[::1]", "8443"},
		{"[fe80::1]", "[fe80::1]", ""},
		{`evil"><b>:80`, "localhost", ""},
		{"a b:80", "localhost", ""},
		{"host:99999", "localhost", ""},
		{"host:http", "localhost", ""},
		{"", "localhost", ""},
	} {
		r := httptest.NewRequest("GET", "/lessons/x", nil)
		r.Host = tt.hostHeader
		if host, port := requestHost(r); host != tt.host || port != tt.port {
			t.Errorf("Host %q: %q %q, want %q %q", tt.hostHeader, host, port, tt.host, tt.port)
		}
	}
	r := httptest.NewRequest("GET", "/lessons/x", nil)
	r.Host = "[::1]:8443"
	r.TLS = &tls.ConnectionState{}
	v := requestVars(r)
	if v["host"] != "::1" || v["url"] != "https://[::1]:8443" || v["ca.url"] != "https://[::1]:8443/ca.pem" {
		t.Errorf("requestVars over HTTPS: %v", v)
	}
}

func TestCertName(t *testing.T) {
	names := []string{"localhost", "127.0.0.1", "::1", "trainer", "10.0.0.5", "broker.example"}
	for host, want := range map[string]string{
		"broker.example": "broker.example",
		"127.0.0.1":      "localhost",
		"::1":            "localhost",
		"localhost":      "localhost",
		"10.0.0.5":       "trainer",
		"elsewhere.org":  "trainer",
	} {
		if got := certName(host, names); got != want {
			t.Errorf("certName(%q) = %q, want %q", host, got, want)
		}
	}
	if got := certName("10.0.0.5", []string{"localhost", "10.0.0.5"}); got != "localhost" {
		t.Errorf("no other name: %q", got)
	}
}

// TestLessonPlaceholders renders a lesson with placeholders for a server
// whose data folder has a name full of characters HTML and shells care
// about: the page shows the values as text, quoted where asked, and the
// step runner gets them unescaped.
func TestLessonPlaceholders(t *testing.T) {
	cfg := testConfig(t)
	cfg.Data = filepath.Join(t.TempDir(), `<b>x&y 'q" $(z)`)
	app := startApp(t, cfg, false)
	course, err := lessons.LoadFS(fstest.MapFS{"01-p.md": {Data: []byte(`---
id: p
title: P
order: 1
summary: s
level: beginner
minutes: 1
---

## Run it {#run essential}

` + "```sh\nmosquitto_pub -h {{host}} -p {{port.mqtts}} --cafile {{ca.file|sh}} -t t -m hi\n```" + `

Fetch [the CA]({{ca.url}}); verify {{name}}; in Go: {{ca.file|q}}.

` + "```text\n{{ca.pem}}\n```\n\n```do\nlog(site.port.mqtts);\n```\n\n```check\njs: site.ca.file.length > 0\n```\n\n## Takeaways\n\n- on {{port.mtls}}\n\n```quiz\n? q {{url}}\n+ a | b\n- c | d\n```\n")}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	newLessonPages(course, pages.Assets{}, app.listeners).withVars(app.lessonVars).register(mux)
	get := func(path string) *goquery.Document {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", path, nil)
		r.Host = "127.0.0.1:8080"
		mux.ServeHTTP(rec, r)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "<b>x") || strings.ContainsAny(rec.Body.String(), "\uE000\uE001\uE002") {
			t.Errorf("GET %s: unescaped value or markers left in the page", path)
		}
		doc, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	_, mqtts, _ := net.SplitHostPort(app.listener(t, "mqtts").Addr)
	_, mtls, _ := net.SplitHostPort(app.listener(t, "mtls").Addr)
	caFile := app.caFile()
	doc := get("/lessons/p")
	codes := doc.Find(".prose pre code")
	if got, want := codes.Eq(0).Text(), "mosquitto_pub -h 127.0.0.1 -p "+mqtts+" --cafile '"+strings.ReplaceAll(caFile, "'", `'\''`)+"' -t t -m hi"; got != want {
		t.Errorf("sh block:\n got %s\nwant %s", got, want)
	}
	if got := codes.Eq(1).Text(); got != strings.TrimSpace(string(app.ca.RootPEM())) {
		t.Errorf("ca.pem block: %q", got)
	}
	if href, _ := doc.Find(`.prose a`).Attr("href"); href != "http://127.0.0.1:8080/ca.pem" {
		t.Errorf("ca.url link %q", href)
	}
	if got := doc.Find(".prose p").Text(); !strings.Contains(got, "verify localhost; in Go: "+strconv.Quote(caFile)+".") {
		t.Errorf("prose %q", got)
	}
	if got := doc.Find(`[data-testid="quiz"] legend`).Text(); !strings.Contains(got, "q http://127.0.0.1:8080") {
		t.Errorf("quiz question %q", got)
	}
	var data LessonData
	if err := json.Unmarshal([]byte(doc.Find("script#lesson-data").Text()), &data); err != nil {
		t.Fatal(err)
	}
	if data.Vars["ca.file"] != caFile || data.Vars["port.mqtts"] != mqtts || data.Vars["port.mtls"] != mtls || data.Vars["host"] != "127.0.0.1" {
		t.Errorf("lesson-data vars %v", data.Vars)
	}
	// The review path fills in the takeaways and quizzes too.
	doc = get("/lessons?path=review")
	if got := doc.Find(`[data-testid="takeaways"]`).Text(); !strings.Contains(got, "on "+mtls) {
		t.Errorf("review takeaways %q", got)
	}
	// The course itself is not changed by rendering.
	if strings.Contains(string(course.Lessons[0].Steps[0].Prose), mqtts) {
		t.Error("rendering changed the parsed lesson")
	}
}
