package main

// The CPU a server's process spends per request: its user and system time, read from /proc around
// each wrk round. On a shared machine the rates move from one round to the next; the CPU a process
// spends on each request moves far less.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"
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
	hz := clockTicksPerSecond()
	return time.Duration(ticks/hz)*time.Second + time.Duration(ticks%hz)*time.Second/time.Duration(hz), true
}

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

// atClkTck is the aux vector's entry for the clock tick (AT_CLKTCK of <elf.h>).
const atClkTck = 17

// clockTicksPerSecond is the unit of the times in /proc/<pid>/stat (the kernel's USER_HZ). Linux
// reports 100 on every common configuration; the kernel also gives it to every process in its aux
// vector (AT_CLKTCK), which is where the C library's sysconf(_SC_CLK_TCK) reads it, so it is read
// there, without cgo, and 100 is kept when it cannot be.
var clockTicksPerSecond = sync.OnceValue(func() uint64 {
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	if hz, ok := auxvValue(auxv, atClkTck); ok && hz > 0 {
		return hz
	}
	return 100
})

// auxvValue finds key in an aux vector as /proc/self/auxv holds it: pairs of native words, key then
// value, up to a key of 0.
func auxvValue(auxv []byte, key uint64) (uint64, bool) {
	const word = bits.UintSize / 8
	at := func(b []byte) uint64 {
		if word == 8 {
			return binary.NativeEndian.Uint64(b)
		}
		return uint64(binary.NativeEndian.Uint32(b))
	}
	for i := 0; i+2*word <= len(auxv); i += 2 * word {
		k := at(auxv[i:])
		if k == 0 {
			break
		}
		if k == key {
			return at(auxv[i+word:]), true
		}
	}
	return 0, false
}
