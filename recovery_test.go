package socketio_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	socketio "github.com/socketio-go/socketio"
)

func TestConnectionStateRecovery(t *testing.T) {
	srv, url := newTestServer(t, &socketio.Options{
		ConnectionStateRecovery: &socketio.RecoveryOptions{MaxDisconnectionDuration: time.Minute},
	})
	socks := make(chan *socketio.Socket, 2)
	srv.OnConnection(func(s *socketio.Socket) {
		if !s.Recovered() {
			s.Join("news")
			s.SetData("alice")
		}
		socks <- s
	})

	a := newPollClient(t, url)
	var hello struct{ SID, PID string }
	reply := a.connect("/", "")
	if err := json.Unmarshal([]byte(reply[2:]), &hello); err != nil || hello.PID == "" {
		t.Fatalf("CONNECT reply %q must carry a pid", reply)
	}
	first := waitFor(t, socks)

	srv.To("news").Emit("headline", 1)
	var args []any
	p := a.next()
	if err := json.Unmarshal([]byte(strings.TrimPrefix(p, "42")), &args); err != nil || len(args) != 3 {
		t.Fatalf("broadcast %q must carry an offset", p)
	}
	offset := args[2].(string)

	a.post("1") // the transport goes away ("transport close" is recoverable)
	deadline := time.Now().Add(3 * time.Second)
	for first.Connected() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	srv.To("news").Emit("headline", 2)
	srv.Emit("all", 3)
	srv.To("sports").Emit("not-for-alice", 4)

	b := newPollClient(t, url)
	b.post(`40{"pid":"` + hello.PID + `","offset":"` + offset + `"}`)
	var got []string
	for {
		p := b.next()
		if strings.HasPrefix(p, "40") {
			var again struct{ SID, PID string }
			json.Unmarshal([]byte(p[2:]), &again)
			if again.SID != hello.SID {
				t.Fatalf("recovered sid %q, want %q", again.SID, hello.SID)
			}
			break
		}
		got = append(got, p)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], `42["headline",2,`) || !strings.HasPrefix(got[1], `42["all",3,`) {
		t.Fatalf("missed packets %q", got)
	}
	s := waitFor(t, socks)
	if !s.Recovered() || s.ID() != first.ID() || s.Data() != "alice" {
		t.Fatalf("recovered=%v id=%s data=%v", s.Recovered(), s.ID(), s.Data())
	}
	rooms := strings.Join(s.Rooms(), ",")
	if !strings.Contains(rooms, "news") {
		t.Fatalf("rooms not restored: %s", rooms)
	}

	// A session is recovered once; an unknown offset gets a fresh socket.
	c := newPollClient(t, url)
	reply = c.connect("/", `{"pid":"`+hello.PID+`","offset":"`+offset+`"}`)
	var fresh struct{ SID string }
	json.Unmarshal([]byte(reply[2:]), &fresh)
	if fresh.SID == hello.SID {
		t.Fatal("a session must not be recovered twice")
	}
}

func TestShutdownReason(t *testing.T) {
	srv2, url := newTestServer(t, nil)
	reasons := make(chan string, 1)
	srv2.OnConnection(func(s *socketio.Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	c := newPollClient(t, url)
	c.connect("/", "")
	done := make(chan error, 1)
	go func() { done <- srv2.Close() }()
	if got := waitFor(t, reasons); got != socketio.ReasonServerShuttingDown {
		t.Fatalf("reason %q", got)
	}
	if err := waitFor(t, done); err != nil {
		t.Fatal(err)
	}
}
