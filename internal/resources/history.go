package resources

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/wcpd/wcpd/internal/store"
)

// The stats history, rolled up as vCenter rolls up its performance data: every sample is kept
// in memory for a short while (the realtime level), and averaged into 5-minute points kept a
// day, 30-minute points kept a week, 2-hour points kept a month and daily points kept a year.
//
// Rolled-up points are kept in the store, not in memory: the only memory a series holds is its
// realtime samples and, per level, the sum of the samples of the point being averaged. At 10,000
// namespaces that is a few MB, where a year of points would be hundreds.
//
// Store layout: stats/<level>/<chunk start>/<shard> holds the points of one level from one
// stretch of time (the chunk) for the series of one shard (series are spread over statsShards by
// a hash of their key), as JSON. A closed point is added to its chunk by a read-modify-write;
// there is one writer (the sampler). Chunks older than their level keeps are deleted by range.
// What is lost at a restart: the realtime samples, and the samples of points still being
// averaged (the point is then the average of the samples taken after the restart).

// level is one rollup level.
type level struct {
	name  string
	step  int64 // seconds between points
	keep  int64 // seconds a point is kept
	chunk int64 // seconds of points kept under one key; a multiple of step
}

// levels are vCenter's historical intervals, finest first.
var levels = [levelCount]level{
	{name: "5m", step: 5 * 60, keep: 24 * 3600, chunk: 2 * 3600},
	{name: "30m", step: 30 * 60, keep: 7 * 24 * 3600, chunk: 12 * 3600},
	{name: "2h", step: 2 * 3600, keep: 30 * 24 * 3600, chunk: 2 * 24 * 3600},
	{name: "1d", step: 24 * 3600, keep: 365 * 24 * 3600, chunk: 24 * 24 * 3600},
}

const (
	levelCount = 4
	// RealtimeWindow is how long every sample is kept, in memory only.
	RealtimeWindow = 10 * time.Minute
	// statsShards spreads the series over this many keys per chunk, keeping each key's value
	// well under etcd's request limit at 10,000 namespaces.
	statsShards = 64
	statsPrefix = "stats/"
)

// bucket is the point of one level being averaged: the sum of its samples per counter.
type bucket struct {
	start int64
	count int64
	sums  []int64
}

// average is the bucket's point.
func (b *bucket) average() []int64 {
	out := make([]int64, len(b.sums))
	for i, s := range b.sums {
		out[i] = s / b.count
	}
	return out
}

// storedSeries is one series' points in a chunk.
type storedSeries struct {
	Stamps []int64   `json:"t"`
	Values [][]int64 `json:"v"` // per counter
}

// chunk is what one store key holds: series key → points.
type chunk map[string]*storedSeries

// closedPoint is a point whose bucket has closed, waiting to be written.
type closedPoint struct {
	level  int
	key    seriesKey
	at     int64
	values []int64
}

// String encodes the key for the store ("NAMESPACE|ns-a|", "POD|ns-a|web-0").
func (k seriesKey) String() string { return string(k.objType) + "|" + k.name + "|" + k.pod }

func (k seriesKey) shard() int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(k.String()))
	return int(h.Sum32() % statsShards)
}

func chunkKey(l int, start int64, shard int) string {
	return fmt.Sprintf("%s%s/%012d/%02d", statsPrefix, levels[l].name, start, shard)
}

// rollUp adds a sample to the series' open buckets; buckets it closes become closed points.
// The caller holds mu.
func (s *series) rollUp(key seriesKey, at int64, values []int64, closed []closedPoint) []closedPoint {
	for l, lv := range levels {
		b := &s.open[l]
		start := at - at%lv.step
		if b.count > 0 && b.start != start {
			closed = append(closed, closedPoint{level: l, key: key, at: b.start, values: b.average()})
			b.count = 0
		}
		if b.count == 0 {
			b.start = start
			clear(b.sums)
		}
		for i, v := range values {
			b.sums[i] += v
		}
		b.count++
	}
	return closed
}

// writePoints adds closed points to their chunks in the store, then deletes the chunks every
// level has outlived as of now.
func (f *Family) writePoints(ctx context.Context, points []closedPoint, now int64) error {
	st := f.deps.Store
	if st == nil || len(points) == 0 {
		return nil
	}
	type target struct {
		level int
		start int64
		shard int
	}
	groups := map[target][]closedPoint{}
	for _, p := range points {
		lv := levels[p.level]
		t := target{p.level, p.at - p.at%lv.chunk, p.key.shard()}
		groups[t] = append(groups[t], p)
	}
	var puts []store.KeyValue
	for t, ps := range groups {
		key := chunkKey(t.level, t.start, t.shard)
		c, err := readChunk(ctx, st, key)
		if err != nil {
			return err
		}
		for _, p := range ps {
			name := p.key.String()
			s := c[name]
			if s == nil {
				s = &storedSeries{Values: make([][]int64, len(p.values))}
				c[name] = s
			}
			if n := len(s.Stamps); n > 0 && s.Stamps[n-1] >= p.at {
				continue // written before a restart
			}
			s.Stamps = append(s.Stamps, p.at)
			for i, v := range p.values {
				s.Values[i] = append(s.Values[i], v)
			}
		}
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		puts = append(puts, store.KeyValue{Key: key, Value: data})
	}
	if err := st.Apply(ctx, puts, nil); err != nil {
		return err
	}
	for l, lv := range levels {
		horizon := now - lv.keep
		oldest := horizon - horizon%lv.chunk - lv.chunk // chunks starting before this end before the horizon
		if oldest > 0 {
			if err := st.DeleteRange(ctx, chunkKey(l, 0, 0), chunkKey(l, oldest, 0)); err != nil {
				return err
			}
		}
	}
	return nil
}

func readChunk(ctx context.Context, st *store.Store, key string) (chunk, error) {
	kvs, err := st.ReadPrefix(ctx, key)
	if err != nil {
		return nil, err
	}
	c := chunk{}
	for _, kv := range kvs {
		if kv.Key == key {
			if err := json.Unmarshal(kv.Value, &c); err != nil {
				return nil, fmt.Errorf("stats chunk %s: %w", key, err)
			}
		}
	}
	return c, nil
}

// levelFor is the level a query starting at start reads: the finest that still keeps it, or -1
// for the realtime samples.
func levelFor(start, now int64) int {
	if start >= now-int64(RealtimeWindow/time.Second) {
		return -1
	}
	for l, lv := range levels {
		if start >= now-lv.keep {
			return l
		}
	}
	return len(levels) - 1
}

// storedPoints returns key's points of level l between start and end, both included.
func (f *Family) storedPoints(ctx context.Context, l int, key seriesKey, start, end int64) (*storedSeries, error) {
	out := &storedSeries{Values: make([][]int64, len(counters[key.objType]))}
	st := f.deps.Store
	if st == nil {
		return out, nil
	}
	lv := levels[l]
	name := key.String()
	for cs := start - start%lv.chunk; cs <= end; cs += lv.chunk {
		c, err := readChunk(ctx, st, chunkKey(l, cs, key.shard()))
		if err != nil {
			return nil, err
		}
		s := c[name]
		if s == nil {
			continue
		}
		for i, at := range s.Stamps {
			if at < start || at > end {
				continue
			}
			out.Stamps = append(out.Stamps, at)
			for j := range out.Values {
				if j < len(s.Values) && i < len(s.Values[j]) {
					out.Values[j] = append(out.Values[j], s.Values[j][i])
				}
			}
		}
	}
	return out, nil
}
