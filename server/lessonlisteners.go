package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace/explain"
)

// RogueRelay is the name of the man-in-the-middle lesson listener.
const RogueRelay = "rogue-relay"

// keyListeners are lesson listeners with sound certificates whose keys are
// of another type than mqtts's ECDSA P-256, for comparing handshake costs.
var keyListeners = map[string]string{"key-rsa2048": pki.KeyRSA2048, "key-ed25519": pki.KeyEd25519}

// lessonListenerNames lists the lesson listeners in port order. A new
// listener goes at the end, so that the others keep their ports.
func lessonListenerNames() []string {
	return []string{
		pki.ScenarioExpired, pki.ScenarioNotYetValid, pki.ScenarioWrongHost, pki.ScenarioIPMismatch,
		pki.ScenarioSelfSigned, pki.ScenarioUnknownCA, pki.ScenarioMissingIntermediate,
		pki.ScenarioWeakKey, pki.ScenarioSHA1Signature, pki.ScenarioTLS12Only,
		RogueRelay, "key-rsa2048", "key-ed25519",
		pki.ScenarioCNOnly, pki.ScenarioRevoked,
	}
}

// lessonAddr is the address of the i-th lesson listener: --lesson-ports
// names the first, the others follow; port 0 gives each a free port, "off"
// none (the tunnel still reaches them).
func lessonAddr(base string, i int) (string, error) {
	if base == "off" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(base)
	if err != nil {
		return "", fmt.Errorf("--lesson-ports %q: %v", base, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p+i > 65535 {
		return "", fmt.Errorf("--lesson-ports %q: bad port", base)
	}
	if p == 0 {
		return net.JoinHostPort(host, "0"), nil
	}
	return net.JoinHostPort(host, strconv.Itoa(p+i)), nil
}

// addLessonListeners opens the deliberately broken listeners. Each serves a
// certificate that is wrong in one way (see pki.Scenario), is marked as a
// lesson listener, and its clients may use only lesson/ topics.
func (a *App) addLessonListeners() error {
	for i, name := range lessonListenerNames() {
		addr, err := lessonAddr(a.cfg.LessonPorts, i)
		if err != nil {
			return err
		}
		l := broker.Listener{Name: name, Addr: addr, Lesson: true}
		fault, ok := explain.LessonFault(name)
		if !ok {
			return fmt.Errorf("lesson listener %q has no fault described in trace/explain", name)
		}
		l.Fault = &fault
		if kt, ok := keyListeners[name]; ok {
			cert, err := a.ca.Issue(pki.Leaf{CommonName: "MQTTS Playground broker (" + kt + ")", Names: a.names, Server: true, KeyType: kt})
			if err != nil {
				return err
			}
			l.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			l.About = "LESSON ONLY: a sound certificate with a " + kt + " key, to compare what each key type costs in a handshake (mqtts uses ECDSA P-256)"
			if err := a.broker.Add(l); err != nil {
				return err
			}
			continue
		}
		if name == RogueRelay {
			// A convincing fake: the right names, from a CA nobody trusts.
			sc, err := a.ca.Scenario(pki.ScenarioUnknownCA, a.names)
			if err != nil {
				return err
			}
			chain := sc.Chain
			l.TLS = &tls.Config{Certificates: []tls.Certificate{chain}, MinVersion: tls.VersionTLS12}
			l.RelayTo = "mqtts"
			l.RelayTLS = &tls.Config{RootCAs: a.ca.Pool(), ServerName: "localhost"}
			l.About = "LESSON ONLY, a man in the middle: presents a fake certificate for the broker's names, then relays to mqtts and shows what it read. A verifying client refuses it; one that skips verification hands over everything."
		} else {
			sc, err := a.ca.Scenario(name, a.names)
			if err != nil {
				return err
			}
			scenario := name
			l.TLS = &tls.Config{
				// Scenario certificates are remade from time to time (not-yet-valid must stay ahead of the clock).
				GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
					s, err := a.ca.Scenario(scenario, a.names)
					if err != nil {
						return nil, err
					}
					return &s.Chain, nil
				},
				MinVersion: tls.VersionTLS12,
				MaxVersion: sc.MaxVersion,
			}
			l.About = "LESSON ONLY, deliberately broken: " + sc.About
		}
		if err := a.broker.Add(l); err != nil {
			return err
		}
	}
	return nil
}
