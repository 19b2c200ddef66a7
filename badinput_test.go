package socketio_test

import (
	"strings"
	"testing"
)

// Each bad input must close the offending connection (the protocol's answer)
// without a panic, while a healthy client on the same server carries on.
func TestBadInput(t *testing.T) {
	long := strings.Repeat("9", 400)
	cases := []struct {
		name    string
		connect bool     // join "/" first
		packets []string // engine.io packets, POSTed together
		closes  bool
	}{
		{"second CONNECT for the same namespace", true, []string{"40"}, true},
		{"event before CONNECT", false, []string{`42["hello"]`}, true},
		{"unknown packet type", true, []string{"4abc"}, true},
		{"unknown packet type 9", true, []string{"49"}, true},
		{"object event name", true, []string{`42[{"toString":"foo"}]`}, true},
		{"unterminated payload", true, []string{`442["some","data"`}, true},
		{"event payload is an object", true, []string{`42{}`}, true},
		{"empty event array", true, []string{`42[]`}, true},
		{"null event name", true, []string{`42[null]`}, true},
		{"reserved name connect", true, []string{`42["connect"]`}, true},
		{"reserved name disconnect", true, []string{`42["disconnect"]`}, true},
		{"reserved name disconnecting", true, []string{`42["disconnecting"]`}, true},
		{"reserved name newListener", true, []string{`42["newListener"]`}, true},
		{"invalid ack id", true, []string{`42abc["x"]`}, true},
		{"absurd ack id", true, []string{`42` + long + `["x"]`}, true},
		{"ack payload not an array", true, []string{`431{}`}, true},
		{"placeholder num splice", true, []string{`451-["x",{"_placeholder":true,"num":"splice"}]`, "bAQID"}, true},
		{"placeholder num negative", true, []string{`451-["x",{"_placeholder":true,"num":-1}]`, "bAQID"}, true},
		{"placeholder num fractional", true, []string{`451-["x",{"_placeholder":true,"num":0.5}]`, "bAQID"}, true},
		{"placeholder num out of range", true, []string{`451-["x",{"_placeholder":true,"num":1}]`, "bAQID"}, true},
		{"placeholder num as string", true, []string{`451-["x",{"_placeholder":true,"num":"0"}]`, "bAQID"}, true},
		{"too many attachments", true, []string{`4511-["x"]`}, true},
		{"binary without a binary packet", true, []string{"bAQID"}, true},
		{"CONNECT_ERROR from the client", true, []string{`44{"message":"x"}`}, true},
		{"CONNECT payload not an object", false, []string{`40"x"`}, true},
		{"DISCONNECT with a payload", true, []string{`41["x"]`}, true},
		{"packet for a namespace not joined", true, []string{`42/other,["x"]`}, true},
		{"event without listener", true, []string{`42["nobody-listens",1]`}, false},
		{"error event without listener", true, []string{`42["error","x"]`}, false},
		{"numeric event name", true, []string{`42[1,"x"]`}, false},
	}
	_, url := echoServer(t, nil)
	healthy := newPollClient(t, url)
	healthy.connect("/", "")
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newPollClient(t, url)
			if tc.connect {
				c.connect("/", "")
			}
			c.post(tc.packets...)
			if tc.closes {
				if !c.closed() {
					t.Fatal("connection not closed")
				}
			} else {
				c.post(`42["echo","alive"]`)
				if got := c.next(); got != `42["echo-back","alive"]` {
					t.Fatalf("client should stay connected, got %q", got)
				}
			}
			healthy.post(`42["echo",` + itoa(i) + `]`)
			if got := healthy.next(); got != `42["echo-back",`+itoa(i)+`]` {
				t.Fatalf("healthy client got %q", got)
			}
		})
	}
}
