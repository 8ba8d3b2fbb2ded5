package broker

import "testing"

// ownsTopic confines an attendee to their spaces, whatever the wildcards,
// shared-subscription groups or look-alike ids, and allocates nothing: it
// runs for every message delivered in a class.
func TestOwnsTopic(t *testing.T) {
	patterns := []string{"ws/{owner}", "lessons/{owner}", "x/{owner}/y/{owner}"}
	for _, tc := range []struct {
		topic string
		want  bool
	}{
		{"ws/alice", true},
		{"ws/alice/", true},
		{"ws/alice/a/b", true},
		{"ws/alice/#", true},
		{"lessons/alice/+", true},
		{"$share/g/ws/alice/#", true},
		{"x/alice/y/alice/z", true},
		{"ws/alicex", false},
		{"ws/alic", false},
		{"ws/bob/#", false},
		{"ws/+/#", false},
		{"+/alice/#", false},
		{"#", false},
		{"ws", false},
		{"ws/", false},
		{"$share/ws/alice/#", false},
		{"$share/g/ws/bob/#", false},
		{"$share/g", false},
		{"x/alice/y/bob", false},
		{"x/alice/y/", false},
		{"lesson/alice", false},
	} {
		if got := ownsTopic(tc.topic, "alice", patterns); got != tc.want {
			t.Errorf("ownsTopic(%q, alice) = %v, want %v", tc.topic, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { ownsTopic("lessons/alice/a/b", "alice", patterns) }); n != 0 {
		t.Errorf("ownsTopic allocates %v times a call", n)
	}
}

// topicOwner names the attendee whose space a retained message's topic is
// in, for their share of the retained budget.
func TestTopicOwner(t *testing.T) {
	patterns := []string{"ws/{owner}", "lesson/{owner}", "x/{owner}/y/{owner}"}
	for _, tc := range []struct{ topic, want string }{
		{"ws/alice", "alice"},
		{"ws/alice/a/b", "alice"},
		{"lesson/bob/x", "bob"},
		{"x/carol/y/carol/z", "carol"},
		{"x/carol/y/dave", ""},
		{"ws/", ""},
		{"ws", ""},
		{"wsx/alice", ""},
		{"other/alice", ""},
		{"$SYS/broker", ""},
	} {
		if got := topicOwner(tc.topic, patterns); got != tc.want {
			t.Errorf("topicOwner(%q) = %q, want %q", tc.topic, got, tc.want)
		}
	}
}
