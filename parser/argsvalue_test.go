package parser_test

import (
	"bytes"
	"testing"

	"github.com/socketio-go/socketio/parser"
)

func TestArgs(t *testing.T) {
	a, err := parser.NewArgs([]byte(`["ev",1,{"f":{"_placeholder":true,"num":0}},"x"]`), [][]byte{{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 4 {
		t.Fatalf("Len = %d", a.Len())
	}
	rest := a.From(1)
	var n int
	var obj struct{ F []byte }
	var s string
	if err := rest.Bind(&n, &obj, &s); err != nil {
		t.Fatal(err)
	}
	if n != 1 || !bytes.Equal(obj.F, []byte{1, 2}) || s != "x" {
		t.Fatalf("got %d %v %q", n, obj.F, s)
	}
	if err := rest.Decode(3, &s); err == nil {
		t.Fatal("decoding a missing argument must fail")
	}
	if a.From(9).Len() != 0 {
		t.Fatal("From past the end must be empty")
	}
	vals, err := rest.Values()
	if err != nil || len(vals) != 3 {
		t.Fatalf("Values: %v %v", vals, err)
	}
	if m, ok := vals[1].(map[string]any); !ok || !bytes.Equal(m["f"].([]byte), []byte{1, 2}) {
		t.Fatalf("binary value in interface: %#v", vals[1])
	}
	if _, err := parser.NewArgs([]byte(`{"not":"an array"}`), nil); err == nil {
		t.Fatal("an object is not an argument list")
	}
	if empty, err := parser.NewArgs(nil, nil); err != nil || empty.Len() != 0 {
		t.Fatal("no data means no arguments")
	}
}
