// Command ceiling is the bare Go HTTPS server of the benchmark: it answers every request with a
// fixed JSON body of a chosen size, the most this machine allows for a response of that size.
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	cert := flag.String("cert", "", "certificate file")
	key := flag.String("key", "", "key file")
	flag.Parse()
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var bodies sync.Map // size -> []byte, built once per size
	body := func(size int) []byte {
		if b, ok := bodies.Load(size); ok {
			return b.([]byte)
		}
		// A JSON array holding one string, padded to exactly size bytes.
		var buf bytes.Buffer
		buf.WriteString(`["`)
		buf.WriteString(strings.Repeat("x", max(size-4, 0)))
		buf.WriteString(`"]`)
		b, _ := bodies.LoadOrStore(size, buf.Bytes())
		return b.([]byte)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			size, err := strconv.Atoi(r.URL.Query().Get("size"))
			if err != nil || size < 4 || size > 1<<24 {
				size = 64
			}
			b := body(size)
			w.Header().Set("Content-Type", "application/json")
			// A known length spares the chunked encoding, as wcpd's answers do.
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			_, _ = w.Write(b)
		}),
	}
	fmt.Println("https://" + ln.Addr().String())
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
}
