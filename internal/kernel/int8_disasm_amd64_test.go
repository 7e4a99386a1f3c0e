//go:build amd64 && !noasm

package kernel

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestInt8VNNIOperands checks, on any amd64 CPU, what the Go assembler made
// of the VNNI kernel: VPDPBUSD multiplies its first source as unsigned
// bytes by its second as signed bytes, so the biased activations (Z8, Z9)
// must be the first source and the weights (Z10) the second; the kernel's
// only test on hardware is TestInt8Gemm on a CPU with AVX512-VNNI. It
// disassembles this test binary with GNU objdump and skips without it or
// without symbols (.ci/run runs it from go test -c).
func TestInt8VNNIOperands(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("objdump (binutils) not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	out, err := exec.Command(objdump, "-d", "--no-show-raw-insn", exe).Output()
	if err != nil {
		t.Skipf("objdump: %v", err)
	}
	text := string(out)
	start := strings.Index(text, "int8x2x4VNNI.abi0>:")
	if start < 0 {
		t.Skip("int8x2x4VNNI not in the disassembly: plain go test strips symbols; .ci/run builds the test binary with go test -c")
	}
	body := text[start:]
	if end := strings.Index(body, "\tret"); end > 0 {
		body = body[:end]
	}
	// AT&T order: vpdpbusd %signed, %unsigned, %dst.
	re := regexp.MustCompile(`vpdpbusd %zmm(\d+),%zmm(\d+),%zmm(\d+)`)
	ops := re.FindAllStringSubmatch(body, -1)
	if len(ops) != 8 {
		t.Fatalf("found %d vpdpbusd in int8x2x4VNNI, want 8:\n%s", len(ops), body)
	}
	for i, op := range ops {
		signed, unsigned, dst := op[1], op[2], op[3]
		wantUnsigned := "8"
		if i%2 == 1 {
			wantUnsigned = "9"
		}
		if signed != "10" || unsigned != wantUnsigned || dst != []string{"0", "4", "1", "5", "2", "6", "3", "7"}[i] {
			t.Errorf("vpdpbusd #%d: signed zmm%s, unsigned zmm%s, into zmm%s", i, signed, unsigned, dst)
		}
	}
	for _, want := range []string{"vpxord (%rsi,%rax,1),%zmm15,%zmm8", "vpxord (%r11,%rax,1),%zmm15,%zmm9", "vpbroadcastd %eax,%zmm15"} {
		if !strings.Contains(body, want) {
			t.Errorf("int8x2x4VNNI lacks %q (the +128 bias of the activations)", want)
		}
	}
}
