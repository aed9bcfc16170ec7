package logsink

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wcpd/wcpd/internal/syncbuf"
)

// TestEveryLineArrivesWholeAndInOrder: lines written from many goroutines all reach the
// destination by Close, each whole, each goroutine's in the order it wrote them.
func TestEveryLineArrivesWholeAndInOrder(t *testing.T) {
	dst := &syncbuf.Buffer{}
	w := New(dst)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(w, "writer=%d line=%d %s\n", g, i, strings.Repeat("x", i%50))
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(dst.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines arrived, want %d", len(got), writers*lines)
	}
	for _, line := range got {
		var g, i int
		var pad string
		if _, err := fmt.Sscanf(line, "writer=%d line=%d %s", &g, &i, &pad); err != nil && i%50 != 0 {
			t.Fatalf("line %q is not whole: %v", line, err)
		}
		if i != next[g] || len(pad) != i%50 {
			t.Fatalf("writer %d: line %q out of order or cut (want line %d)", g, line, next[g])
		}
		next[g]++
	}
	fmt.Fprintf(w, "after close\n") // late lines still arrive
	if !strings.HasSuffix(dst.String(), "after close\n") {
		t.Fatal("a line written after Close was lost")
	}
}
