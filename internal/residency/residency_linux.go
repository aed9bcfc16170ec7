package residency

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ReleaseReadOnlyPages unmaps the resident pages of the read-only mappings of the named files (the
// executable's code, read-only data and function tables; a database mapped for reading). The pages
// stay in the kernel's page cache, and a page used again is mapped back on that use, as on the
// first: only what the process keeps using stays resident. Writable mappings are never touched, nor
// a read-only one holding a page the process wrote (a relocation, say: the kernel counts it as
// anonymous), nor a file replaced on disk since it was mapped, so nothing but the files' own pages
// is ever dropped. (Private_Dirty is no guide: it also counts pages of a freshly written file the
// kernel has not yet written back.) The caller must know that the files' mappings are not unmapped
// or moved meanwhile: the ranges are read from /proc/self/smaps first.
func ReleaseReadOnlyPages(files ...string) (Released, error) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return Released{}, err
	}
	var out Released
	for _, file := range files {
		if file == "" {
			continue
		}
		for _, m := range fileMappings(smaps, file) {
			if m.anonymous != 0 || (m.perms != "r-xp" && m.perms != "r--p" && m.perms != "r--s") {
				continue
			}
			// The raw call takes the range as numbers: the mapping is not Go memory to make a slice of.
			if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno != 0 {
				return out, fmt.Errorf("releasing %x-%x of %s: %w", m.start, m.end, file, errno)
			}
			out.Mappings++
			out.Bytes += m.rss
		}
	}
	return out, nil
}

// mapping is one entry of /proc/self/smaps, with the sizes it reports in bytes.
type mapping struct {
	start, end     uintptr
	perms          string
	rss, anonymous int64
}

// fileMappings parses smaps and keeps the mappings of the file at path.
func fileMappings(smaps []byte, path string) []mapping {
	var out []mapping
	var cur *mapping
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && len(fields) >= 5 && !strings.HasSuffix(fields[0], ":") {
			cur = nil
			// The path is the rest of the line; a replaced file shows as "path (deleted)".
			if len(fields) < 6 || strings.Join(fields[5:], " ") != path {
				continue
			}
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			out = append(out, mapping{start: uintptr(start), end: uintptr(end), perms: fields[1]})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil || len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Rss:":
			cur.rss = kb << 10
		case "Anonymous:":
			cur.anonymous = kb << 10
		}
	}
	return out
}
