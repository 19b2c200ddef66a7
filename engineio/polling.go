package engineio

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
)

var (
	errPollOverlap   = errors.New("engineio: overlapping poll requests")
	errPostOverlap   = errors.New("engineio: overlapping data requests")
	errPollAborted   = errors.New("engineio: poll connection closed prematurely")
	errPostAborted   = errors.New("engineio: data request connection closed prematurely")
	errBinaryContent = errors.New("engineio: application/octet-stream body refused on v4")
)

// probeGrace is how long a GET that arrives during an upgrade, once the
// probe is answered, waits for the client's upgrade packet (servePoll). Node
// answers such a GET with a noop within 100 ms (its upgrade check interval).
const probeGrace = 100 * time.Millisecond

// servePoll answers a long-polling GET: it waits until there is something to
// send, then writes every queued packet in one payload.
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.getActive {
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		s.closeWith(ReasonTransportError, errPollOverlap)
		return
	}
	s.getActive = true
	var (
		batch     []outMsg
		tail      byte // a packet type appended after the batch, or 0
		finishing bool // the session closes after this response
		// A GET that arrives once the probe is answered may have overtaken
		// the client's upgrade packet, sent on the WebSocket just before
		// it (two connections, read by two goroutines): it waits for that
		// packet a little (probeGrace), and if it comes, is answered as a
		// GET after the upgrade is, with 400. The official clients send
		// no GET in that state (they pause polling once the probe is
		// answered), so the wait only orders a request that raced.
		overtaking = s.probed
		graceOver  bool
	)
	for {
		if s.state == stateClosed {
			tail = s.closeByte
			break
		}
		if s.transport != TransportPolling {
			if overtaking {
				s.getActive = false
				s.mu.Unlock()
				s.srv.refuse(w, r, false, CodeBadRequest, "")
				return
			}
			tail = '6' // upgraded meanwhile: end this poll cleanly
			break
		}
		if len(s.queue) > 0 || s.state == stateClosing {
			batch = s.takeQueueLocked()
			// As Node does, the close packet waits for the next poll when
			// packets are queued: a client handles a payload's close before
			// the packets decoded with it (socket.io-client would see
			// "transport close" instead of a DISCONNECT sent just before).
			if s.state == stateClosing && len(batch) == 0 {
				tail = '1'
				finishing = true
			}
			break
		}
		var grace <-chan time.Time
		if s.probed {
			if !overtaking || graceOver {
				tail = '6' // upgrade under way: release the poll at once
				break
			}
			graceOver = true
			t := time.NewTimer(probeGrace)
			defer t.Stop()
			grace = t.C
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-grace:
		case <-r.Context().Done():
			s.mu.Lock()
			s.getActive = false
			s.mu.Unlock()
			s.closeWith(ReasonTransportError, errPollAborted)
			return
		}
		s.mu.Lock()
	}
	s.pollW = w
	s.mu.Unlock()

	size := 0
	for i := range batch {
		size += pollLen(&batch[i]) + 1
	}
	if tail != 0 {
		size++
	}
	pb := getBuf(size)
	buf := pb.b
	for i := range batch {
		if i > 0 {
			buf = append(buf, eiocodec.Separator)
		}
		buf = appendPoll(buf, &batch[i])
	}
	if tail != 0 {
		if len(batch) > 0 {
			buf = append(buf, eiocodec.Separator)
		}
		buf = append(buf, tail)
	}
	pb.b = buf
	// As Node: compressed unless every message asked not to be.
	compress := len(batch) == 0
	for i := range batch {
		compress = compress || batch[i].compressible()
	}
	clear(batch)
	writePollResponse(w, r, buf, s.srv, compress)
	putBuf(pb)

	s.mu.Lock()
	s.pollW = nil
	s.getActive = false
	s.mu.Unlock()
	if finishing {
		s.closeWith(ReasonForcedClose, nil)
	}
}

func pollLen(m *outMsg) int {
	if m.prepared != nil {
		return eiocodec.TextLen(m.prepared.msg.Data, m.prepared.msg.Binary)
	}
	return eiocodec.TextLen(m.data, m.binary)
}

func appendPoll(dst []byte, m *outMsg) []byte {
	if m.prepared != nil {
		return eiocodec.AppendText(dst, eiocodec.Message, m.prepared.msg.Data, m.prepared.msg.Binary)
	}
	return eiocodec.AppendText(dst, m.typ, m.data, m.binary)
}

// servePost reads a polling payload and handles its packets in order.
func (s *Session) servePost(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); strings.EqualFold(strings.TrimSpace(ct), "application/octet-stream") {
		w.WriteHeader(http.StatusBadRequest)
		s.closeWith(ReasonTransportError, errBinaryContent)
		return
	}
	s.mu.Lock()
	if s.postActive {
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		s.closeWith(ReasonTransportError, errPostOverlap)
		return
	}
	s.postActive = true
	s.postW = w
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.postW = nil
		s.mu.Unlock()
	}()

	max := s.srv.opts.MaxHTTPBufferSize
	if r.ContentLength > max {
		// Refused before reading: a huge body is never read whole.
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	body, err := readBody(r.Body, r.ContentLength, max)
	if err == errTooLarge {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		s.closeWith(ReasonTransportError, errPostAborted)
		return
	}
	s.mu.Lock()
	s.postW = nil // read: nothing left to cut
	s.mu.Unlock()
	// Read to its end: closed now, the body spares net/http a pass to
	// discard what is left of it (io.CopyN) when the response goes out.
	_ = r.Body.Close()
	var parseErr error
	err = eiocodec.DecodePayload(body, func(p eiocodec.Packet) error {
		if !s.handlePacket(p) {
			return errStop
		}
		return nil
	})
	if err == eiocodec.ErrInvalidPacket {
		parseErr = err
	}
	if parseErr != nil {
		w.WriteHeader(http.StatusBadRequest)
		s.closeWith(ReasonParseError, parseErr)
		return
	}
	h := w.Header()
	h["Content-Type"] = hdrTextHTML
	h["Cache-Control"] = hdrNoStore
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok") // Content-Length: 2 (autoLengthMax)
}

var (
	errStop      = errors.New("stop")
	errTooLarge  = errors.New("engineio: body too large")
	bufPool      sync.Pool
	gzipPool     sync.Pool
	deflatePool  sync.Pool
	maxPooledBuf = 64 << 10
	// maxBodyPrealloc is the largest announced body length read into a
	// buffer allocated at that size from the start.
	maxBodyPrealloc int64 = 32 << 10
)

// readBody reads at most max bytes; a longer body is errTooLarge. hint is
// the announced length (-1 if unknown): the body is read into one buffer of
// that size (plus one byte to see the end), so a payload costs a single
// allocation. The hint is only a size, not trusted to be the length; beyond
// maxBodyPrealloc the buffer grows as bytes arrive, so that a client cannot
// have memory reserved by announcing a large body it never sends.
func readBody(r io.Reader, hint, max int64) ([]byte, error) {
	size := int64(512)
	if hint >= 0 && hint < maxBodyPrealloc {
		size = hint + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if int64(len(buf)+n) > max {
			return nil, errTooLarge
		}
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// pooledBuf is a payload buffer kept in bufPool. The pool holds pointers,
// which the buffer carries along, so that putting one back allocates nothing.
type pooledBuf struct{ b []byte }

func getBuf(size int) *pooledBuf {
	if v, ok := bufPool.Get().(*pooledBuf); ok {
		if cap(v.b) >= size {
			v.b = v.b[:0]
			return v
		}
		bufPool.Put(v)
	}
	return &pooledBuf{b: make([]byte, 0, size)}
}

func putBuf(v *pooledBuf) {
	if cap(v.b) <= maxPooledBuf {
		v.b = v.b[:0]
		bufPool.Put(v)
	}
}

// cutHTTP ends the I/O of a polling request whose session closed under it:
// a GET blocked writing its response to a client that does not read, a
// POST blocked reading a body that does not come. The deadlines make the
// blocked call return an error, and net/http closes the connection. Behind
// a writer without deadlines (the Listener's loop, which has its own limit;
// middleware that hides them), nothing happens.
func cutHTTP(ws ...http.ResponseWriter) {
	past := time.Unix(1, 0)
	for _, w := range ws {
		if w != nil {
			rc := http.NewResponseController(w)
			_ = rc.SetWriteDeadline(past)
			_ = rc.SetReadDeadline(past)
		}
	}
}

// writePollResponse writes a polling payload, compressed when it is large
// enough and the client accepts gzip or deflate.
func writePollResponse(w http.ResponseWriter, r *http.Request, payload []byte, srv *Server, compressible bool) {
	h := w.Header()
	h["Content-Type"] = hdrTextPlain
	h["Cache-Control"] = hdrNoStore
	if compressible && !srv.opts.DisableHTTPCompression && len(payload) >= srv.opts.HTTPCompressionThreshold {
		if enc := acceptedEncoding(r.Header.Get("Accept-Encoding")); enc != "" {
			h.Set("Content-Encoding", enc)
			h.Del("Content-Length")
			w.WriteHeader(http.StatusOK)
			compress(w, enc, payload)
			return
		}
	}
	if len(payload) > autoLengthMax {
		h.Set("Content-Length", strconv.Itoa(len(payload)))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(payload)
}

// The values of the headers every polling response carries, in canonical
// form and shared by all responses: assigned to the header map directly,
// they cost no canonicalization and no slice per response. Each has length
// and capacity 1, so that appending to one (a wrapping ResponseWriter adding
// a value) copies it instead of writing into the shared array.
var (
	hdrTextPlain = []string{"text/plain; charset=UTF-8"}
	hdrTextHTML  = []string{"text/html"}
	hdrNoStore   = []string{"no-store"}
)

// autoLengthMax is the largest response body left for net/http to give a
// Content-Length: a body written in one piece that fits its response buffer
// (2 kB) gets one when the handler returns, formatted into a buffer of the
// connection, where setting the header would cost a string, a slice and a
// map entry to copy, sort and write out on every response. A larger body
// gets its Content-Length here, as Node sends one on every response.
const autoLengthMax = 1024

func compress(w io.Writer, enc string, payload []byte) {
	if enc == "gzip" {
		zw, _ := gzipPool.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(w)
		} else {
			zw.Reset(w)
		}
		_, _ = zw.Write(payload)
		_ = zw.Close()
		gzipPool.Put(zw)
		return
	}
	// HTTP's "deflate" is the zlib format, as Node's createDeflate writes it.
	zw, _ := deflatePool.Get().(*zlib.Writer)
	if zw == nil {
		zw = zlib.NewWriter(w)
	} else {
		zw.Reset(w)
	}
	_, _ = zw.Write(payload)
	_ = zw.Close()
	deflatePool.Put(zw)
}

// acceptedEncoding picks gzip or deflate from an Accept-Encoding header: the
// highest quality wins, gzip on a tie, as the Node accepts package does.
func acceptedEncoding(header string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q <= 0 {
			continue
		}
		switch name {
		case "gzip", "deflate":
		case "*":
			name = "gzip"
		default:
			continue
		}
		if q > bestQ || (q == bestQ && name == "gzip" && best != "gzip") {
			best, bestQ = name, q
		}
	}
	return best
}
