package parser

import (
	"encoding/json"
	"testing"
)

// Unmarshal's fast path for strings must decode exactly as encoding/json.
func TestUnmarshalStringMatchesJSON(t *testing.T) {
	for _, raw := range []string{
		`""`, `"x"`, `"hello world"`, `"é€😀"`, `"a\"b"`, `"a\\b"`, `"\u00e9"`, `"a/b"`,
		"\"tab\there\"", "\"bad \xff utf8\"", "\"\xed\xa0\x80\"", `null`, `42`, `"unterminated`, `"`, ` "x"`, `["x"]`,
	} {
		var got, want string
		gotErr := Unmarshal(json.RawMessage(raw), nil, &got)
		wantErr := json.Unmarshal([]byte(raw), &want)
		if (gotErr == nil) != (wantErr == nil) || got != want {
			t.Errorf("%q: got %q, %v; encoding/json %q, %v", raw, got, gotErr, want, wantErr)
		}
	}
}
