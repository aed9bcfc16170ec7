package resources

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
)

// BenchmarkStatsHistory10000Namespaces feeds the history an hour of per-minute samples for
// 10,000 namespaces. "memory" reports what the history holds afterwards (the realtime samples
// and the points being averaged; the rolled-up points are in the store); "write" reports how
// long writing one 5-minute point per namespace to the embedded store takes (the embedded etcd
// lives in the same process, so its memory is kept out of the first figure).
func BenchmarkStatsHistory10000Namespaces(b *testing.B) {
	const namespaces = 10000
	keys := make([]seriesKey, namespaces)
	for i := range keys {
		keys[i] = seriesKey{ObjNamespace, fmt.Sprintf("namespace-%05d", i), ""}
	}
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC).Unix()
	// feed records an hour of samples and hands each minute's closed points to write.
	feed := func(f *Family, write func(closed []closedPoint, at int64)) {
		values := make([]int64, len(counters[ObjNamespace]))
		for minute := range int64(60) {
			at := start + minute*60
			f.mu.Lock()
			for i, k := range keys {
				for j := range values {
					values[j] = int64(i+j) + minute
				}
				f.record(k, at, values...)
			}
			closed := f.closed
			f.closed = nil
			f.mu.Unlock()
			write(closed, at)
		}
	}
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
			f := New(&platform.Deps{})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			feed(f, func([]closedPoint, int64) {})
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-held")
			runtime.KeepAlive(f)
		}
	})
	b.Run("write", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			st, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			f := New(&platform.Deps{Store: st})
			var written time.Duration
			writes := 0
			feed(f, func(closed []closedPoint, at int64) {
				if len(closed) == 0 {
					return
				}
				t := time.Now()
				if err := f.writePoints(ctx, closed, at); err != nil {
					b.Fatal(err)
				}
				written += time.Since(t)
				writes++
			})
			b.ReportMetric(written.Seconds()/float64(writes), "s/write")
			_ = st.Close()
		}
	})
}
