// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2023 mochi-mqtt, mochi-co
// SPDX-FileContributor: mochi-co

package mqtt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/xid"

	"github.com/mochi-mqtt/server/v2/packets"
)

const (
	defaultKeepalive             uint16 = 10 // the default connection keepalive value in seconds.
	defaultClientProtocolVersion byte   = 4  // the default mqtt protocol version of connecting clients (if somehow unspecified).
	minimumKeepalive             uint16 = 5  // the minimum recommended keepalive - values under with display a warning.
)

var (
	ErrMinimumKeepalive = errors.New("client keepalive is below minimum recommended value and may exhibit connection instability")
)

// ReadFn is the function signature for the function used for reading and processing new packets.
type ReadFn func(*Client, packets.Packet) error

// Clients contains a map of the clients known by the broker.
type Clients struct {
	internal map[string]*Client // clients known by the broker, keyed on client id.
	sync.RWMutex
}

// NewClients returns an instance of Clients.
func NewClients() *Clients {
	return &Clients{
		internal: make(map[string]*Client),
	}
}

// Add adds a new client to the clients map, keyed on client id.
func (cl *Clients) Add(val *Client) {
	cl.Lock()
	defer cl.Unlock()
	cl.internal[val.ID] = val
}

// GetAll returns all the clients.
func (cl *Clients) GetAll() map[string]*Client {
	cl.RLock()
	defer cl.RUnlock()
	m := map[string]*Client{}
	for k, v := range cl.internal {
		m[k] = v
	}
	return m
}

// Get returns the value of a client if it exists.
func (cl *Clients) Get(id string) (*Client, bool) {
	cl.RLock()
	defer cl.RUnlock()
	val, ok := cl.internal[id]
	return val, ok
}

// Len returns the length of the clients map.
func (cl *Clients) Len() int {
	cl.RLock()
	defer cl.RUnlock()
	val := len(cl.internal)
	return val
}

// Delete removes a client from the internal map.
func (cl *Clients) Delete(id string) {
	cl.Lock()
	defer cl.Unlock()
	delete(cl.internal, id)
}

// GetByListener returns clients matching a listener id.
func (cl *Clients) GetByListener(id string) []*Client {
	cl.RLock()
	defer cl.RUnlock()
	clients := make([]*Client, 0, cl.Len())
	for _, client := range cl.internal {
		if client.Net.Listener == id && !client.Closed() {
			clients = append(clients, client)
		}
	}
	return clients
}

// Client contains information about a client known by the broker.
type Client struct {
	Properties   ClientProperties // client properties
	State        ClientState      // the operational state of the client.
	Net          ClientConnection // network connection state of the client
	ID           string           // the client id.
	ops          *ops             // ops provides a reference to server ops.
	sync.RWMutex                  // mutex
}

// ClientConnection contains the connection transport and metadata for the client.
type ClientConnection struct {
	Conn        net.Conn      // the net.Conn used to establish the connection
	bconn       *bufio.Reader // a buffered net.Conn for reading packets
	wmu         sync.Mutex    // PATCH(playground): one write at a time, without holding the client's lock
	deferred    []*Client     // PATCH(playground): clients whose queue this client's reader writes (see enqueueFrom)
	deferredFor int           // PATCH(playground): packets read since deferred was last written
	Remote      string        // the remote address of the client
	Listener    string        // listener id of the client
	Inline      bool          // if true, the client is the built-in 'inline' embedded client
}

// ClientProperties contains the properties which define the client behaviour.
type ClientProperties struct {
	Props           packets.Properties
	Will            Will
	Username        []byte
	ProtocolVersion byte
	Clean           bool
}

// Will contains the last will and testament details for a client connection.
type Will struct {
	Payload           []byte                 // -
	User              []packets.UserProperty // -
	TopicName         string                 // -
	Flag              uint32                 // 0,1
	WillDelayInterval uint32                 // -
	Qos               byte                   // -
	Retain            bool                   // -
}

// ClientState tracks the state of the client.
type ClientState struct {
	TopicAliases    TopicAliases       // a map of topic aliases
	stopCause       atomic.Value       // reason for stopping
	Inflight        *Inflight          // a map of in-flight qos messages
	Subscriptions   *Subscriptions     // a map of the subscription filters a client maintains
	disconnected    int64              // the time the client disconnected in unix time, for calculating expiry
	outbound        outQueue           // PATCH(playground): packets waiting for the client's writer
	endOnce         sync.Once          // only end once
	isTakenOver     atomic.Bool        // used to identify orphaned clients
	packetID        uint32             // the current highest packetID
	open            context.Context    // indicate that the client is open for packet exchange
	cancelOpen      context.CancelFunc // cancel function for open context
	outboundQty     int32              // number of messages currently in the outbound queue
	outboundBytes   int64              // PATCH(playground): bytes of the QoS 0 messages in the outbound queue
	Keepalive       uint16             // the number of seconds the connection can wait
	ServerKeepalive bool               // keepalive was set by the server
}

// newClient returns a new instance of Client. This is almost exclusively used by Server
// for creating new clients, but it lives here because it's not dependent.
func newClient(c net.Conn, o *ops) *Client {
	ctx, cancel := context.WithCancel(context.Background())
	cl := &Client{
		State: ClientState{
			Inflight:      NewInflights(),
			Subscriptions: NewSubscriptions(),
			TopicAliases:  NewTopicAliases(o.options.Capabilities.TopicAliasMaximum),
			open:          ctx,
			cancelOpen:    cancel,
			Keepalive:     defaultKeepalive,
		},
		Properties: ClientProperties{
			ProtocolVersion: defaultClientProtocolVersion, // default protocol version
		},
		ops: o,
	}

	if c != nil {
		cl.Net = ClientConnection{
			Conn:   c,
			bconn:  bufio.NewReaderSize(c, o.options.ClientNetReadBufferSize),
			Remote: c.RemoteAddr().String(),
		}
	}

	return cl
}

// ParseConnect parses the connect parameters and properties for a client.
func (cl *Client) ParseConnect(lid string, pk packets.Packet) {
	cl.Net.Listener = lid

	cl.Properties.ProtocolVersion = pk.ProtocolVersion
	cl.Properties.Username = pk.Connect.Username
	cl.Properties.Clean = pk.Connect.Clean
	cl.Properties.Props = pk.Properties.Copy(false)

	if cl.Properties.Props.ReceiveMaximum > cl.ops.options.Capabilities.MaximumInflight { // 3.3.4 Non-normative
		cl.Properties.Props.ReceiveMaximum = cl.ops.options.Capabilities.MaximumInflight
	}

	if pk.Connect.Keepalive <= minimumKeepalive {
		cl.ops.log.Warn(
			ErrMinimumKeepalive.Error(),
			"client", cl.ID,
			"keepalive", pk.Connect.Keepalive,
			"recommended", minimumKeepalive,
		)
	}

	cl.State.Keepalive = pk.Connect.Keepalive                                              // [MQTT-3.2.2-22]
	cl.State.Inflight.ResetReceiveQuota(int32(cl.ops.options.Capabilities.ReceiveMaximum)) // server receive max per client
	cl.State.Inflight.ResetSendQuota(int32(cl.Properties.Props.ReceiveMaximum))            // client receive max
	cl.State.TopicAliases.Outbound = NewOutboundTopicAliases(cl.Properties.Props.TopicAliasMaximum)

	cl.ID = pk.Connect.ClientIdentifier
	if cl.ID == "" {
		cl.ID = xid.New().String() // [MQTT-3.1.3-6] [MQTT-3.1.3-7]
		cl.Properties.Props.AssignedClientID = cl.ID
	}

	if pk.Connect.WillFlag {
		cl.Properties.Will = Will{
			Qos:               pk.Connect.WillQos,
			Retain:            pk.Connect.WillRetain,
			Payload:           pk.Connect.WillPayload,
			TopicName:         pk.Connect.WillTopic,
			WillDelayInterval: pk.Connect.WillProperties.WillDelayInterval,
			User:              pk.Connect.WillProperties.User,
		}
		if pk.Properties.SessionExpiryIntervalFlag &&
			pk.Properties.SessionExpiryInterval < pk.Connect.WillProperties.WillDelayInterval {
			cl.Properties.Will.WillDelayInterval = pk.Properties.SessionExpiryInterval
		}
		if pk.Connect.WillFlag {
			cl.Properties.Will.Flag = 1 // atomic for checking
		}
	}
}

// refreshDeadline refreshes the read/write deadline for the net.Conn connection.
func (cl *Client) refreshDeadline(keepalive uint16) {
	var expiry time.Time // nil time can be used to disable deadline if keepalive = 0
	if keepalive > 0 {
		expiry = time.Now().Add(time.Duration(keepalive+(keepalive/2)) * time.Second) // [MQTT-3.1.2-22]
	}

	if cl.Net.Conn != nil {
		_ = cl.Net.Conn.SetDeadline(expiry) // [MQTT-3.1.2-22]
	}
}

// NextPacketID returns the next available (unused) packet id for the client.
// If no unused packet ids are available, an error is returned and the client
// should be disconnected.
func (cl *Client) NextPacketID() (i uint32, err error) {
	cl.Lock()
	defer cl.Unlock()

	i = atomic.LoadUint32(&cl.State.packetID)
	started := i
	overflowed := false
	for {
		if overflowed && i == started {
			return 0, packets.ErrQuotaExceeded
		}

		if i >= cl.ops.options.Capabilities.maximumPacketID {
			overflowed = true
			i = 0
			continue
		}

		i++

		if _, ok := cl.State.Inflight.Get(uint16(i)); !ok {
			atomic.StoreUint32(&cl.State.packetID, i)
			return i, nil
		}
	}
}

// ResendInflightMessages attempts to resend any pending inflight messages to connected clients.
func (cl *Client) ResendInflightMessages(force bool) error {
	if cl.State.Inflight.Len() == 0 {
		return nil
	}

	for _, tk := range cl.State.Inflight.GetAll(false) {
		if tk.FixedHeader.Type == packets.Publish {
			tk.FixedHeader.Dup = true // [MQTT-3.3.1-1] [MQTT-3.3.1-3]
		}

		cl.ops.hooks.OnQosPublish(cl, tk, tk.Created, 0)
		err := cl.WritePacket(tk)
		if err != nil {
			return err
		}

		if tk.FixedHeader.Type == packets.Puback || tk.FixedHeader.Type == packets.Pubcomp {
			if ok := cl.State.Inflight.Delete(tk.PacketID); ok {
				cl.ops.hooks.OnQosComplete(cl, tk)
				atomic.AddInt64(&cl.ops.info.Inflight, -1)
			}
		}
	}

	return nil
}

// ClearInflights deletes all inflight messages for the client, e.g. for a disconnected user with a clean session.
func (cl *Client) ClearInflights() {
	for _, tk := range cl.State.Inflight.GetAll(false) {
		if ok := cl.State.Inflight.Delete(tk.PacketID); ok {
			cl.ops.hooks.OnQosDropped(cl, tk)
			atomic.AddInt64(&cl.ops.info.Inflight, -1)
		}
	}
}

// ClearExpiredInflights deletes any inflight messages which have expired.
func (cl *Client) ClearExpiredInflights(now, maximumExpiry int64) []uint16 {
	deleted := []uint16{}
	for _, tk := range cl.State.Inflight.GetAll(false) {
		expired := tk.ProtocolVersion == 5 && tk.Expiry > 0 && tk.Expiry < now // [MQTT-3.3.2-5]

		// If the maximum message expiry interval is set (greater than 0), and the message
		// retention period exceeds the maximum expiry, the message will be forcibly removed.
		enforced := maximumExpiry > 0 && now-tk.Created > maximumExpiry

		if expired || enforced {
			if ok := cl.State.Inflight.Delete(tk.PacketID); ok {
				cl.ops.hooks.OnQosDropped(cl, tk)
				atomic.AddInt64(&cl.ops.info.Inflight, -1)
				deleted = append(deleted, tk.PacketID)
			}
		}
	}

	return deleted
}

// Read reads incoming packets from the connected client and transforms them into
// packets to be handled by the packetHandler.
func (cl *Client) Read(packetHandler ReadFn) error {
	for {
		if cl.Closed() {
			cl.flushDeferred()
			return nil
		}

		cl.refreshDeadline(cl.State.Keepalive)
		// PATCH(playground): a connection waits for its next packet here, in
		// a small stack frame; the packet is read and handled in readNext,
		// whose frame holds the large Packet values and is gone again by
		// the time the next wait starts. Idle connections keep smaller
		// stacks (upstream held several Packets in this frame while
		// waiting).
		if cl.Net.bconn == nil {
			return ErrConnectionClosed
		}
		b, err := cl.Net.bconn.ReadByte()
		if err != nil {
			return err
		}
		err = cl.readNext(b, packetHandler)
		// Before waiting for more, write what the packets read so far
		// produced for idle clients (see enqueueFrom): when nothing more
		// has arrived (a message then goes out at once), or after
		// maxDeferredPackets packets of a stream (whose messages then go
		// out in batches).
		if len(cl.Net.deferred) > 0 {
			cl.Net.deferredFor++
			if err != nil || cl.Net.deferredFor >= maxDeferredPackets || (cl.Net.bconn.Buffered() == 0 && !cl.readable()) {
				cl.flushDeferred()
			}
		}
		if err != nil {
			return err
		}
	}
}

// readNext reads the rest of the packet whose first byte is b and hands it
// to packetHandler. PATCH(playground): see Read.
//
//go:noinline
func (cl *Client) readNext(b byte, packetHandler ReadFn) error {
	fh := new(packets.FixedHeader)
	if err := cl.readFixedHeaderRest(b, fh); err != nil {
		return err
	}

	pk, err := cl.ReadPacket(fh)
	if err != nil {
		return err
	}

	return packetHandler(cl, pk) // Process inbound packet.
}

// Stop instructs the client to shut down all processing goroutines and disconnect.
func (cl *Client) Stop(err error) {
	cl.State.endOnce.Do(func() {
		// PATCH(playground): the cause is stored before the connection
		// closes, so that the connection's Close can ask for it (a
		// connection the client ended needs no graceful close).
		if err != nil {
			cl.State.stopCause.Store(err)
		}

		if cl.Net.Conn != nil {
			_ = cl.Net.Conn.Close() // omit close error
		}

		if cl.State.cancelOpen != nil {
			cl.State.cancelOpen()
		}

		atomic.StoreInt64(&cl.State.disconnected, time.Now().Unix())
	})
}

// StopCause returns the reason the client connection was stopped, if any.
func (cl *Client) StopCause() error {
	if cl.State.stopCause.Load() == nil {
		return nil
	}
	return cl.State.stopCause.Load().(error)
}

// StopTime returns the the time the client disconnected in unix time, else zero.
func (cl *Client) StopTime() int64 {
	return atomic.LoadInt64(&cl.State.disconnected)
}

// Closed returns true if client connection is closed.
func (cl *Client) Closed() bool {
	return cl.State.open == nil || cl.State.open.Err() != nil
}

func (cl *Client) IsTakenOver() bool {
	return cl.State.isTakenOver.Load()
}

// ReadFixedHeader reads in the values of the next packet's fixed header.
func (cl *Client) ReadFixedHeader(fh *packets.FixedHeader) error {
	if cl.Net.bconn == nil {
		return ErrConnectionClosed
	}

	b, err := cl.Net.bconn.ReadByte()
	if err != nil {
		return err
	}

	return cl.readFixedHeaderRest(b, fh)
}

// readFixedHeaderRest reads the fixed header whose first byte is b.
// PATCH(playground): split out of ReadFixedHeader for Read.
func (cl *Client) readFixedHeaderRest(b byte, fh *packets.FixedHeader) error {
	err := fh.Decode(b)
	if err != nil {
		return err
	}

	var bu int
	fh.Remaining, bu, err = packets.DecodeLength(cl.Net.bconn)
	if err != nil {
		return err
	}

	// PATCH(playground): the size counts the whole fixed header (upstream
	// counted one byte of it), and is checked in 64 bits.
	if limit := cl.ops.options.Capabilities.MaximumPacketSize; limit > 0 && int64(1+bu)+int64(fh.Remaining) > int64(limit) {
		return packets.ErrPacketTooLarge // [MQTT-3.2.2-15]
	}

	atomic.AddInt64(&cl.ops.info.BytesReceived, int64(bu+1))
	return nil
}

// ReadPacket reads the remaining buffer into an MQTT packet.
func (cl *Client) ReadPacket(fh *packets.FixedHeader) (pk packets.Packet, err error) {
	atomic.AddInt64(&cl.ops.info.PacketsReceived, 1)

	pk.ProtocolVersion = cl.Properties.ProtocolVersion // inherit client protocol version for decoding
	pk.FixedHeader = *fh
	// PATCH(playground): memory follows the bytes that arrive, not the
	// length the header announces (a 5-byte header may announce 256 MB),
	// and the body is no longer copied a second time: p is new for every
	// packet, so the next packet cannot change it.
	px, err := readBody(cl.Net.bconn, pk.FixedHeader.Remaining)
	atomic.AddInt64(&cl.ops.info.BytesReceived, int64(len(px)))
	if err != nil {
		return pk, err
	}

	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectDecode(px)
	case packets.Disconnect:
		err = pk.DisconnectDecode(px)
	case packets.Connack:
		err = pk.ConnackDecode(px)
	case packets.Publish:
		err = pk.PublishDecode(px)
		if err == nil {
			atomic.AddInt64(&cl.ops.info.MessagesReceived, 1)
		}
	case packets.Puback:
		err = pk.PubackDecode(px)
	case packets.Pubrec:
		err = pk.PubrecDecode(px)
	case packets.Pubrel:
		err = pk.PubrelDecode(px)
	case packets.Pubcomp:
		err = pk.PubcompDecode(px)
	case packets.Subscribe:
		err = pk.SubscribeDecode(px)
	case packets.Suback:
		err = pk.SubackDecode(px)
	case packets.Unsubscribe:
		err = pk.UnsubscribeDecode(px)
	case packets.Unsuback:
		err = pk.UnsubackDecode(px)
	case packets.Pingreq:
	case packets.Pingresp:
	case packets.Auth:
		err = pk.AuthDecode(px)
	default:
		err = fmt.Errorf("invalid packet type; %v", pk.FixedHeader.Type)
	}

	if err != nil {
		return pk, err
	}

	pk, err = cl.ops.hooks.OnPacketRead(cl, pk)
	return
}

// eagerBody is the largest packet body read into a buffer of its announced
// size at once; larger bodies grow with the bytes that arrive.
const eagerBody = 64 << 10

// readBody reads the n bytes of a packet body. PATCH(playground).
func readBody(r io.Reader, n int) ([]byte, error) {
	if n <= eagerBody {
		p := make([]byte, n)
		m, err := io.ReadFull(r, p)
		return p[:m], err
	}
	var b bytes.Buffer
	b.Grow(eagerBody)
	m, err := io.CopyN(&b, r, int64(n))
	if err == io.EOF && m < int64(n) {
		err = io.ErrUnexpectedEOF
	}
	return b.Bytes(), err
}

// WritePacket encodes and writes a packet to the client.
func (cl *Client) WritePacket(pk packets.Packet) error {
	if cl.Closed() {
		return ErrConnectionClosed
	}

	if cl.Net.Conn == nil {
		return nil
	}

	buf := new(bytes.Buffer)
	pk, err := cl.encodePacket(pk, buf)
	if err != nil {
		return err
	}

	// PATCH(playground): a packet is written at once; packets queued for
	// the client are written in batches by its writer (see writeQueued),
	// instead of each waiting write buffering in a per-client buffer.
	cl.Net.wmu.Lock()
	n, err := cl.Net.Conn.Write(buf.Bytes())
	cl.Net.wmu.Unlock()
	if err != nil {
		return err
	}

	cl.packetSent(pk, buf.Bytes(), n)
	return nil
}

// encodePacket prepares pk for the client and appends its encoding to buf;
// it returns the packet as encoded. PATCH(playground): split out of
// WritePacket so that queued packets are encoded into one buffer.
func (cl *Client) encodePacket(pk packets.Packet, buf *bytes.Buffer) (packets.Packet, error) {
	if pk.Expiry > 0 {
		expiry := pk.Expiry - time.Now().Unix()
		if expiry < 1 {
			expiry = 1
		}
		pk.Properties.MessageExpiryInterval = uint32(expiry) // [MQTT-3.3.2-6]
	}

	pk.ProtocolVersion = cl.Properties.ProtocolVersion
	if pk.Mods.MaxSize == 0 { // NB we use this statement to embed client packet sizes in tests
		pk.Mods.MaxSize = cl.Properties.Props.MaximumPacketSize
	}

	if cl.Properties.Props.RequestProblemInfoFlag && cl.Properties.Props.RequestProblemInfo == 0x0 {
		pk.Mods.DisallowProblemInfo = true // [MQTT-3.1.2-29] strict, no problem info on any packet if set
	}

	if pk.FixedHeader.Type != packets.Connack || cl.Properties.Props.RequestResponseInfo == 0x1 || cl.ops.options.Capabilities.Compatibilities.AlwaysReturnResponseInfo {
		pk.Mods.AllowResponseInfo = true // [MQTT-3.1.2-28] we need to know which properties we can encode
	}

	pk = cl.ops.hooks.OnPacketEncode(cl, pk)

	start := buf.Len()
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(buf)
	case packets.Connack:
		err = pk.ConnackEncode(buf)
	case packets.Publish:
		err = pk.PublishEncode(buf)
	case packets.Puback:
		err = pk.PubackEncode(buf)
	case packets.Pubrec:
		err = pk.PubrecEncode(buf)
	case packets.Pubrel:
		err = pk.PubrelEncode(buf)
	case packets.Pubcomp:
		err = pk.PubcompEncode(buf)
	case packets.Subscribe:
		err = pk.SubscribeEncode(buf)
	case packets.Suback:
		err = pk.SubackEncode(buf)
	case packets.Unsubscribe:
		err = pk.UnsubscribeEncode(buf)
	case packets.Unsuback:
		err = pk.UnsubackEncode(buf)
	case packets.Pingreq:
		err = pk.PingreqEncode(buf)
	case packets.Pingresp:
		err = pk.PingrespEncode(buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(buf)
	case packets.Auth:
		err = pk.AuthEncode(buf)
	default:
		err = fmt.Errorf("%w: %v", packets.ErrNoValidPacketAvailable, pk.FixedHeader.Type)
	}
	if err == nil && pk.Mods.MaxSize > 0 && uint32(buf.Len()-start) > pk.Mods.MaxSize {
		err = packets.ErrPacketTooLarge // [MQTT-3.1.2-24] [MQTT-3.1.2-25]
	}
	if err != nil {
		buf.Truncate(start)
		return pk, err
	}
	return pk, nil
}

// packetSent counts a packet written (b are its bytes, n of them written)
// and runs the OnPacketSent hooks. PATCH(playground).
func (cl *Client) packetSent(pk packets.Packet, b []byte, n int) {
	atomic.AddInt64(&cl.ops.info.BytesSent, int64(n))
	atomic.AddInt64(&cl.ops.info.PacketsSent, 1)
	if pk.FixedHeader.Type == packets.Publish {
		atomic.AddInt64(&cl.ops.info.MessagesSent, 1)
	}

	cl.ops.hooks.OnPacketSent(cl, pk, b)
}

// outQueue holds the packets waiting to be written to a client. A writer
// goroutine runs only while it is not empty, and its memory comes from
// pools, so an idle client holds neither a goroutine nor a buffer for its
// outbound packets. PATCH(playground): upstream gave every client a
// channel of MaximumClientWritesPending pointers (64 KiB by default) and
// a writer goroutine for its whole life, and wrote each packet with a
// system call of its own.
type outQueue struct {
	mu      sync.Mutex
	pks     []packets.Packet
	writing bool // a writer goroutine is draining the queue
}

// batchPool holds the slices queued packets wait in.
var batchPool = sync.Pool{New: func() any { return new([]packets.Packet) }}

// writeBufPool holds the buffers a writer encodes a batch into.
var writeBufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// InlineWriter is implemented by a connection that can tell whether a
// Write would return at once, without waiting for the peer to read.
// PATCH(playground): see Client.enqueueFrom.
type InlineWriter interface {
	CanWriteNow() bool
}

// Readable is implemented by a connection that can tell whether bytes
// have arrived that a Read would return at once. PATCH(playground): see
// Client.Read.
type Readable interface {
	Readable() bool
}

// maxDeferred is how many idle clients one reader writes to itself after a
// batch of packets (see enqueueFrom); more get writer goroutines, which
// share the work between processors.
const maxDeferred = 8

// maxDeferredPackets is how many packets a reader handles, at most, before
// it writes what they produced for idle clients (see Read).
const maxDeferredPackets = 64

// enqueue queues pk for the client's writer, starting the writer when it
// is not running; it returns false when MaximumClientWritesPending packets
// are already waiting. PATCH(playground).
func (cl *Client) enqueue(pk packets.Packet) bool {
	return cl.enqueueFrom(nil, pk)
}

// enqueueFrom is enqueue for a packet that the reader of client from (when
// not nil) produced. When the client's queue was idle and its connection
// can take a write without waiting, no writer goroutine starts: from's
// reader writes the queue itself once it has handled the packets it has
// read (see flushDeferred), as an event loop would. A message then reaches
// an idle subscriber without a hand-over between goroutines, which costs
// more than the write. PATCH(playground).
func (cl *Client) enqueueFrom(from *Client, pk packets.Packet) bool {
	q := &cl.State.outbound
	q.mu.Lock()
	if atomic.LoadInt32(&cl.State.outboundQty) >= cl.ops.options.Capabilities.MaximumClientWritesPending {
		q.mu.Unlock()
		return false
	}
	if q.pks == nil {
		q.pks = (*batchPool.Get().(*[]packets.Packet))[:0]
	}
	q.pks = append(q.pks, pk)
	atomic.AddInt32(&cl.State.outboundQty, 1)
	start := !q.writing
	q.writing = true
	q.mu.Unlock()
	if start {
		if from != nil && len(from.Net.deferred) < maxDeferred && cl.canWriteNow() {
			from.Net.deferred = append(from.Net.deferred, cl)
		} else {
			go cl.writeQueued()
		}
	}
	return true
}

// canWriteNow reports whether a write to the client's connection would
// not wait for the client. PATCH(playground).
func (cl *Client) canWriteNow() bool {
	w, ok := cl.Net.Conn.(InlineWriter)
	return ok && w.CanWriteNow()
}

// readable reports whether more of the client's bytes wait to be read.
// PATCH(playground).
func (cl *Client) readable() bool {
	r, ok := cl.Net.Conn.(Readable)
	return ok && r.Readable()
}

// flushDeferred writes the queues that cl's reader took on (see
// enqueueFrom); what is queued meanwhile goes to writer goroutines.
// PATCH(playground).
func (cl *Client) flushDeferred() {
	cl.Net.deferredFor = 0
	for i, t := range cl.Net.deferred {
		cl.Net.deferred[i] = nil
		if !t.canWriteNow() || t.writeOnce() {
			// Busy since (or more came meanwhile): its own writer.
			go t.writeQueued()
		}
	}
	cl.Net.deferred = cl.Net.deferred[:0]
}

// writeQueued writes the queued packets, as many at a time as are waiting,
// until the queue is empty. PATCH(playground): replaces WriteLoop.
func (cl *Client) writeQueued() {
	for cl.writeOnce() {
	}
}

// writeOnce writes the packets queued now, if any; it returns false, having
// given up the writer's role, when no more are queued. PATCH(playground).
func (cl *Client) writeOnce() bool {
	q := &cl.State.outbound
	q.mu.Lock()
	batch := q.pks
	q.pks = nil
	if len(batch) == 0 {
		q.writing = false
		q.mu.Unlock()
		return false
	}
	q.mu.Unlock()

	cl.writeBatch(batch)

	var qos0Bytes int64
	for i := range batch {
		if batch[i].FixedHeader.Qos == 0 {
			qos0Bytes += QueuedSize(batch[i])
		}
		batch[i] = packets.Packet{} // no references kept in the pool
	}
	atomic.AddInt64(&cl.State.outboundBytes, -qos0Bytes)
	atomic.AddInt32(&cl.State.outboundQty, -int32(len(batch)))
	if cap(batch) <= 1024 {
		batch = batch[:0]
		batchPool.Put(&batch)
	}

	q.mu.Lock()
	more := len(q.pks) > 0
	if !more {
		q.writing = false
	}
	q.mu.Unlock()
	return more
}

// writeBatch encodes pks into one buffer and writes it, in pieces of about
// ClientNetWriteBufferSize bytes. A packet that cannot be encoded (too
// large for the client) is left out; after a write error nothing more is
// written. PATCH(playground).
func (cl *Client) writeBatch(pks []packets.Packet) {
	if cl.Closed() || cl.Net.Conn == nil {
		return
	}
	buf := writeBufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			writeBufPool.Put(buf)
		}
	}()
	// The packets written are counted, and handed to the OnPacketSent
	// hooks when there are any (only then are they kept).
	type sent struct {
		pk         packets.Packet
		start, end int
	}
	var done []sent
	hooked := cl.ops.hooks.Provides(OnPacketSent)
	var nPackets, nMessages int64
	flush := func() error {
		if buf.Len() == 0 {
			return nil
		}
		cl.Net.wmu.Lock()
		n, err := cl.Net.Conn.Write(buf.Bytes())
		cl.Net.wmu.Unlock()
		if err != nil {
			return err
		}
		atomic.AddInt64(&cl.ops.info.BytesSent, int64(n))
		atomic.AddInt64(&cl.ops.info.PacketsSent, nPackets)
		atomic.AddInt64(&cl.ops.info.MessagesSent, nMessages)
		nPackets, nMessages = 0, 0
		for _, s := range done {
			cl.ops.hooks.OnPacketSent(cl, s.pk, buf.Bytes()[s.start:s.end])
		}
		done = done[:0]
		buf.Reset()
		return nil
	}
	for i := range pks {
		start := buf.Len()
		pk, err := cl.encodePacket(pks[i], buf)
		if err != nil {
			cl.ops.log.Debug("failed publishing packet", "error", err, "client", cl.ID, "packet", pks[i])
			continue
		}
		nPackets++
		if pk.FixedHeader.Type == packets.Publish {
			nMessages++
		}
		if hooked {
			done = append(done, sent{pk, start, buf.Len()})
		}
		if buf.Len() >= cl.ops.options.ClientNetWriteBufferSize {
			if err := flush(); err != nil {
				cl.ops.log.Debug("failed publishing packet", "error", err, "client", cl.ID)
				return
			}
		}
	}
	if err := flush(); err != nil {
		cl.ops.log.Debug("failed publishing packet", "error", err, "client", cl.ID)
	}
}
