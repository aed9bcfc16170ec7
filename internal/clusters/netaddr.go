package clusters

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/wcpd/wcpd/internal/vapi"
)

// span is an inclusive range of IPv4 addresses, as 32-bit numbers, with where it came from in the
// request, so an overlap can name both fields.
type span struct {
	first, last uint32
	field       string
	text        string
}

func (s span) overlaps(o span) bool { return s.first <= o.last && o.first <= s.last }

func ipv4(s string) (uint32, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}

func ipString(n uint32) string {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// maskPrefix turns a dotted subnet mask into its prefix length; ok is false unless the mask is
// contiguous ones followed by zeros.
func maskPrefix(mask string) (int, bool) {
	m, ok := ipv4(mask)
	if !ok {
		return 0, false
	}
	ones := bits.LeadingZeros32(^m)
	if ones == 32 {
		return 32, true
	}
	if m<<ones != 0 {
		return 0, false
	}
	return ones, true
}

func prefixMask(prefix int) uint32 {
	if prefix <= 0 {
		return 0
	}
	return ^uint32(0) << (32 - prefix)
}

func maskString(prefix int) string { return ipString(prefixMask(prefix)) }

// checkCIDR validates an Ipv4Cidr and returns its span. The address must be the network address:
// a CIDR with host bits set is almost always a typo.
func checkCIDR(c Ipv4Cidr, field string, errs *vapi.FieldErrors) (span, bool) {
	text := fmt.Sprintf("%s/%d", c.Address, c.Prefix)
	addr, ok := ipv4(c.Address)
	if !ok {
		errs.Add(field+".address", c.Address, "must be an IPv4 address")
		return span{}, false
	}
	if c.Prefix < 1 || c.Prefix > 30 {
		errs.Add(field+".prefix", c.Prefix, "must be between 1 and 30")
		return span{}, false
	}
	mask := prefixMask(int(c.Prefix))
	if addr&^mask != 0 {
		errs.Add(field, text, fmt.Sprintf("is not a network address; did you mean %s/%d", ipString(addr&mask), c.Prefix))
		return span{}, false
	}
	return span{first: addr, last: addr | ^mask, field: field, text: text}, true
}

// checkRange validates an address range of count addresses from start and returns its span.
func checkRange(start string, count int64, startField, countField string, errs *vapi.FieldErrors) (span, bool) {
	addr, ok := ipv4(start)
	if !ok {
		errs.Add(startField, start, "must be an IPv4 address")
		return span{}, false
	}
	if count < 1 {
		errs.Add(countField, count, "must be at least 1")
		return span{}, false
	}
	if uint64(addr)+uint64(count)-1 > 0xffffffff {
		errs.Add(countField, count, "runs past 255.255.255.255")
		return span{}, false
	}
	last := addr + uint32(count-1)
	return span{first: addr, last: last, field: startField, text: fmt.Sprintf("%s-%s", start, ipString(last))}, true
}

// checkSubnet validates that a range and its gateway sit in the subnet the mask describes, and that
// the gateway is not one of the range's addresses.
func checkSubnet(r span, gateway, mask, gatewayField, maskField string, errs *vapi.FieldErrors) {
	prefix, ok := maskPrefix(mask)
	if !ok {
		errs.Add(maskField, mask, "must be a subnet mask such as 255.255.255.0")
		return
	}
	gw, ok := ipv4(gateway)
	if !ok {
		errs.Add(gatewayField, gateway, "must be an IPv4 address")
		return
	}
	m := prefixMask(prefix)
	if gw&m != r.first&m || r.last&m != r.first&m {
		errs.Add(gatewayField, gateway, fmt.Sprintf("and the range %s are not in one %s subnet", r.text, mask))
		return
	}
	if gw >= r.first && gw <= r.last {
		errs.Add(gatewayField, gateway, fmt.Sprintf("lies inside the address range %s", r.text))
	}
	if prefix < 31 && (r.first&^m == 0 || r.last&^m == ^m) {
		errs.Add(r.field, r.text, "includes the subnet's network or broadcast address")
	}
}

// checkOverlaps reports every pair of spans that overlap.
func checkOverlaps(spans []span, errs *vapi.FieldErrors) {
	for i := range spans {
		for j := i + 1; j < len(spans); j++ {
			if spans[i].overlaps(spans[j]) {
				errs.Add(spans[j].field, spans[j].text, fmt.Sprintf("overlaps %s (%s)", spans[i].field, spans[i].text))
			}
		}
	}
}

// gatewayWithPrefix parses the 8.0 API's "gateway/prefix" notation (e.g. 10.0.0.1/24).
func gatewayWithPrefix(s string) (gateway string, prefix int, ok bool) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil || !p.Addr().Is4() || p.Bits() < 1 || p.Bits() > 30 {
		return "", 0, false
	}
	return p.Addr().String(), p.Bits(), true
}

// rangeToCIDR turns an address range that is exactly one aligned CIDR block into that block.
func rangeToCIDR(r IPRange) (Ipv4Cidr, bool) {
	addr, ok := ipv4(r.Address)
	if !ok || r.Count < 1 || r.Count > 1<<31 || r.Count&(r.Count-1) != 0 {
		return Ipv4Cidr{}, false
	}
	prefix := 32 - bits.TrailingZeros64(uint64(r.Count))
	if addr&^prefixMask(prefix) != 0 {
		return Ipv4Cidr{}, false
	}
	return Ipv4Cidr{Address: r.Address, Prefix: int64(prefix)}, true
}

// nthAddress returns the address n after start.
func nthAddress(start string, n int) string {
	a, ok := ipv4(start)
	if !ok {
		return ""
	}
	return ipString(a + uint32(n))
}
