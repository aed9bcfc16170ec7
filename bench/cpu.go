package main

// The CPU a server's process spends per request: its user and system time, read from /proc around
// each wrk round. On a shared machine the rates move from one round to the next; the CPU a process
// spends on each request moves far less.

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// processCPU is the CPU time process pid has spent so far: the user and system time of all its
// threads. ok is false when it cannot be read (pid 0, no /proc off Linux, the process gone): the
// figure is then left out of the report, and the benchmark goes on.
func processCPU(pid int) (cpu time.Duration, ok bool) {
	if pid <= 0 {
		return 0, false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	ticks, err := statCPUTicks(string(stat))
	if err != nil {
		return 0, false
	}
	return time.Duration(ticks) * time.Second / userHZ, true
}

// userHZ is the unit of the times in /proc/<pid>/stat: the kernel's USER_HZ, which is 100 on every
// architecture Go runs Linux on (only alpha and ia64 differ).
const userHZ = 100

// statCPUTicks is utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in clock ticks. The
// fields are counted from the last ')': the command name in field 2 is in parentheses and may hold
// spaces and parentheses itself.
func statCPUTicks(stat string) (uint64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("no ')' closing the command name")
	}
	// After the name come field 3 (the state) onwards: utime and stime are the 12th and 13th.
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want 13 or more", len(fields))
	}
	utime, err := strconv.ParseUint(fields[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	stime, err := strconv.ParseUint(fields[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return utime + stime, nil
}

// cpuPerRequestUS is cpu spread over the requests answered while it was spent, in µs; ok is false
// when there were none, so there is no figure to report.
func cpuPerRequestUS(cpu time.Duration, requests int64) (us float64, ok bool) {
	if requests <= 0 {
		return 0, false
	}
	return float64(cpu) / float64(time.Microsecond) / float64(requests), true
}
