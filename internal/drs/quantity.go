package drs

import (
	"errors"
	"math"
	"math/big"
	"math/bits"
	"strings"
)

// A small exact parser for Kubernetes quantities, so that this package does
// not need k8s.io/apimachinery. Grammar (as Kubernetes documents it):
//
//	quantity        = [sign] number suffix
//	number          = digits | digits "." [digits] | "." digits
//	suffix          = binarySI | decimalSI | decimalExponent
//	binarySI        = "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
//	decimalSI       = "n" | "u" | "m" | "" | "k" | "M" | "G" | "T" | "P" | "E"
//	decimalExponent = ("e" | "E") [sign] digits
//
// Values are kept as exact rationals; like Kubernetes, conversion to whole
// millicores or bytes rounds up.

var errQuantitySyntax = errors.New("not a Kubernetes quantity (examples: 500m, 2, 1.5, 512Mi, 1G)")

// Bounds that keep arithmetic on hostile input cheap.
const (
	maxQuantityDigits   = 40
	maxQuantityExponent = 30
)

var binarySuffixes = map[string]int64{
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
}

var decimalSuffixes = map[string]int{
	"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}

// parseQuantity returns the exact value of s.
func parseQuantity(s string) (*big.Rat, error) {
	rest := s
	negative := false
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		negative = rest[0] == '-'
		rest = rest[1:]
	}
	intEnd := digitsPrefix(rest)
	intDigits := rest[:intEnd]
	rest = rest[intEnd:]
	fracDigits := ""
	if rest != "" && rest[0] == '.' {
		rest = rest[1:]
		n := digitsPrefix(rest)
		fracDigits = rest[:n]
		rest = rest[n:]
	}
	if intDigits == "" && fracDigits == "" {
		return nil, errQuantitySyntax
	}
	if len(intDigits)+len(fracDigits) > maxQuantityDigits {
		return nil, errors.New("too many digits")
	}

	mantissa, ok := new(big.Int).SetString(intDigits+fracDigits, 10)
	if !ok {
		return nil, errQuantitySyntax
	}
	value := new(big.Rat).SetInt(mantissa)
	exponent := -len(fracDigits)

	switch {
	case binarySuffixes[rest] != 0:
		value.Mul(value, new(big.Rat).SetInt64(binarySuffixes[rest]))
	case isDecimalSuffix(rest):
		exponent += decimalSuffixes[rest]
	case rest[0] == 'e' || rest[0] == 'E':
		e, err := parseExponent(rest[1:])
		if err != nil {
			return nil, err
		}
		exponent += e
	default:
		return nil, errQuantitySyntax
	}
	if exponent < -2*maxQuantityExponent || exponent > 2*maxQuantityExponent {
		return nil, errors.New("exponent out of range")
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exponent))), nil)
	if exponent >= 0 {
		value.Mul(value, new(big.Rat).SetInt(scale))
	} else {
		value.Quo(value, new(big.Rat).SetInt(scale))
	}
	if negative {
		value.Neg(value)
	}
	return value, nil
}

func isDecimalSuffix(s string) bool {
	_, ok := decimalSuffixes[s]
	return ok
}

func parseExponent(s string) (int, error) {
	negative := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		negative = s[0] == '-'
		s = s[1:]
	}
	if s == "" || digitsPrefix(s) != len(s) {
		return 0, errQuantitySyntax
	}
	if len(s) > 2 {
		return 0, errors.New("exponent out of range")
	}
	e := 0
	for _, c := range s {
		e = e*10 + int(c-'0')
	}
	if e > maxQuantityExponent {
		return 0, errors.New("exponent out of range")
	}
	if negative {
		e = -e
	}
	return e, nil
}

func digitsPrefix(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// ceilInt64 rounds v*multiplier up to an int64, failing when it does not fit.
func ceilInt64(v *big.Rat, multiplier int64) (int64, error) {
	scaled := new(big.Rat).Mul(v, new(big.Rat).SetInt64(multiplier))
	q, r := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return 0, errors.New("too large")
	}
	return q.Int64(), nil
}

// ParseCPUMillicores parses a Kubernetes CPU quantity into millicores,
// rounding up as Kubernetes does ("500m" → 500, "1.5" → 1500, "0.0001" → 1).
// Negative values are an error.
func ParseCPUMillicores(s string) (int64, error) {
	return parseNonNegative(s, 1000)
}

// ParseMemoryBytes parses a Kubernetes memory quantity into bytes, rounding
// up ("512Mi" → 536870912, "1G" → 1000000000).
func ParseMemoryBytes(s string) (int64, error) {
	return parseNonNegative(s, 1)
}

func parseNonNegative(s string, multiplier int64) (int64, error) {
	if v, ok := parseCommon(s, multiplier); ok {
		return v, nil
	}
	if strings.TrimSpace(s) != s {
		return 0, errQuantitySyntax
	}
	v, err := parseQuantity(s)
	if err != nil {
		return 0, err
	}
	if v.Sign() < 0 {
		return 0, errors.New("must not be negative")
	}
	return ceilInt64(v, multiplier)
}

// parseCommon is a fast path for the quantities manifests are made of
// ("500m", "2", "1.5", "512Mi", "1G"): a plain decimal with an SI or binary
// suffix that fits in 64-bit arithmetic. It gives the same answer as the
// exact parser or reports !ok and leaves the case to it.
func parseCommon(s string, multiplier int64) (int64, bool) {
	i := digitsPrefix(s)
	intDigits := s[:i]
	fracDigits := ""
	if i < len(s) && s[i] == '.' {
		n := digitsPrefix(s[i+1:])
		fracDigits = s[i+1 : i+1+n]
		i += 1 + n
	}
	if len(intDigits)+len(fracDigits) == 0 || len(intDigits)+len(fracDigits) > 18 {
		return 0, false
	}
	var mantissa uint64
	for _, c := range intDigits + fracDigits {
		mantissa = mantissa*10 + uint64(c-'0')
	}
	exponent := -len(fracDigits)
	binary := uint64(1)
	switch suffix := s[i:]; suffix {
	case "n", "u":
		return 0, false
	default:
		if b, ok := binarySuffixes[suffix]; ok {
			binary = uint64(b)
		} else if e, ok := decimalSuffixes[suffix]; ok {
			exponent += e
		} else {
			return 0, false
		}
	}
	for m := multiplier; m > 1; m /= 10 {
		exponent++
	}
	hi, value := bits.Mul64(mantissa, binary)
	if hi != 0 {
		return 0, false
	}
	for ; exponent > 0; exponent-- {
		if hi, value = bits.Mul64(value, 10); hi != 0 {
			return 0, false
		}
	}
	if exponent < 0 {
		if exponent < -19 {
			return 0, false
		}
		divisor := uint64(1)
		for ; exponent < 0; exponent++ {
			divisor *= 10
		}
		q, r := value/divisor, value%divisor
		if r != 0 {
			q++
		}
		value = q
	}
	if value > math.MaxInt64 {
		return 0, false
	}
	return int64(value), true
}
