package client

import (
	"encoding/json"
	"testing"
)

// TestEventName checks the event name's fast path (a string token without
// escapes) against encoding/json on the tokens a peer may send.
func TestEventName(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`"echo"`, "echo"},
		{`""`, ""},
		{`"a\"b"`, `a"b`},
		{`"back\\slash"`, `back\slash`},
		{`"\u00e9t\u00e9"`, "été"},
		{`"été"`, "été"},
		{"\"bad\xff\"", "bad\uFFFD"}, // invalid UTF-8 decodes as encoding/json does
		{`42`, "42"},
		{`-1.5`, "-1.5"},
	} {
		if got := eventName(json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("eventName(%s) = %q, want %q", tc.raw, got, tc.want)
		}
		var viaJSON string
		if json.Unmarshal([]byte(tc.raw), &viaJSON) == nil && viaJSON != tc.want {
			t.Errorf("%s: encoding/json says %q, the table %q", tc.raw, viaJSON, tc.want)
		}
	}
}
