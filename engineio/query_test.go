package engineio

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
)

// parseRequestParams must read exactly what url.ParseQuery followed by
// lastValue reads.
func checkParams(t *testing.T, raw string) {
	t.Helper()
	q, _ := url.ParseQuery(raw)
	want := requestParams{transport: lastValue(q, "transport"), sid: lastValue(q, "sid"), eio: lastValue(q, "EIO")}
	if got := parseRequestParams(raw); got != want {
		t.Errorf("parseRequestParams(%q) = %+v, url.ParseQuery gives %+v", raw, got, want)
	}
}

var queryCases = []string{
	"",
	"EIO=4&transport=polling",
	"EIO=4&transport=polling&t=PxY1&sid=abc-_DEF",
	"EIO=4&transport=polling&sid=a&sid=b", // the last wins
	"sid=a&sid=%zz",                       // a bad escape skips the pair
	"sid=a&sid",                           // a key alone is an empty value
	"sid=a&sid=",                          // so is an empty value
	"sid=a;b&transport=polling",           // a semicolon drops the pair
	"transport=polling;EIO=4",             // with everything in it
	"%73id=x&%45IO=4",                     // escaped keys
	"s%69d=y%2Bz&transport=web+socket",    // '+' is a space, %2B a plus
	"sid%zz=1&sid=ok",                     // a bad escape in a key
	"&&sid=a&&=b&=&EIO=3",                 // empty pairs and keys
	"EIO=4&EIO=%34",                       // escaped value
	"SID=a&Transport=polling&eio=4",       // keys are case-sensitive
	"sid=a=b=c",                           // '=' in the value
	"transport=polling&sid=%E2%82%AC&t=%", // UTF-8, a lone '%'
	"sid=%00&transport=%0d%0a",            // control characters
	strings.Repeat("x=1&", maxScannedParams) + "sid=many",
	strings.Repeat("x=1&", maxScannedParams-2) + "sid=edge",
	strings.Repeat("&", 20000) + "sid=toomany", // over url's limit on parameters: nothing read
}

func TestParseRequestParamsMatchesParseQuery(t *testing.T) {
	for _, raw := range queryCases {
		checkParams(t, raw)
	}
}

func FuzzParseRequestParams(f *testing.F) {
	for _, raw := range queryCases {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) { checkParams(t, raw) })
}

func TestParseRequestParamsAllocs(t *testing.T) {
	raw := "EIO=4&transport=polling&t=PxY1abc&sid=Zm9vYmFyYmF6cXV4MTIz"
	if n := testing.AllocsPerRun(100, func() { _ = parseRequestParams(raw) }); n != 0 {
		t.Errorf("%v allocations per query", n)
	}
}

func TestReadBody(t *testing.T) {
	body := []byte(strings.Repeat("4hello\x1e", 100))
	for _, tc := range []struct {
		name string
		r    io.Reader
		hint int64
		max  int64
		want []byte
		err  error
	}{
		{"exact hint", bytes.NewReader(body), int64(len(body)), 1e6, body, nil},
		{"unknown length", bytes.NewReader(body), -1, 1e6, body, nil},
		{"byte by byte", iotest.OneByteReader(bytes.NewReader(body)), int64(len(body)), 1e6, body, nil},
		// A body longer than announced (a middleware decoded it) is read whole.
		{"hint too small", bytes.NewReader(body), 10, 1e6, body, nil},
		{"hint too large", bytes.NewReader(body), 1 << 20, 1e6, body, nil},
		{"empty", bytes.NewReader(nil), 0, 1e6, []byte{}, nil},
		{"at the limit", bytes.NewReader(body), -1, int64(len(body)), body, nil},
		{"over the limit", bytes.NewReader(body), -1, int64(len(body)) - 1, nil, errTooLarge},
		{"over the limit, hinted", bytes.NewReader(body), int64(len(body)), int64(len(body)) - 1, nil, errTooLarge},
		{"cut short", iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(body))), -1, 1e6, nil, iotest.ErrTimeout},
	} {
		got, err := readBody(tc.r, tc.hint, tc.max)
		if !errors.Is(err, tc.err) || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %d bytes, %v; want %d bytes, %v", tc.name, len(got), err, len(tc.want), tc.err)
		}
	}
	// An announced length costs one allocation, of that size.
	if n := testing.AllocsPerRun(100, func() { _, _ = readBody(bytes.NewReader(body), int64(len(body)), 1e6) }); n > 2 {
		t.Errorf("%v allocations per body", n)
	}
}
