package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// benchRecord is shaped like a namespace: a dozen scalars, a few short
// lists and a label map, about 700 bytes of JSON.
type benchRecord struct {
	Name        string            `json:"namespace"`
	Cluster     string            `json:"cluster"`
	Description string            `json:"description"`
	Status      string            `json:"config_status"`
	CPUUsed     int64             `json:"cpu_used"`
	MemoryUsed  int64             `json:"memory_used"`
	StorageUsed int64             `json:"storage_used"`
	Storage     []benchStorage    `json:"storage_specs"`
	Access      []benchAccess     `json:"access_list"`
	VMClasses   []string          `json:"vm_classes"`
	Labels      map[string]string `json:"labels"`
	Updated     time.Time         `json:"updated"`
}

type benchStorage struct {
	Policy string `json:"policy"`
	Limit  int64  `json:"limit"`
}

type benchAccess struct {
	Role    string `json:"role"`
	Subject string `json:"subject"`
	Domain  string `json:"domain"`
	Type    string `json:"subject_type"`
}

// cacheOnlyCollection fills a collection's cache directly, without etcd, to
// measure the read paths alone.
func cacheOnlyCollection(b *testing.B, n int) *Collection[benchRecord] {
	c := newCollection[benchRecord](&Store{prefix: DefaultPrefix}, "namespaces")
	for i := range n {
		v := benchRecord{
			Name: fmt.Sprintf("ns-%05d", i), Cluster: "domain-c8", Description: "team namespace for the payments service",
			Status: "RUNNING", CPUUsed: 1200, MemoryUsed: 4096, StorageUsed: 20480,
			Storage: []benchStorage{{"aa6d5a82-1c88-45da-85d3-3d74b91a5bad", 0}, {"4d5f673c-536f-11e6-beb8-9e71128cae77", 10240}},
			Access: []benchAccess{
				{"OWNER", "devops", "vsphere.local", "GROUP"},
				{"EDIT", "alice", "vsphere.local", "USER"},
			},
			VMClasses: []string{"best-effort-small", "best-effort-medium", "guaranteed-large"},
			Labels:    map[string]string{"team": "payments", "env": "prod"},
			Updated:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		}
		raw, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		c.putLocked(&entry[benchRecord]{key: v.Name, raw: raw, value: v, rev: int64(i + 1), created: int64(i + 1)})
	}
	return c
}

func BenchmarkList10k(b *testing.B) {
	c := cacheOnlyCollection(b, 10_000)
	for b.Loop() {
		if len(c.List()) != 10_000 {
			b.Fatal("short list")
		}
	}
}

// BenchmarkServeList10k is a list response built from the cached JSON: the
// path that has to fit in 50 ms for 10,000 items.
func BenchmarkServeList10k(b *testing.B) {
	c := cacheOnlyCollection(b, 10_000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		buf.WriteByte('[')
		for i, r := range c.ListRaw() {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(r.JSON)
		}
		buf.WriteByte(']')
	}
	b.ReportMetric(float64(buf.Len())/10_000, "bytes/item")
}

// BenchmarkDecodeEncodeList10k is the same response when the handler
// decodes every record (List) and encodes the result again.
func BenchmarkDecodeEncodeList10k(b *testing.B) {
	c := cacheOnlyCollection(b, 10_000)
	for b.Loop() {
		recs := c.List()
		values := make([]benchRecord, len(recs))
		for i, r := range recs {
			values[i] = r.Value
		}
		if _, err := json.Marshal(values); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListSharedSummaries10k is a handler that reads the shared
// cached values and encodes a summary of each.
func BenchmarkListSharedSummaries10k(b *testing.B) {
	c := cacheOnlyCollection(b, 10_000)
	type summary struct {
		Namespace string `json:"namespace"`
		Cluster   string `json:"cluster"`
		Status    string `json:"config_status"`
	}
	for b.Loop() {
		recs := c.ListShared()
		out := make([]summary, len(recs))
		for i, r := range recs {
			out[i] = summary{r.Value.Name, r.Value.Cluster, r.Value.Status}
		}
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	c := cacheOnlyCollection(b, 10_000)
	for b.Loop() {
		if _, ok := c.Get("ns-05000"); !ok {
			b.Fatal("missing")
		}
	}
}

// BenchmarkOpenFresh and BenchmarkReopen measure Open to ready: a new data
// dir, and a restart on existing data.
func BenchmarkOpenFresh(b *testing.B) {
	for b.Loop() {
		s, err := Open(b.Context(), Config{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

func BenchmarkReopen(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(b.Context(), Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	for b.Loop() {
		s, err := Open(b.Context(), Config{DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

// BenchmarkPut is one durable write (fsync included) plus the wait for the
// cache to show it.
func BenchmarkPut(b *testing.B) {
	s, err := Open(b.Context(), Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := NewCollection[benchRecord](s, "namespaces")
	if err != nil {
		b.Fatal(err)
	}
	v := benchRecord{Name: "ns", Labels: map[string]string{"a": "b"}}
	for b.Loop() {
		if _, err := c.Put(b.Context(), "ns", v); err != nil {
			b.Fatal(err)
		}
	}
}
