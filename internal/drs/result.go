package drs

import (
	"fmt"
)

// Result reports the whole tree as it stands.
func (m *Model) Result() Result {
	r := Result{
		Capacity:         m.capacity,
		CPUReservedMHz:   m.root.used[cpu],
		MemoryReservedMB: m.root.used[mem],
	}
	slab := make([]NodeResult, countCompiled(m.root))
	r.Children, _ = m.results(m.root, slab)
	if r.Children == nil {
		r.Children = []NodeResult{}
	}
	return r
}

func countCompiled(n *node) int {
	total := len(n.children)
	for _, c := range n.children {
		total += countCompiled(c)
	}
	return total
}

// results fills the results for p's children from slab, keeping siblings
// contiguous, and returns what is left of slab.
func (m *Model) results(p *node, slab []NodeResult) ([]NodeResult, []NodeResult) {
	k := len(p.children)
	if k == 0 {
		return nil, slab
	}
	out, slab := slab[:k:k], slab[k:]
	var total [2]float64
	for _, c := range p.children {
		total[cpu] += float64(c.shares[cpu])
		total[mem] += float64(c.shares[mem])
	}
	for i, c := range p.children {
		nr := &out[i]
		*nr = NodeResult{
			Name:                c.name,
			Type:                c.kind,
			CPUShares:           c.shares[cpu],
			MemoryShares:        c.shares[mem],
			CPUSharePercent:     100 * float64(c.shares[cpu]) / total[cpu],
			MemorySharePercent:  100 * float64(c.shares[mem]) / total[mem],
			CPUReservedMHz:      c.held[cpu],
			MemoryReservedMB:    c.held[mem],
			CPUEntitlementMHz:   c.ent[cpu],
			MemoryEntitlementMB: c.ent[mem],
			CPUBound:            c.bound[cpu].Bound(),
			MemoryBound:         c.bound[mem].Bound(),
			QoSClass:            c.qos,
		}
		if c.kind != KindResourcePool {
			nr.Size = c.vm
		}
		if unmet := m.unmet[c]; unmet != nil {
			for _, w := range unmet {
				if w != nil {
					nr.Warnings = append(nr.Warnings, *w)
				}
			}
		}
		if c.kind == KindResourcePool && k > 1 {
			for d, pct := range [2]float64{nr.CPUSharePercent, nr.MemorySharePercent} {
				if pct < m.warnPercent {
					nr.Warnings = append(nr.Warnings, lowShareWarning(c, d, pct, k, m.warnPercent))
				}
			}
		}
		nr.Children, slab = m.results(c, slab)
	}
	return out, slab
}

func lowShareWarning(n *node, d int, pct float64, siblings int, threshold float64) Warning {
	amount := formatAmount(d, n.ent[d])
	return Warning{
		Code:     WarnLowShare,
		Resource: resourceNames[d],
		Message: fmt.Sprintf("%s holds %.2f%% of the %s shares among the %d children of %s (threshold %g%%): "+
			"when they all want more than there is, it is entitled to %s. Protect what must run there with "+
			"reservations (Kubernetes requests), give it higher shares, or move some of its siblings elsewhere.",
			namePath(n), pct, resourceNames[d], siblings, namePath(n.parent), threshold, amount),
	}
}

// formatAmount renders MHz as GHz and MB as GB, as vSphere's client does.
func formatAmount(d int, v int64) string {
	if v == unlimited {
		return "unlimited"
	}
	if d == cpu {
		if v < 1000 {
			return fmt.Sprintf("%d MHz", v)
		}
		return fmt.Sprintf("%.2f GHz", float64(v)/1000)
	}
	if v < 1024 {
		return fmt.Sprintf("%d MB", v)
	}
	return fmt.Sprintf("%.2f GB", float64(v)/1024)
}
