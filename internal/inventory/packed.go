package inventory

import (
	"bytes"
	"compress/zlib"
	"io"
	"sync"
)

// The store holds each inventory object's VMOMI JSON deflated (zlib). The JSON repeats its type
// names in every nested value: a namespace's resource pool is 2.7 KB as JSON and 0.6 KB
// deflated, and the pools are most of what etcd holds at size. A smaller database is less to
// write ahead, to snapshot and to read back at start, and fewer of the database file's pages
// end up in wcpd's resident memory: etcd reads a record's current value from that file to
// check every conditional write, and the kernel maps the neighbouring pages with it.
//
// A value that is not zlib (written before objects were deflated) is read as the JSON it is.

// packedObjectLevel trades size for speed: level 1 already gets most of the repetition.
const packedObjectLevel = zlib.BestSpeed

// objectWriters keeps zlib writers for reuse: a writer allocates 1.2 MB of compressor state at
// its first write.
var objectWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, packedObjectLevel) // the level is valid
	return w
}}

// packObject deflates an object's JSON for the store.
func packObject(data []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(data)/3 + 64)
	w := objectWriters.Get().(*zlib.Writer)
	defer objectWriters.Put(w)
	w.Reset(&buf)
	_, _ = w.Write(data) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	return buf.Bytes()
}

// unpackObject is the JSON of a stored object: inflated, or as stored if it was written as JSON.
func unpackObject(stored []byte) ([]byte, error) {
	if !isZlib(stored) {
		return stored, nil
	}
	var r io.ReadCloser
	if pooled, ok := objectReaders.Get().(io.ReadCloser); ok {
		if err := pooled.(zlib.Resetter).Reset(bytes.NewReader(stored), nil); err != nil {
			return nil, err
		}
		r = pooled
	} else {
		var err error
		if r, err = zlib.NewReader(bytes.NewReader(stored)); err != nil {
			return nil, err
		}
	}
	defer objectReaders.Put(r)
	out := bytes.NewBuffer(make([]byte, 0, 4*len(stored)))
	if _, err := io.Copy(out, r); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// objectReaders keeps zlib readers for reuse: a restart inflates every stored object, and a new
// reader allocates 48 KB (its 32 KB window and tables).
var objectReaders sync.Pool

// isZlib reports whether b starts with a zlib header (RFC 1950: deflate, and a check value that
// makes the first two bytes a multiple of 31). JSON starts with a brace, which no header does.
func isZlib(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}
