// Package sessionrec records the real MQTT sessions that package trace's
// golden decoder tests replay (trace/testdata/sessions). It holds only a
// test, run on demand:
//
//	go test ./trace/internal/sessionrec -record
//
// Each session runs a real broker (package broker, listeners on
// 127.0.0.1:0, certificates from package pki in a temporary folder) and a
// real client (the playground's client, or paho.golang for MQTT 5
// properties) and saves both ends' recordings as
// NAME.client.json and NAME.broker.json. Then rewrite the goldens with
//
//	go test ./trace -run TestSessions -update
//
// It lives apart from package trace because the broker imports trace: a
// test of package trace that imported the broker would make every run of
// trace's tests build the broker too.
package sessionrec
