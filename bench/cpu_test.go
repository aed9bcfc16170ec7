package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// statLine is a /proc/<pid>/stat line of 52 fields for comm, with utime and stime in fields 14 and
// 15 and every other number field its own position times 1000, so a parse one field off is seen.
func statLine(comm string, utime, stime int) string {
	fields := []string{"4242", "(" + comm + ")", "S"}
	for n := 4; n <= 52; n++ {
		switch n {
		case 14:
			fields = append(fields, fmt.Sprint(utime))
		case 15:
			fields = append(fields, fmt.Sprint(stime))
		default:
			fields = append(fields, fmt.Sprint(n*1000))
		}
	}
	return strings.Join(fields, " ") + "\n"
}

// The fields are counted from the last ')': a command name may hold spaces and ") " of its own.
func TestStatCPUTicksCountsFieldsFromTheLastParenthesis(t *testing.T) {
	cases := []struct {
		name, stat string
		want       uint64
		fails      bool
	}{
		{"plain name", statLine("wcpd", 150, 25), 175, false},
		{"name with spaces", statLine("wcpd serve x", 7, 3), 10, false},
		{"name with ') ' inside", statLine("a) S 1 2 3 (b", 1200, 34), 1234, false},
		{"name that is ')'", statLine(")", 1, 2), 3, false},
		{"no fields after the name", "4242 (wcpd)\n", 0, true},
		{"too few fields", "4242 (wcpd) S 1 2 3 4 5 6 7 8 9 10 11\n", 0, true},
		{"no closing parenthesis", strings.ReplaceAll(statLine("wcpd", 1, 2), ")", ""), 0, true},
		{"utime not a number", strings.Replace(statLine("wcpd", 1, 2), " 1 2 ", " x 2 ", 1), 0, true},
		{"stime negative", strings.Replace(statLine("wcpd", 1, 2), " 1 2 ", " 1 -2 ", 1), 0, true},
		{"empty", "", 0, true},
	}
	for _, c := range cases {
		got, err := statCPUTicks(c.stat)
		if c.fails {
			if err == nil {
				t.Errorf("%s: %d ticks, want an error", c.name, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %d ticks, %v; want %d", c.name, got, err, c.want)
		}
	}
}

// CPU per request is the CPU time over the requests answered, in µs, and absent without requests.
func TestCPUPerRequestUS(t *testing.T) {
	cases := []struct {
		cpu      time.Duration
		requests int64
		want     float64
		ok       bool
	}{
		{2 * time.Second, 100_000, 20, true},
		{1840 * time.Millisecond, 100_000, 18.4, true},
		{0, 10, 0, true},
		{time.Second, 0, 0, false},
		{time.Second, -1, 0, false},
	}
	for _, c := range cases {
		got, ok := cpuPerRequestUS(c.cpu, c.requests)
		if ok != c.ok || (ok && (got < c.want-1e-9 || got > c.want+1e-9)) {
			t.Errorf("%v over %d requests: %.3f µs, %v; want %.3f, %v", c.cpu, c.requests, got, ok, c.want, c.ok)
		}
	}
}

// The CPU time of a process is read from /proc where there is one, and grows as the process works;
// without a process there is no figure, and no error either.
func TestProcessCPUReadsAProcessThatWorks(t *testing.T) {
	if _, ok := processCPU(0); ok {
		t.Error("pid 0: a CPU time, want none")
	}
	if _, ok := processCPU(1 << 30); ok { // above Linux's largest pid (2^22)
		t.Error("a pid that cannot exist: a CPU time, want none")
	}
	if runtime.GOOS != "linux" {
		t.Skip("no /proc/<pid>/stat off Linux")
	}
	before, ok := processCPU(os.Getpid())
	if !ok {
		t.Fatal("this process's CPU time could not be read")
	}
	// Work until the CPU time moves by more than a few clock ticks (it counts CPU, not the wall
	// clock, so a busy machine only makes this take longer).
	sum := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < 1_000_000; i++ {
			sum += i
		}
		if now, ok := processCPU(os.Getpid()); ok && now-before >= 50*time.Millisecond {
			return
		}
	}
	now, _ := processCPU(os.Getpid())
	t.Errorf("the CPU time moved from %v to %v in 30 s of work (%d)", before, now, sum)
}

// Rounds are merged with their CPU time: the figure is over the requests of the rounds it was read
// in, and absent when it was read in none.
func TestMergeSumsTheCPUOfTheRoundsItWasReadIn(t *testing.T) {
	round := func(n int64, cpu time.Duration, read bool) result {
		r := result{n: n, elapsed: time.Second}
		if read {
			r.cpu, r.cpuRequests = cpu, n
		}
		return r
	}
	cases := []struct {
		name   string
		rounds []result
		want   float64
		ok     bool
	}{
		{"every round read", []result{round(1000, 20*time.Millisecond, true), round(3000, 40*time.Millisecond, true)}, 15, true},
		{"one round not read", []result{round(1000, 20*time.Millisecond, true), round(3000, 0, false)}, 20, true},
		{"no round read", []result{round(1000, 0, false), round(3000, 0, false)}, 0, false},
		{"no request answered", []result{round(0, 20*time.Millisecond, true)}, 0, false},
	}
	for _, c := range cases {
		got, ok := merge(c.rounds...).cpuPerRequest()
		if ok != c.ok || (ok && (got < c.want-1e-9 || got > c.want+1e-9)) {
			t.Errorf("%s: %.3f µs, %v; want %.3f, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
