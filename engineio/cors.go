package engineio

import (
	"net/http"
	"strconv"
	"strings"
)

var defaultCORSMethods = "GET,HEAD,PUT,PATCH,POST,DELETE"

// applyCORS sets the CORS headers of a polling request, as the Node cors
// package does with engine.io's options. It reports true when it answered a
// preflight request, which then needs nothing more.
func (s *Server) applyCORS(w http.ResponseWriter, r *http.Request) bool {
	c := s.opts.CORS
	h := w.Header()
	origin := r.Header.Get("Origin")
	wildcard := false
	allowed := false
	for _, o := range c.Origins {
		if o == "*" {
			wildcard = true
		} else if origin != "" && o == origin {
			allowed = true
		}
	}
	if !allowed && !wildcard && origin != "" && c.AllowOrigin != nil {
		allowed = c.AllowOrigin(origin)
	}
	switch {
	case wildcard && !allowed:
		h.Set("Access-Control-Allow-Origin", "*")
	case allowed:
		// Only an allowed origin is echoed, never "*" with credentials.
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	default:
		h.Add("Vary", "Origin")
	}
	if c.Credentials && allowed {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposedHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposedHeaders, ","))
	}
	if r.Method != http.MethodOptions {
		return false
	}
	methods := defaultCORSMethods
	if len(c.Methods) > 0 {
		methods = strings.Join(c.Methods, ",")
	}
	h.Set("Access-Control-Allow-Methods", methods)
	if len(c.AllowedHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowedHeaders, ","))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}
