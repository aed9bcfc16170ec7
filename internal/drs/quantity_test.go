package drs

import "testing"

func TestParseCPUMillicores(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"500m", 500},
		{"2", 2000},
		{"1.5", 1500},
		{"0.5", 500},
		{".5", 500},
		{"5.", 5000},
		{"+1", 1000},
		{"0", 0},
		{"100m", 100},
		{"0.0001", 1}, // rounds up to the next millicore, as Kubernetes does
		{"1e3", 1_000_000},
		{"1E-3", 1},
		{"250000u", 250},
		{"1500000000n", 1500},
		{"1k", 1_000_000},
	} {
		got, err := ParseCPUMillicores(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseCPUMillicores(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseMemoryBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"512Mi", 512 << 20},
		{"1Gi", 1 << 30},
		{"1.5Gi", 3 << 29},
		{"1G", 1_000_000_000},
		{"128974848", 128974848},
		{"129e6", 129_000_000},
		{"129M", 129_000_000},
		{"123Mi", 123 << 20},
		{"1Ki", 1024},
		{"1k", 1000},
		{"2Ti", 2 << 40},
		{"1E", 1_000_000_000_000_000_000}, // exa, not an exponent
		{"0.5", 1},                        // half a byte rounds up
		{"100m", 1},
	} {
		got, err := ParseMemoryBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseMemoryBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseQuantityRejects(t *testing.T) {
	for _, in := range []string{
		"", " 1", "1 ", "-1", "-500m", "abc", "1.2.3", ".", "+", "1e", "1e+", "1ee3", "1Mb", "1mi",
		"1KiB", "1 Gi", "0x10", "1,5", "1e999", "9999999999999999999999999999999999999999999999",
		"10Ei", // beyond int64 bytes
	} {
		if v, err := ParseMemoryBytes(in); err == nil {
			t.Errorf("ParseMemoryBytes(%q) = %d, want an error", in, v)
		}
	}
}

// The fast path for common quantities must agree with the exact parser.
func TestParseCommonAgreesWithExactParser(t *testing.T) {
	var inputs []string
	for _, num := range []string{"0", "1", "5", "0.5", ".25", "1.", "1.5", "123.456", "999999999", "0.0001", "12345678901234567", "100000000000000000"} {
		for _, suffix := range []string{"", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"} {
			inputs = append(inputs, num+suffix)
		}
	}
	fastOnes := 0
	for _, in := range inputs {
		for _, multiplier := range []int64{1, 1000} {
			fast, ok := parseCommon(in, multiplier)
			if !ok {
				continue
			}
			fastOnes++
			v, err := parseQuantity(in)
			if err != nil {
				t.Fatalf("%q: fast path accepted what the exact parser rejects: %v", in, err)
			}
			exact, err := ceilInt64(v, multiplier)
			if err != nil || exact != fast {
				t.Errorf("%q ×%d: fast path %d, exact %d (%v)", in, multiplier, fast, exact, err)
			}
		}
	}
	if fastOnes < len(inputs) {
		t.Errorf("the fast path took only %d of %d cases", fastOnes, 2*len(inputs))
	}
}
