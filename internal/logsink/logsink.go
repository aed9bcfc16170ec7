// Package logsink owns how wcpd's log lines are made and reach their destination: a writer that
// hands each line to one goroutine, which writes whatever has gathered since its last write in one
// call, and a handler (slog's text or JSON one) that formats the line every API request writes
// directly instead of through slog's generic path (requestline.go). A request then never waits on
// the terminal or the disk for its log line, and a loaded server writes many lines per system call
// instead of one each (issue 16: the per-request line cost about a tenth of a small read's time).
//
// Lines are never dropped: past maxPending bytes waiting, Write waits for the writer to catch up.
// The goroutine writes as soon as something is pending, so at low load every line is out within
// microseconds. Under load, when lines kept arriving while it wrote, it lets the next batch gather
// for a millisecond first: a server answering tens of thousands of requests a second then writes
// about a thousand times a second instead of every few lines. Close writes what is left before it
// returns.
package logsink

import (
	"io"
	"sync"
	"time"
)

// gatherFor is how long the goroutine lets lines gather before the next write when lines arrived
// while it wrote the last batch.
const gatherFor = time.Millisecond

// maxPending bounds the bytes waiting to be written; a writer that falls this far behind slows its
// callers rather than grow memory without end.
const maxPending = 4 << 20

// Writer is an io.Writer that writes to its destination asynchronously (see the package comment).
type Writer struct {
	dst io.Writer

	mu      sync.Mutex
	pending []byte
	spare   []byte     // the buffer last written, reused for the next batch
	wake    *sync.Cond // signalled when lines arrive or the writer is closed
	drained *sync.Cond // signalled when a batch has been written
	closed  bool
	done    chan struct{}
}

// New starts a Writer to dst. Close it to write what is pending and stop its goroutine.
func New(dst io.Writer) *Writer {
	w := &Writer{dst: dst, done: make(chan struct{})}
	w.wake = sync.NewCond(&w.mu)
	w.drained = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// Write copies p to be written; it returns at once unless maxPending bytes are already waiting.
// After Close it writes p itself, synchronously, so late lines are not lost.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.pending) > maxPending && !w.closed {
		w.drained.Wait()
	}
	// Checked after the wait too: a Close while it waited may have let the goroutine finish.
	if w.closed {
		w.mu.Unlock()
		return w.dst.Write(p)
	}
	w.pending = append(w.pending, p...)
	w.mu.Unlock()
	w.wake.Signal()
	return len(p), nil
}

func (w *Writer) run() {
	defer close(w.done)
	w.mu.Lock()
	busy := false // lines arrived while the last batch was written
	for {
		for len(w.pending) == 0 && !w.closed {
			busy = false
			w.wake.Wait()
		}
		if len(w.pending) == 0 && w.closed {
			w.mu.Unlock()
			return
		}
		if busy && !w.closed && len(w.pending) < maxPending/2 {
			w.mu.Unlock()
			time.Sleep(gatherFor) // a pause of the writer, not a wait for state: lines gather meanwhile
			w.mu.Lock()
		}
		batch := w.pending
		w.pending = w.spare[:0]
		w.mu.Unlock()
		_, _ = w.dst.Write(batch) // a log destination that fails has nowhere to report it
		w.mu.Lock()
		w.spare = batch
		w.drained.Broadcast()
		busy = len(w.pending) > 0
	}
}

// Close writes what is pending and stops the goroutine; later writes go straight to the
// destination.
func (w *Writer) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wake.Signal()
	<-w.done
	return nil
}
