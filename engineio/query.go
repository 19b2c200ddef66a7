package engineio

import (
	"net/url"
	"strings"
)

// requestParams are the query parameters the server reads on every request.
// Each holds the last value of its key, as lastValue(r.URL.Query(), key)
// would give it.
type requestParams struct {
	transport string
	sid       string
	eio       string
}

// maxScannedParams bounds the queries scanned in place: longer ones go
// through url.ParseQuery, which alone knows its limit on the number of
// parameters (GODEBUG urlmaxqueryparams).
const maxScannedParams = 32

// scanQueryOK is false when url.ParseQuery refuses a query of
// maxScannedParams parameters (a GODEBUG urlmaxqueryparams below that): then
// every query goes through url.ParseQuery.
var scanQueryOK = func() bool {
	_, err := url.ParseQuery(strings.Repeat("a=1&", maxScannedParams-1) + "a=1")
	return err == nil
}()

// parseRequestParams reads transport, sid and EIO from a raw query without
// building a url.Values (a map and a slice per key on every polling
// request). It follows url.ParseQuery exactly: pairs split on '&', a pair
// holding ';' or failing to unescape is skipped, and the last value of a
// repeated key wins (Node's Object.fromEntries). url.QueryUnescape returns
// its argument without allocating when there is nothing to unescape.
func parseRequestParams(raw string) requestParams {
	var p requestParams
	if !scanQueryOK || strings.Count(raw, "&") >= maxScannedParams {
		q, _ := url.ParseQuery(raw)
		p.transport = lastValue(q, "transport")
		p.sid = lastValue(q, "sid")
		p.eio = lastValue(q, "EIO")
		return p
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		var dst *string
		switch k {
		case "transport":
			dst = &p.transport
		case "sid":
			dst = &p.sid
		case "EIO":
			dst = &p.eio
		default:
			continue
		}
		if v, err = url.QueryUnescape(v); err == nil {
			*dst = v
		}
	}
	return p
}
