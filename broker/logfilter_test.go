package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// The core's "error processing packet" line reaches the log without the
// packet it dumps (payload, password), and not at all when the client had
// only gone away.
func TestLevelFilterKeepsPacketsOutOfTheLog(t *testing.T) {
	pk := packets.Packet{TopicName: "secret/topic", Payload: []byte("the payload"),
		Connect: packets.ConnectParams{Password: []byte("hunter2")}}
	for _, tc := range []struct {
		err  error
		want bool // logged
	}{
		{errors.New("invalid packet"), true},
		{fmt.Errorf("write: %w", syscall.EPIPE), false},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), false},
	} {
		var buf bytes.Buffer
		// The core logs through derived loggers (Log.With): the filter holds there too.
		log := slog.New(&levelFilter{slog.NewTextHandler(&buf, nil), slog.LevelWarn}).With("hook", "h").WithGroup("g")
		log.Warn("error processing packet", "error", tc.err, "client", "c1", "listener", "mqtts", "pk", pk)
		log.Info("below the level")
		out := buf.String()
		if got := strings.Contains(out, "error processing packet"); got != tc.want {
			t.Errorf("%v: logged %v, want %v:\n%s", tc.err, got, tc.want, out)
		}
		if tc.want && !strings.Contains(out, "g.client=c1") {
			t.Errorf("%v: the client is missing:\n%s", tc.err, out)
		}
		for _, secret := range []string{"hunter2", "the payload", "secret/topic", "below the level", "Password", "104 117"} {
			if strings.Contains(out, secret) {
				t.Errorf("%v: the log shows %q:\n%s", tc.err, secret, out)
			}
		}
	}
	if (&levelFilter{slog.NewTextHandler(&bytes.Buffer{}, nil), slog.LevelWarn}).Enabled(context.Background(), slog.LevelInfo) {
		t.Error("info enabled below warn")
	}
}
