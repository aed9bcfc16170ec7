package residency

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// residentFileBytes is RssFile of /proc/self/status: the file-backed pages the process has mapped.
func residentFileBytes(t *testing.T) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("RssFile line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

func TestReleaseGivesBackTheExecutablesPagesAndTheProcessRunsOn(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	before := residentFileBytes(t)
	got, err := ReleaseReadOnlyPages(exe, "")
	if err != nil {
		t.Fatal(err)
	}
	after := residentFileBytes(t)
	if got.Mappings == 0 || got.Bytes <= 0 {
		t.Fatalf("released %+v: want the code and read-only data mappings, with what was resident", got)
	}
	// The test binary's own code is mapped back as it runs, so not all of it stays released.
	if after >= before {
		t.Fatalf("file-backed resident memory %d bytes before, %d after releasing %d", before, after, got.Bytes)
	}
	// Code and data used after the release still work: format something through code paths
	// the test has not run yet.
	if s := strconv.FormatFloat(1.5e300, 'g', -1, 64); s != "1.5e+300" {
		t.Fatalf("FormatFloat after release = %q", s)
	}
}

func TestMappingsWithWrittenPagesOrOtherFilesAreNotCandidates(t *testing.T) {
	smaps := []byte(`00400000-00500000 r-xp 00000000 fd:01 42 /opt/wcpd
Rss:                 512 kB
Private_Dirty:       512 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
00500000-00600000 r--p 00100000 fd:01 42 /opt/wcpd
Rss:                 256 kB
Private_Dirty:         8 kB
Anonymous:             8 kB
00600000-00700000 r--p 00000000 fd:01 43 /usr/lib/libc.so.6
Rss:                 100 kB
00700000-00800000 r-xp 00000000 fd:01 42 /opt/wcpd (deleted)
Rss:                 100 kB
`)
	got := fileMappings(smaps, "/opt/wcpd")
	if len(got) != 2 {
		t.Fatalf("mappings of /opt/wcpd: %+v (want the two that name it, not libc nor the deleted file)", got)
	}
	if got[0].perms != "r-xp" || got[0].rss != 512<<10 || got[0].anonymous != 0 || got[0].start != 0x400000 || got[0].end != 0x500000 {
		t.Fatalf("first mapping %+v", got[0])
	}
	if got[1].anonymous != 8<<10 {
		t.Fatalf("second mapping %+v: its written pages must show, so it is left alone", got[1])
	}
}
