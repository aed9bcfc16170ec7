package drs

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// barWidth is the number of cells of a share bar (5% each).
const barWidth = 20

// RenderTable writes r as two tables, CPU then memory, one row per node
// (indented under its parent) with its shares, a bar of its share among its
// siblings, its entitlement, the reservation it holds and what bound it,
// followed by every warning. It returns the first write error.
func RenderTable(w io.Writer, r Result) error {
	ew := &errWriter{w: w}
	for d := range 2 {
		if d > 0 {
			fmt.Fprintln(ew)
		}
		capacity := []int64{r.Capacity.CPUMHz, r.Capacity.MemoryMB}[d]
		reserved := []int64{r.CPUReservedMHz, r.MemoryReservedMB}[d]
		fmt.Fprintf(ew, "%s: capacity %s, reserved %s", strings.ToUpper(resourceNames[d]),
			formatAmount(d, capacity), formatAmount(d, reserved))
		if d == cpu {
			fmt.Fprintf(ew, ", %d MHz per vCPU", r.Capacity.CPUMHzPerVCPU)
		}
		fmt.Fprintln(ew)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTYPE\tSHARES\tSHARE OF SIBLINGS\tENTITLEMENT\tRESERVED\tBOUND")
		renderRows(tw, r.Children, d, 0)
		tw.Flush()
	}
	var warnings []string
	collectWarnings(r.Children, &warnings)
	if len(warnings) > 0 {
		fmt.Fprintf(ew, "\nWARNINGS\n")
		for _, line := range warnings {
			fmt.Fprintln(ew, line)
		}
	}
	return ew.err
}

func renderRows(w io.Writer, nodes []NodeResult, d, depth int) {
	for _, n := range nodes {
		shares, pct := n.CPUShares, n.CPUSharePercent
		ent, reserved, bound := n.CPUEntitlementMHz, n.CPUReservedMHz, n.CPUBound
		if d == mem {
			shares, pct = n.MemoryShares, n.MemorySharePercent
			ent, reserved, bound = n.MemoryEntitlementMB, n.MemoryReservedMB, n.MemoryBound
		}
		fmt.Fprintf(w, "%s%s\t%s\t%s\t%6.2f%% %s\t%s\t%s\t%s\n",
			strings.Repeat("  ", depth), n.Name, shortKind(n.Type), groupDigits(shares),
			pct, bar(pct), formatAmount(d, ent), formatAmount(d, reserved), bound)
		renderRows(w, n.Children, d, depth+1)
	}
}

// collectWarnings lists warnings in tree order; each message names its node.
func collectWarnings(nodes []NodeResult, out *[]string) {
	for _, n := range nodes {
		for _, wn := range n.Warnings {
			*out = append(*out, fmt.Sprintf("- [%s %s] %s", wn.Resource, wn.Code, wn.Message))
		}
		collectWarnings(n.Children, out)
	}
}

func shortKind(k Kind) string {
	if k == KindResourcePool {
		return "POOL"
	}
	return string(k)
}

func bar(pct float64) string {
	full := int(math.Round(pct / 100 * barWidth))
	full = min(max(full, 0), barWidth)
	return strings.Repeat("█", full) + strings.Repeat("░", barWidth-full)
}

// groupDigits writes 1064960 as 1,064,960, as vSphere's client does.
func groupDigits(v int64) string {
	s := formatInt(v)
	if v < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// errWriter remembers the first write error so the rendering code can stay
// straight-line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	if _, err := e.w.Write(p); err != nil {
		e.err = err
	}
	return len(p), nil
}
