// Tests of the playground's patches (see ../PATCHES.md).

package packets

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeShortForms(t *testing.T) {
	tests := []struct {
		name   string
		raw    []byte // fixed header, then body
		reason byte
	}{
		{"DISCONNECT with will, reason only", []byte{Disconnect << 4, 1, 0x04}, 0x04},
		{"DISCONNECT with will, empty properties", []byte{Disconnect << 4, 2, 0x04, 0}, 0x04},
		{"DISCONNECT normal, no body", []byte{Disconnect << 4, 0}, 0x00},
		{"AUTH success, no body", []byte{Auth << 4, 0}, 0x00},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pk := Packet{ProtocolVersion: 5, ReasonCode: 0xff}
			require.NoError(t, pk.FixedHeader.Decode(tt.raw[0]))
			pk.FixedHeader.Remaining = int(tt.raw[1])
			var err error
			if pk.FixedHeader.Type == Disconnect {
				pk.ReasonCode = 0
				err = pk.DisconnectDecode(tt.raw[2:])
			} else {
				err = pk.AuthDecode(tt.raw[2:])
			}
			require.NoError(t, err)
			require.Equal(t, tt.reason, pk.ReasonCode)
		})
	}
}

func TestPubackKeepsSuccessCodes(t *testing.T) {
	tests := []struct {
		reason byte
		want   []byte
	}{
		{CodeSuccess.Code, []byte{Puback << 4, 2, 0, 1}},
		{CodeNoMatchingSubscribers.Code, []byte{Puback << 4, 3, 0, 1, 0x10}}, // no property length: 0 is implied
	}
	for _, tt := range tests {
		pk := Packet{FixedHeader: FixedHeader{Type: Puback}, ProtocolVersion: 5, PacketID: 1, ReasonCode: tt.reason}
		var buf bytes.Buffer
		require.NoError(t, pk.PubackEncode(&buf))
		require.Equal(t, tt.want, buf.Bytes(), "reason %#x", tt.reason)
	}
}
