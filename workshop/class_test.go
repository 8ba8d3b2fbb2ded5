package workshop

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker"
	bolt "go.etcd.io/bbolt"
)

func open(t *testing.T, dir, token string) *Class {
	t.Helper()
	c, err := Open(dir, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An attendee's credentials survive a restart: the session cookie and the
// MQTT password still work, and the store holds neither.
func TestJoinAndRestart(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, "")
	token := c.Token()
	a, cookie, err := c.Join("  Ada   Lovelace ")
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Ada Lovelace" || len(a.ID) != 8 {
		t.Errorf("attendee %+v", a)
	}
	got, pw, ok := c.Session(cookie)
	if !ok || got.ID != a.ID || len(pw) != 26 {
		t.Fatalf("session: %+v %q %v", got, pw, ok)
	}
	if err := c.Report(a.ID, ProgressReport{Lesson: "tls-basics", Step: 3, Done: true}); err != nil {
		t.Fatal(err)
	}
	c.Close()

	fi, err := os.Stat(filepath.Join(dir, StoreFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("store file: %v %v", fi.Mode(), err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, StoreFile))
	if secret := cookie[strings.IndexByte(cookie, '.')+1:]; bytes.Contains(raw, []byte(pw)) || bytes.Contains(raw, []byte(secret)) {
		t.Error("the store holds a password or session secret in clear")
	}

	c = open(t, dir, "")
	defer c.Close()
	if c.Token() != token {
		t.Error("the instructor token changed over a restart")
	}
	if got, pw2, ok := c.Session(cookie); !ok || got.ID != a.ID || pw2 != pw {
		t.Fatalf("after restart: %+v %v", got, ok)
	}
	if p, err := c.Login(a.ID, []byte(pw)); err != nil || p.Owner != a.ID {
		t.Errorf("login after restart: %+v %v", p, err)
	}
	v := c.View(nil, 200)
	if len(v.Attendees) != 1 || v.Attendees[0].Lesson != "tls-basics" || v.Attendees[0].Step != 3 || v.Attendees[0].Done != 1 {
		t.Errorf("progress after restart: %+v", v.Attendees)
	}
}

func TestLogin(t *testing.T) {
	c := open(t, t.TempDir(), "tok")
	defer c.Close()
	a, cookie, _ := c.Join("a")
	_, pw, _ := c.Session(cookie)
	tests := []struct {
		user, pw string
		want     broker.Principal
		err      string
	}{
		{a.ID, pw, broker.Principal{Owner: a.ID}, ""},
		{a.ID, pw + "x", broker.Principal{}, "wrong password"},
		{"nobody12", pw, broker.Principal{}, "no attendee"},
		{InstructorUser, "tok", broker.Principal{Instructor: true}, ""},
		{InstructorUser, "nope", broker.Principal{}, "instructor token"},
	}
	for _, tt := range tests {
		p, err := c.Login(tt.user, []byte(tt.pw))
		if p != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Login(%q, %q) = %+v, %v", tt.user, tt.pw, p, err)
		}
	}
	for _, bad := range []string{"", "x.y", a.ID + ".AAAA", a.ID + "." + strings.Repeat("A", 43), "nobody." + cookie[9:]} {
		if _, _, ok := c.Session(bad); ok {
			t.Errorf("session %q accepted", bad)
		}
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{"Ada": "Ada", " a \t b ": "a b", "<b>x</b>": "<b>x</b>", "Zoë 🦊": "Zoë 🦊"} {
		if got, err := cleanName(in); got != want || err != nil {
			t.Errorf("cleanName(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", MaxNameRunes+1), "a\x00b", "a\u202eb", "\xff"} {
		if _, err := cleanName(bad); err == nil {
			t.Errorf("cleanName(%q) accepted", bad)
		}
	}
}

// Removing an attendee ends their session and password and tells their
// pages.
func TestRemove(t *testing.T) {
	c := open(t, t.TempDir(), "")
	defer c.Close()
	a, cookie, _ := c.Join("a")
	_, pw, _ := c.Session(cookie)
	feed, stop := c.Subscribe(a.ID)
	defer stop()
	if _, err := c.Remove(a.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Session(cookie); ok || c.Exists(a.ID) {
		t.Error("the session outlived the attendee")
	}
	if _, err := c.Login(a.ID, []byte(pw)); err == nil {
		t.Error("the password outlived the attendee")
	}
	if ev := <-feed; ev.Kind != "removed" {
		t.Errorf("event %+v", ev)
	}
}

// Failures group by cause and lesson step; a device that names no one is
// put down to the only attendee seen at its address.
func TestFailureGroups(t *testing.T) {
	c := open(t, t.TempDir(), "")
	defer c.Close()
	var ids []string
	for _, n := range []string{"a", "b", "c", "d"} {
		a, _, _ := c.Join(n)
		ids = append(ids, a.ID)
		c.Report(a.ID, ProgressReport{Lesson: "mqtt-over-tls", Step: 4})
	}
	c.Seen(ids[3], "10.0.0.9")
	hit := func(owner, remote string) {
		c.Notice(broker.Notice{Time: time.Now(), Kind: broker.NoticeHandshake, Cause: "the client does not trust the broker's CA", Info: broker.ConnInfo{Owner: owner, Remote: remote}})
	}
	hit(ids[0], "10.0.0.1:1")
	hit(ids[1], "10.0.0.2:1")
	hit(ids[1], "10.0.0.2:2")
	hit("", "10.0.0.9:5") // d's laptop
	hit("", "10.0.0.7:5") // no one seen there
	c.Notice(broker.Notice{Time: time.Now(), Kind: broker.NoticeAuth, Cause: "wrong user name or password", Info: broker.ConnInfo{Owner: ids[2]}})
	g := c.View(nil, 0).Failures
	var texts []string
	for _, x := range g {
		texts = append(texts, x.Text)
	}
	want := []string{
		"3 attendees hit the client does not trust the broker's CA on mqtt-over-tls step 4 (4 times)",
		"1 attendee hit wrong user name or password on mqtt-over-tls step 4",
		"1 unidentified client hit the client does not trust the broker's CA",
	}
	if !slices.Equal(texts, want) {
		t.Errorf("groups\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Contains(g[0].Attendees, ids[3]) {
		t.Errorf("the device at d's address was not put down to d: %v", g[0].Attendees)
	}
}

// Notes reach every open page, a page opened later gets the last one, and
// End tells every page and forgets the attendees.
func TestNotesAndEnd(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, "")
	a, cookie, _ := c.Join("a")
	feed, stop := c.Subscribe(a.ID)
	defer stop()
	if err := c.Note("break until 11:00"); err != nil {
		t.Fatal(err)
	}
	if err := c.Goto("mutual-tls", 2); err != nil {
		t.Fatal(err)
	}
	if ev := <-feed; ev.Kind != "note" || ev.Text != "break until 11:00" {
		t.Errorf("event %+v", ev)
	}
	if ev := <-feed; ev.Kind != "goto" || ev.Lesson != "mutual-tls" || ev.Step != 2 {
		t.Errorf("event %+v", ev)
	}
	late, stopLate := c.Subscribe(a.ID)
	defer stopLate()
	if ev := <-late; ev.Text != "break until 11:00" {
		t.Errorf("a late page got %+v", ev)
	}
	e, err := c.End(nil)
	if err != nil || len(e.Attendees) != 1 || len(e.Events) != 2 {
		t.Fatalf("export %+v %v", e, err)
	}
	if ev := <-feed; ev.Kind != "ended" {
		t.Errorf("event %+v", ev)
	}
	c.Close()
	c = open(t, dir, "")
	defer c.Close()
	if _, _, ok := c.Session(cookie); ok || c.Attendees() != 0 {
		t.Error("attendees outlived the end of the class")
	}
}

// A second server on the same data folder is told the store is in use.
func TestStoreInUse(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, "")
	defer c.Close()
	if _, err := Open(dir, ""); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second open: %v", err)
	}
}

// The bbolt file opens with the buckets the package expects.
func TestStoreBuckets(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, "")
	c.Close()
	db, err := bolt.Open(filepath.Join(dir, StoreFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketAttendees, bucketCerts} {
			if tx.Bucket(b) == nil {
				t.Errorf("no bucket %s", b)
			}
		}
		return nil
	})
}

// A report that changes nothing (the page sends the same step again) is
// not written to the store; one that changes the last step or adds a done
// step is.
func TestReportWritesOnlyChanges(t *testing.T) {
	c := open(t, t.TempDir(), "")
	defer c.Close()
	a, _, err := c.Join("Ada")
	if err != nil {
		t.Fatal(err)
	}
	writes := func() int64 { s := c.st.db.Stats(); return s.TxStats.GetWrite() }
	for _, tt := range []struct {
		rep   ProgressReport
		write bool
	}{
		{ProgressReport{Lesson: "tls-basics", Step: 2}, true},
		{ProgressReport{Lesson: "tls-basics", Step: 2}, false},
		{ProgressReport{Lesson: "tls-basics", Step: 2, Done: true}, true},
		{ProgressReport{Lesson: "tls-basics", Step: 2, Done: true}, false},
		{ProgressReport{Lesson: "tls-basics", Step: 2}, false},
		{ProgressReport{Lesson: "tls-basics", Step: 3}, true},
		{ProgressReport{Lesson: "mqtt-basics", Step: 3}, true},
	} {
		before := writes()
		if err := c.Report(a.ID, tt.rep); err != nil {
			t.Fatal(err)
		}
		if wrote := writes() > before; wrote != tt.write {
			t.Errorf("report %+v: written %v, want %v", tt.rep, wrote, tt.write)
		}
	}
	lp := c.attendees[a.ID].Progress["tls-basics"]
	if lp.Last != 3 || !slices.Equal(lp.Done, []int{2}) {
		t.Errorf("progress %+v, want last 3, done [2]", lp)
	}
}
