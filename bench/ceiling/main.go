// Command ceiling is the bare Go HTTPS server of the benchmark, the most this machine allows for a
// response: it replays recorded answers, each (method, path with query) getting the status, headers
// and body recorded for it, byte for byte. Any other request is answered 404.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	cert := flag.String("cert", "", "certificate file")
	key := flag.String("key", "", "key file")
	answersFile := flag.String("answers", "", "JSON file of recorded answers to replay: [{method, path, status, header, body}] (required)")
	flag.Parse()
	if *answersFile == "" {
		fmt.Fprintln(os.Stderr, "ceiling: -answers names no file; the ceiling replays recorded answers only")
		os.Exit(2)
	}
	answers, err := loadAnswers(*answersFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}},
		Handler:   replay(answers),
	}
	fmt.Println("https://" + ln.Addr().String())
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
}

// replay answers a recorded request with its answer, and any other with 404.
func replay(answers map[string]answer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := answers[r.Method+" "+r.URL.RequestURI()]
		if !ok {
			http.Error(w, "ceiling: no answer was recorded for "+r.Method+" "+r.URL.RequestURI(), http.StatusNotFound)
			return
		}
		h := w.Header()
		for k, v := range a.Header {
			h[k] = v
		}
		w.WriteHeader(a.Status)
		_, _ = w.Write(a.Body)
	})
}

// answer is one recorded answer to replay.
type answer struct {
	Method string              `json:"method"`
	Path   string              `json:"path"` // with its query, as sent
	Status int                 `json:"status"`
	Header map[string][]string `json:"header"`
	Body   []byte              `json:"body"`
}

// loadAnswers reads the recorded answers by method and path. The length is set from the body, as
// the recorded server sent it, so the answer is not chunked.
func loadAnswers(file string) (map[string]answer, error) {
	byRequest := map[string]answer{}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var list []answer
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for i, a := range list {
		if a.Method == "" || !strings.HasPrefix(a.Path, "/") || a.Status < 100 || a.Status > 599 {
			return nil, fmt.Errorf("%s: answer %d: method %q, path %q, status %d: want a method, a path from / and a status", file, i, a.Method, a.Path, a.Status)
		}
		h := http.Header{}
		for k, v := range a.Header {
			h[http.CanonicalHeaderKey(k)] = v
		}
		h.Del("Date") // the server writes its own
		h.Set("Content-Length", strconv.Itoa(len(a.Body)))
		a.Header = h
		byRequest[a.Method+" "+a.Path] = a
	}
	return byRequest, nil
}
